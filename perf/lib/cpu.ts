import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** pid -> utime+stime in clock ticks, for a process and all its descendants. */
export type CpuSnapshot = Map<number, number>;

let ticksPerSecond: number | undefined;

// Node exposes no sysconf(); USER_HZ is 100 almost everywhere, but asking
// costs one exec per run and avoids a silent 10x error on odd kernels.
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatFields {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited between listing and reading
  }
  // comm (field 2) may contain spaces and ')' so split after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { ppid, ticks: utime + stime };
}

function procTable(): Map<number, StatFields> {
  const stats = new Map<number, StatFields>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s) stats.set(Number(entry), s);
  }
  return stats;
}

/** `root` and its descendants that are in `stats`, parents before children. */
function treeOf(stats: ReadonlyMap<number, StatFields>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    if (!stats.has(pid)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The pids of a process and all its descendants (cluster workers, a wrapped redis-server). */
export function processTree(root: number): number[] {
  return treeOf(procTable(), root);
}

/**
 * Process-wide counters already include every thread (worker_threads too),
 * so only child processes (cluster workers) need the /proc walk.
 */
export function cpuSnapshot(root: number): CpuSnapshot {
  const stats = procTable();
  return new Map(treeOf(stats, root).map((pid) => [pid, stats.get(pid)!.ticks]));
}

/**
 * CPU seconds spent between two snapshots. Processes born in between count
 * from zero; ones that died in between are lost (their ticks move to the
 * parent's cutime only once reaped), which a healthy server never does mid-run.
 */
export function cpuSecondsBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / clockTicks();
}

/** Busy and total clock ticks summed over all CPUs, from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal; guest time is already in user.
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * This process plus its reaped children (the loadgen, once it has exited), in
 * ticks. With the server's own ticks this lets a trial tell how much of the
 * machine's CPU went to something that was not part of the benchmark.
 */
export function selfTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14..17, i.e. rest[11..14].
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i] ?? 0), 0);
}
