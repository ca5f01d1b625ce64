// The pinned ruler: the server under test (every thread and process of it) on one set of
// cores, the load generator (and this runner) on the others. Without it, on a 2-core machine
// the two take turns on the same cores and the server's rate measures the scheduler as much as
// the server; pinned, each side has its own cores and the server's CPU time is its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { processTree } from './cpu.js';

/** The cores each side of a trial runs on (as in the results' `pinning`). */
export interface Pinning {
  server: number[];
  loadgen: number[];
}

/** "0-2,5" (the kernel's list format) -> [0, 1, 2, 5]. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad CPU list '${text}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

/** [0, 1, 2, 5] -> "0,1,2,5": what taskset -c takes and what a person reads. */
export const formatCpuList = (cpus: readonly number[]): string => cpus.join(',');

/** One task's line of `/proc/<pid>/task/<tid>/status` (or a process's), or null if it is gone. */
function statusField(path: string, field: string): string | null {
  try {
    const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(path, 'utf8'));
    return m ? m[1]!.trim() : null;
  } catch {
    return null;
  }
}

/** The CPUs a process may run on (its Cpus_allowed_list); this one's by default. */
export function allowedCpus(pid: number | 'self' = 'self'): number[] {
  const list = statusField(`/proc/${pid}/status`, 'Cpus_allowed_list');
  if (list === null) throw new Error(`cannot read the CPU affinity of ${pid}`);
  return parseCpuList(list);
}

/** The hardware threads sharing a core with `cpu` (itself included), from sysfs. */
function siblingsFromSysfs(cpu: number): number[] {
  try {
    return parseCpuList(readFileSync(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`, 'utf8'));
  } catch {
    return [cpu];
  }
}

/**
 * Splits `cpus` in two: whole cores only, so SMT siblings (which share a core's execution
 * units) never sit on both sides; the server gets the first half of the cores, and the larger
 * one when their number is odd (its reactors are what is measured; the loadgens are one or two
 * threads). A single core with several hardware threads is split by thread. Null when there
 * is only one CPU: nothing to split.
 */
export function planPinning(cpus: readonly number[] = allowedCpus(), siblingsOf: (cpu: number) => number[] = siblingsFromSysfs): Pinning | null {
  if (cpus.length < 2) return null;
  const allowed = new Set(cpus);
  const cores = new Map<string, number[]>();
  for (const cpu of [...cpus].sort((a, b) => a - b)) {
    const key = siblingsOf(cpu).filter((c) => allowed.has(c)).join(',');
    cores.set(key, [...(cores.get(key) ?? []), cpu]);
  }
  const groups = cores.size >= 2 ? [...cores.values()] : cpus.map((c) => [c]);
  const k = Math.ceil(groups.length / 2);
  return { server: groups.slice(0, k).flat(), loadgen: groups.slice(k).flat() };
}

/**
 * `argv` run on `cpus` through taskset, which sets the mask and then execs the command, so the
 * pid is the server's own and every thread and child it makes inherits the mask. Unchanged
 * when `cpus` is null (--no-pin).
 */
export function onCpus(cpus: readonly number[] | null, argv: readonly string[]): string[] {
  return cpus === null ? [...argv] : ['taskset', '-c', formatCpuList(cpus), ...argv];
}

/** Throws, saying what to do, when taskset (util-linux) is not on PATH. */
export function requireTaskset(): void {
  if (spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('taskset (util-linux) is not on PATH: install it (apt-get install util-linux) or pass --no-pin');
  }
}

/**
 * Moves every thread of this process onto `cpus`. The runner sits on the loadgen's side: its
 * own work (reading /proc at the window's edges, the chart) then never takes the server's core.
 */
export function pinSelf(cpus: readonly number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', formatCpuList(cpus), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Every task (thread) of every process in the tree under `root` whose allowed CPUs are not
 * exactly `cpus`, as "pid/tid (name): list"; empty when the whole tree is pinned. Read from
 * /proc/<pid>/task/<tid>/status, so threads a server sets its own affinity on are caught too.
 */
export function strayTasks(root: number, cpus: readonly number[]): string[] {
  const want = formatCpuList([...cpus].sort((a, b) => a - b));
  const strays: string[] = [];
  for (const pid of processTree(root)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited since the walk
    }
    for (const tid of tids) {
      const path = `/proc/${pid}/task/${tid}/status`;
      const list = statusField(path, 'Cpus_allowed_list');
      if (list === null) continue;
      const got = formatCpuList(parseCpuList(list));
      if (got !== want) strays.push(`${pid}/${tid} (${statusField(path, 'Name') ?? '?'}): ${list}`);
    }
  }
  return strays;
}

/** "server on CPU 0, load generator on CPU 1" or "not pinned", for logs and tables. */
export function describePinning(p: Pinning | null): string {
  if (p === null) return 'not pinned (server and load generator share every core)';
  const cpu = (c: readonly number[]): string => `CPU${c.length > 1 ? 's' : ''} ${formatCpuList(c)}`;
  return `server on ${cpu(p.server)}, load generator on ${cpu(p.loadgen)}`;
}
