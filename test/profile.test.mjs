// A short profiling session names the reactors' own frames, not only the idle main thread.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const run = new URL('../dist/perf/profile/run.js', import.meta.url).pathname;

t.test('npm run profile -- echo --tool cpu-prof writes a flamegraph with the reactor workers\' react frames', { timeout: 90000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-prof-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  // Frames are sampled: react is short, and on a loaded machine the load generator gets little
  // CPU, so 2 s of it could hold no sample of react (seen: 2841 samples, 28 in onBatch, none in react).
  const stdout = execFileSync(process.execPath, [run, 'echo', '--tool', 'cpu-prof', '--seconds', '6', '--out', out], {
    encoding: 'utf8',
    timeout: 80000,
  });
  const file = path.join(out, 'profile-echo-cpu-prof.svg');
  t.match(stdout, /flamegraph: .*profile-echo-cpu-prof\.svg/);
  const svg = fs.readFileSync(file, 'utf8');
  t.match(svg, /^<\?xml/, 'an SVG');
  t.match(svg, /worker thread \d+/, 'worker threads are in it');
  t.match(svg, /react echo\/handler\.js:\d+/, "the example's react function is a frame");
  t.match(svg, /onBatch \w+\/reactor\.js:\d+/, 'so is the reactor batch dispatch');
});
