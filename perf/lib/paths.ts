import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Walk up instead of hard-coding "../../.." so the same code works whether it
// runs from dist/perf/lib (tsc output) or straight from perf/lib (ts loaders).
function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'ringloop') {
        return dir;
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ringloop package.json above ${start}`);
    dir = up;
  }
}

export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
export const resultsDir: string = join(repoRoot, 'perf', 'results');
