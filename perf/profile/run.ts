// Profiling sessions: `npm run profile -- <example> [--tool cpu-prof|perf|0x|clinic] [--seconds N] [--out DIR]`.
// Starts the example under load from the matching load generator and writes a flamegraph:
// - cpu-prof (default): an SVG of every thread's JavaScript (V8's sampler, one profile per
//   thread, start-up left out); native time is not in it (see perf).
// - perf: an SVG of every thread with native frames (the reactors' C++ loop, syscalls) and JS.
// - 0x / clinic (clinic flame): their own interactive HTML flamegraph. Both sample the main
//   isolate only, so the example runs with its one reactor on the main thread (in_thread.ts).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { repoRoot } from '../lib/paths.js';
import { ensureLoadgen } from '../lib/loadgen.js';
import { flamegraphSvg, type Folded } from './flame.js';
import { foldCpuProfile } from './cpuprofile.js';
import { foldPerfScript } from './perf-script.js';

type Tool = 'cpu-prof' | 'perf' | '0x' | 'clinic';

interface Args {
  example: string;
  tool: Tool;
  seconds: number;
  out: string;
}

function usage(msg: string): never {
  console.error(`profile: ${msg}\nusage: npm run profile -- <example> [--tool cpu-prof|perf|0x|clinic] [--seconds N] [--out DIR]`);
  process.exit(2);
}

