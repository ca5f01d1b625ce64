// The bench's pinning (perf/lib/pin.ts): a server started through onCpus() has every thread of
// every process in its tree on the server's cores, and strayTasks() sees any that is not.
// Real processes read through /proc; no mocks.
import t from 'tap';
import os from 'node:os';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { allowedCpus, onCpus, parseCpuList, planPinning, strayTasks } from '../dist/perf/lib/pin.js';
import { processTree } from '../dist/perf/lib/cpu.js';

// A small server-like tree: a process with a worker thread and a child process (the way
// ringloop has reactor threads and node:cluster has workers). It prints its child's pid once
// both exist, then idles until killed.
const TREE = `
const { Worker } = require('node:worker_threads');
const { spawn } = require('node:child_process');
new Worker('setInterval(() => {}, 1000)', { eval: true }).on('online', () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log('ready ' + child.pid);
});
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts the tree (through `argv` prefix), resolves with its root and grandchild pids. */
function startTree(t, prefix) {
  const [cmd, ...args] = [...prefix, process.execPath, '-e', TREE];
  // Its own process group, so the teardown stops the grandchild too.
  const root = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  t.teardown(() => {
    try {
      process.kill(-root.pid, 'SIGKILL');
    } catch {}
  });
  return new Promise((resolve, reject) => {
    let out = '';
    root.stdout.on('data', (c) => {
      out += c;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ root: root.pid, grandchild: Number(m[1]) });
    });
    root.once('exit', (code) => reject(new Error(`tree exited early (${code})`)));
  });
}

/** Every task of every process in the tree: [pid, tid, Cpus_allowed_list]. */
function affinities(root) {
  return processTree(root).flatMap((pid) =>
    readdirSync(`/proc/${pid}/task`).map((tid) => {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      return [pid, Number(tid), /^Cpus_allowed_list:\s*(\S+)/m.exec(status)[1]];
    }));
}

const cpus = allowedCpus();
const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = os.platform() !== 'linux' ? 'Linux only' : cpus.length < 2 ? 'needs 2 CPUs' : !hasTaskset ? 'needs taskset' : false;

t.test('onCpus pins a process, its threads and its child processes', { skip }, async (t) => {
  const server = [cpus[0]];
  const { root, grandchild } = await startTree(t, onCpus(server, []));
  const tasks = affinities(root);
  t.ok(processTree(root).includes(grandchild), 'the grandchild is in the tree');
  // Node's own threads plus the worker: well above one task in the root process.
  t.ok(tasks.filter(([pid]) => pid === root).length > 2, 'the root has several threads');
  t.same([...new Set(tasks.map(([, , list]) => list))], [String(server[0])], 'every task allows only the server CPU');
  t.same(strayTasks(root, server), [], 'strayTasks agrees');
});

t.test('strayTasks names the tasks off the server cores', { skip }, async (t) => {
  const server = [cpus[0]];
  const { root, grandchild } = await startTree(t, onCpus(server, []));
  // What a server that sets its own affinity would do.
  execFileSync('taskset', ['-p', '-c', String(cpus[1]), String(grandchild)], { stdio: 'ignore' });
  const strays = strayTasks(root, server);
  t.equal(strays.length, 1, 'exactly the moved task');
  t.match(strays[0], new RegExp(`^${grandchild}/${grandchild} \\(node\\): ${cpus[1]}$`));
});

t.test('without pinning (--no-pin) the tree keeps every CPU, and strayTasks says so', { skip }, async (t) => {
  const { root } = await startTree(t, onCpus(null, []));
  t.ok(strayTasks(root, [cpus[0]]).length > 2);
});

t.test('CPU lists and the split between server and load generator', async (t) => {
  t.same(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
  t.same(parseCpuList('3'), [3]);
  t.throws(() => parseCpuList('0-x'), /bad CPU list/);
  const noSmt = (c) => [c];
  t.equal(planPinning([0], noSmt), null, 'one CPU: nothing to split');
  t.same(planPinning([0, 1], noSmt), { server: [0], loadgen: [1] });
  t.same(planPinning([0, 1, 2], noSmt), { server: [0, 1], loadgen: [2] }, 'odd: the server gets the larger half');
  t.same(planPinning([4, 5, 6, 7], noSmt), { server: [4, 5], loadgen: [6, 7] }, 'only the allowed CPUs');
  // 4 threads on 2 cores, siblings 0+2 and 1+3: a core is never split between the sides.
  const smt = (c) => (c % 2 === 0 ? [0, 2] : [1, 3]);
  t.same(planPinning([0, 1, 2, 3], smt), { server: [0, 2], loadgen: [1, 3] });
  t.same(planPinning([0, 1], () => [0, 1]), { server: [0], loadgen: [1] }, 'one core of two threads: split by thread');
});
