// The package's types catch the mistakes they should: tsc --noEmit over test/types/, right uses
// and wrong ones marked `@ts-expect-error` (tsc fails on such a line that compiles, TS2578), from
// an ES module file and a CommonJS one, importing 'ringloop' by name as a user does.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, run } from './helpers/pack.mjs';

const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const DIR = path.join(ROOT, 'test/types');

t.test('tsc --noEmit over right and wrong uses of the types', { timeout: 120000 }, async (t) => {
  const expected = fs
    .readdirSync(DIR)
    .filter((f) => /\.(c|m)?ts$/.test(f))
    .reduce((n, f) => n + (fs.readFileSync(path.join(DIR, f), 'utf8').match(/@ts-expect-error/g) ?? []).length, 0);
  t.ok(expected >= 15, `the wrong uses are there (${expected} @ts-expect-error lines)`);
  const r = await run(process.execPath, [TSC, '-p', path.join(DIR, 'tsconfig.json')], { cwd: ROOT, timeoutMs: 110000 });
  t.equal(r.code, 0, `tsc accepts every right use and rejects every wrong one\n${r.stdout}${r.stderr}`);
});