function parse(argv: string[]): Args {
  const example = argv[0];
  if (!example || example.startsWith('-')) usage('missing example name');
  if (!existsSync(join(repoRoot, 'dist/examples', example, 'handler.js'))) usage(`no example named "${example}" (run npm run build first?)`);
  const get = (k: string): string | undefined => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const tool = (get('tool') ?? 'cpu-prof') as Tool;
  if (!['cpu-prof', 'perf', '0x', 'clinic'].includes(tool)) usage(`unknown tool ${tool}`);
  const seconds = Number(get('seconds') ?? 10);
  if (!(seconds > 0)) usage('--seconds must be positive');
  return { example, tool, seconds, out: resolve(get('out') ?? join(repoRoot, 'perf/results')) };
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The load generator that speaks the example's protocol, for `seconds`. */
function loadCommand(example: string, port: number, seconds: number): [string, string[]] {
  if (example === 'http') {
    if (!have('wrk')) usage('the http example is loaded with wrk: install it (perf/setup.sh or apt-get install wrk)');
    return ['wrk', ['-c', '100', '-t', '2', '-d', `${seconds}s`, `http://127.0.0.1:${port}/`]];
  }
  if (example === 'redis') {
    if (!have('redis-benchmark')) usage('the redis example is loaded with redis-benchmark: install redis-tools');
    return ['redis-benchmark', ['-p', String(port), '-t', 'ping,set,get', '-c', '50', '-n', String(40000 * seconds), '-q']];
  }
  const bin = ensureLoadgen((m) => console.error(m));
  return [bin, ['--port', String(port), '--conns', '100', '--size', '64', '--depth', '4', '--seconds', String(seconds), '--warmup', '0']];
}

/** The server process: the example under node (cpu-prof, perf), or under 0x / clinic flame in-thread. */
function serverCommand(tool: Tool, example: string, work: string): [string, string[]] {
  if (tool === '0x' || tool === 'clinic') {
    const inThread = join(repoRoot, 'dist/perf/profile/in_thread.js');
    const node = [process.execPath, inThread, example];
    if (tool === '0x') {
      // 0x's cmd.js runs only as the main module of a process without --import hooks (it checks
      // module.parent === null, which a preloaded ESM hook, e.g. a test runner's, makes undefined):
      // call its exported cmd() instead.
      const cmd = join(repoRoot, 'node_modules/0x/cmd.js');
      const call = 'require(process.argv[1])(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(1); })';
      return [process.execPath, ['-e', call, cmd, '--output-dir', join(work, '0x'), '--', ...node]];
    }
    return [process.execPath, [join(repoRoot, 'node_modules/clinic/bin.js'), 'flame', '--open=false', '--dest', join(work, 'clinic'), '--', ...node]];
  }
  return [process.execPath, [...nodeFlags(tool, work), join(repoRoot, 'dist/examples/run.js'), example, '--addr', 'tcp://127.0.0.1:0']];
}

/** The HTML flamegraph 0x or clinic flame wrote under `work`. */
function toolHtml(tool: Tool, work: string): string {
  const dir = join(work, tool === '0x' ? '0x' : 'clinic');
  const html = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.html')) : [];
  if (html.length === 0) throw new Error(`${tool} wrote no flamegraph under ${dir}`);
  return join(dir, html[0]!);
}

function nodeFlags(tool: Tool, dir: string): string[] {
  if (tool === 'cpu-prof') return ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'];
  if (tool === 'perf') return ['--perf-basic-prof', '--interpreted-frames-native-stack'];
  return [];
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (a.tool === '0x' || a.tool === 'clinic') {
    const bin = join(repoRoot, 'node_modules/.bin', a.tool);
    if (!existsSync(bin)) usage(`${a.tool} is not installed in this project (npm install --save-dev ${a.tool}); cpu-prof and perf need nothing extra`);
  }
  if (a.tool === 'perf' && !have('perf')) usage('perf is not installed (apt-get install linux-perf)');
  mkdirSync(a.out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'ringloop-profile-'));
  const [serverCmd, serverArgs] = serverCommand(a.tool, a.example, work);
  const wrapped = a.tool === '0x' || a.tool === 'clinic';
  // 0x and clinic run in their own process group: SIGINT to the group ends the profiled process
  // and lets the tool write its flamegraph. NO_INSIGHT: clinic asks nothing and reports nothing.
  const server = spawn(serverCmd, serverArgs, {
    cwd: wrapped ? work : repoRoot,
    stdio: ['ignore', 'pipe', wrapped ? 'pipe' : 'inherit'],
    detached: wrapped,
    env: { ...process.env, NO_INSIGHT: '1', NO_UPDATE_NOTIFIER: '1' },
  });
  let toolLog = '';
  server.stderr?.on('data', (d: Buffer) => (toolLog += d));
  const port = await new Promise<number>((ok, fail) => {
    let buf = '';
    server.stdout!.on('data', (d: Buffer) => {
      buf += d;
      const m = /listening tcp:\/\/[^:]+:(\d+)/.exec(buf);
      if (m) ok(Number(m[1]));
    });
    server.once('exit', (c) => fail(new Error(`example exited (${c}) before listening${toolLog ? `\n${toolLog}` : ''}`)));
    setTimeout(() => fail(new Error('example did not print its listening line in 20 s')), 20000);
  });
  let perfRec: ReturnType<typeof spawn> | undefined;
  const perfData = join(work, 'perf.data');
  if (a.tool === 'perf') {
    perfRec = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '499', '-g', '-p', String(server.pid), '-o', perfData, '--', 'sleep', String(a.seconds)], {
      stdio: 'ignore',
    });
  }
  const [cmd, args] = loadCommand(a.example, port, a.seconds);
  console.error(`profile: ${a.tool} on ${a.example} (port ${port}) under ${cmd} for ${a.seconds} s`);
  // cpu-prof samples from process start: what came before the load is left out of the picture.
  const loadStartUs = Number(process.hrtime.bigint() / 1000n);
  spawnSync(cmd, args, { stdio: 'ignore' });
  if (perfRec) await new Promise((r) => perfRec!.once('exit', r));
  const exited = new Promise((r) => server.once('exit', r));
  if (wrapped) process.kill(-server.pid!, 'SIGINT');
  else server.kill('SIGTERM');
  await exited;

  if (wrapped) {
    let html: string;
    try {
      html = toolHtml(a.tool, work);
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${toolLog}`);
    }
    const file = join(a.out, `profile-${a.example}-${a.tool}.html`);
    copyFileSync(html, file);
    rmSync(work, { recursive: true, force: true });
    console.log(`flamegraph: ${file}`);
    console.log(`(${a.tool === '0x' ? '0x' : 'clinic flame'}: V8's --prof ticks of the one reactor, run on the main thread: its JavaScript, and native frames where symbols exist; the addon's own C++ frames are named only by --tool perf)`);
    return;
  }

  const folded: Folded = new Map();
  if (a.tool === 'cpu-prof') {
    // One file per thread: CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile (thread 0 = main).
    for (const f of readdirSync(work).filter((n) => n.endsWith('.cpuprofile'))) {
      const tid = Number(f.split('.')[4]);
      foldCpuProfile(join(work, f), tid === 0 ? 'main thread' : `worker thread ${tid}`, folded, loadStartUs);
    }
  } else if (a.tool === 'perf') {
    foldPerfScript(execFileSync('perf', ['script', '-i', perfData], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString(), folded);
  }
  if (folded.size === 0) throw new Error('no samples were collected');
  const idleNote = a.tool === 'cpu-prof' ? ', JavaScript only (native time is not sampled: see --tool perf), start-up and idle left out' : '';
  const svg = flamegraphSvg(folded, `ringloop ${a.example} — ${a.tool}, ${a.seconds} s under ${cmd}${idleNote}`);
  const file = join(a.out, `profile-${a.example}-${a.tool}.svg`);
  writeFileSync(file, svg);
  rmSync(work, { recursive: true, force: true });
  // The hottest frames of worker threads: where the reactors spend their time.
  const self = new Map<string, number>();
  let total = 0;
  for (const [stack, n] of folded) {
    total += n;
    const frames = stack.split(';');
    const leaf = frames[frames.length - 1]!;
    self.set(leaf, (self.get(leaf) ?? 0) + n);
  }
  const top = [...self].sort((x, y) => y[1] - x[1]).slice(0, 12);
  console.log(`flamegraph: ${file}`);
  if (a.tool === 'cpu-prof') {
    console.log('(cpu-prof shows JavaScript only: the reactors\' native loop and syscalls are not sampled; --tool perf shows them)');
  }
  console.log('hottest frames (self time):');
  for (const [f, n] of top) console.log(`  ${((n / total) * 100).toFixed(1).padStart(5)}%  ${f}`);
  void readFileSync;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
