// Redraws the benchmark chart from saved results:
//   npm run chart -- perf/results/<file>.json [more.json ...] [--out file.svg] [--table | --readme]
// --table prints the README block (tables, machine, commands); --readme also writes it into
// README.md between its bench:start/bench:end markers. Exit codes: 0 ok, 1 bad input, 2 usage.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chartPathFor, loadModel, writeChart } from './lib/chart-files.js';
import { repoRoot } from './lib/paths.js';
import { readmeBlock, replaceBlock } from './lib/readme-table.js';

const USAGE = `usage: npm run chart -- <results.json>... [--out file.svg] [--table | --readme]

  one file: the chart goes next to it (<file>.svg, and .png when rsvg-convert or ImageMagick is installed)
  several files (e.g. separate suite runs): one chart of all of them; name it with --out
  --table    print the README block (chart link, machine, commands, one table per suite); write nothing
  --readme   write the chart and replace README.md's generated block with it`;

function usage(message: string): never {
  process.stderr.write(`chart: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { out: { type: 'string' }, table: { type: 'boolean' }, readme: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const { values, positionals: files } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (files.length === 0) usage('name at least one results file');
  if (files.length > 1 && values.out === undefined) usage('several results files: name the chart with --out');
  if (values.table && values.readme) usage('--table or --readme, not both');
  const out = resolve(values.out ?? chartPathFor(files[0]!));
  const model = loadModel(files);

  // Paths as the README (at the repo root) and a shell in the repo root see them.
  const rel = (p: string): string => relative(repoRoot, resolve(p));
  const sources = files.map(rel);
  const redraw = `npm run chart -- ${sources.join(' ')}${values.out === undefined ? '' : ` --out ${rel(out)}`} --readme`;
  const block = readmeBlock(model, rel(out), sources, redraw);
  if (values.table) {
    process.stdout.write(`${block}\n`);
    return 0;
  }
  for (const line of writeChart(model, out)) process.stdout.write(`${line}\n`);
  if (values.readme) {
    const readme = join(repoRoot, 'README.md');
    writeFileSync(readme, replaceBlock(readFileSync(readme, 'utf8'), block));
    process.stdout.write(`README.md: benchmark block regenerated\n`);
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`chart: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
