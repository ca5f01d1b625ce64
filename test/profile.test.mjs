// A short profiling session names the reactors' own frames, not only the idle main thread.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const run = new URL('../dist/perf/profile/run.js', import.meta.url).pathname;
// The profiled processes run without tap's --import instrumentation, as a user's would: tap adds it
// to NODE_OPTIONS of every process this one spawns, so `env -u` takes it out in the child. (With it,
// Node runs the hooks in a thread of their own, whose isolate 0x and clinic may pick instead of the
// main one.)
const env = { ...process.env };
delete env.NODE_OPTIONS;
const profile = (args, timeout) =>
  execFileSync('env', ['-u', 'NODE_OPTIONS', process.execPath, run, ...args], { encoding: 'utf8', timeout, env });

t.test('npm run profile -- echo --tool cpu-prof writes a flamegraph with the reactor workers\' react frames', { timeout: 90000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-prof-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  // Frames are sampled: react is short, and on a loaded machine the load generator gets little
  // CPU, so 2 s of it could hold no sample of react (seen: 2841 samples, 28 in onBatch, none in react).
  const stdout = profile(['echo', '--tool', 'cpu-prof', '--seconds', '6', '--out', out], 80000);
  const file = path.join(out, 'profile-echo-cpu-prof.svg');
  t.match(stdout, /flamegraph: .*profile-echo-cpu-prof\.svg/);
  const svg = fs.readFileSync(file, 'utf8');
  t.match(svg, /^<\?xml/, 'an SVG');
  t.match(svg, /worker thread \d+/, 'worker threads are in it');
  t.match(svg, /react echo\/handler\.js:\d+/, "the example's react function is a frame");
  t.match(svg, /onBatch \w+\/reactor\.js:\d+/, 'so is the reactor batch dispatch');
  t.match(stdout, /cpu-prof shows JavaScript only/, 'it says native time is not in it');
  t.match(svg, /JavaScript only/, 'so does the picture');
  // Start-up (bootstrap, module loading) ran before the load began: it is left out.
  t.notMatch(svg, /prepareMainThreadExecution|initializeCJSLoader|compileSourceTextModule/, 'no start-up frames');
});

// 0x and clinic flame sample the main isolate: the example runs with its reactor there.
for (const [tool, what] of [
  ['0x', '0x'],
  ['clinic', 'clinic flame'],
]) {
  t.test(`npm run profile -- echo --tool ${tool} runs ${what} and its flamegraph has the reactor's react frame`, { timeout: 150000 }, async (t) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `ringloop-prof-${tool}-`));
    t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
    const stdout = profile(['echo', '--tool', tool, '--seconds', '6', '--out', out], 140000);
    const file = path.join(out, `profile-echo-${tool}.html`);
    t.match(stdout, new RegExp(`flamegraph: .*profile-echo-${tool}\\.html`));
    const html = fs.readFileSync(file, 'utf8');
    t.match(html, /<html/i, 'an HTML flamegraph');
    t.match(html, /react file:\/\/[^"]*\/examples\/echo\/handler\.js:\d+/, "the example's react function is a frame");
    t.match(html, /onBatch file:\/\/[^"]*\/reactor\.js:\d+/, 'so is the reactor batch dispatch');
  });
}
