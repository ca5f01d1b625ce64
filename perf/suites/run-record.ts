// What every loadgen-driven trial records beside its own figures (the server's CPU over the
// window, pinning, how the server stopped, the loadgen's error counts), and how a run and a
// cell of runs are judged from it. Shared by the round-trip suites (tcp-report.ts) and the
// flood suite (flood-report.ts).
import os from 'node:os';
import { BUSY_WARN } from '../lib/idle.js';
import type { Background, CellOf } from './interleave.js';
import type { LoadgenErrors } from '../lib/loadgen.js';
import type { Pinning } from '../lib/pin.js';
import { busyShare } from '../lib/stats.js';
import type { TrialResultOf } from '../lib/trial.js';

export interface TrialRecord extends LoadgenErrors {
  /** Server CPU s (its whole process tree) over the measured window; null without a window. */
  cpuSeconds: number | null;
  /** Pinned runs: share of the server's cores it kept busy in the window (null unpinned). */
  serverBusy: number | null;
  windowSeconds: number | null;
  /** Server CPU s over the whole loadgen run (connect + warmup + measurement + close). */
  trialCpuSeconds: number;
  wallSeconds: number;
  backgroundCpuSeconds: number;
  loadgenExit: number;
  loadgenStderr: string;
  forcedStop: boolean;
  strays: boolean;
  serverExit: number | null;
  serverSignal: string | null;
  /** Pinned runs: the server's tasks found off its cores (empty: pinning held); null unpinned. */
  strayTasks: string[] | null;
  /** Unix-socket suites only: the server left its socket file behind when it exited. */
  socketLeft?: boolean;
}

/** The trial's part of a run record. */
export function trialRecord(t: TrialResultOf<LoadgenErrors>, pinning: Pinning | null): TrialRecord {
  const rec: TrialRecord = {
    cpuSeconds: t.cpuSeconds,
    serverBusy: pinning ? busyShare(t.cpuSeconds, t.windowSeconds, pinning.server.length) : null,
    windowSeconds: t.windowSeconds,
    trialCpuSeconds: t.trialCpuSeconds,
    wallSeconds: t.wallSeconds,
    backgroundCpuSeconds: t.backgroundCpuSeconds,
    errors: t.load.errors,
    mismatches: t.load.mismatches,
    earlyCloses: t.load.earlyCloses,
    connectErrors: t.load.connectErrors,
    ioErrors: t.load.ioErrors,
    loadgenExit: t.loadgenExit,
    loadgenStderr: t.loadgenStderr,
    forcedStop: t.stop.forced,
    strays: t.stop.strays,
    serverExit: t.stop.code,
    serverSignal: t.stop.signal,
    strayTasks: t.strayTasks,
  };
  // Only where it means something, so the TCP records keep their shape.
  if (t.socketLeft !== null) rec.socketLeft = t.socketLeft;
  return rec;
}

/**
 * A run is noisy when foreign work took more than BUSY_WARN of the whole
 * machine while it ran: on 2 cores that is a fifth of a core stolen.
 */
export function isNoisy(r: TrialRecord): boolean {
  return r.backgroundCpuSeconds > BUSY_WARN * os.cpus().length * r.wallSeconds;
}

/** What is wrong with one run (`run` names it), appended to the suite's failures and warnings. */
export function runProblems(run: string, r: TrialRecord, failures: string[], warnings: string[]): void {
  if (r.errors > 0) {
    const detail = `mismatches ${r.mismatches}, early closes ${r.earlyCloses}, connect errors ${r.connectErrors}, io errors ${r.ioErrors}`;
    failures.push(`${run}: loadgen saw ${r.errors} errors (${detail})${r.loadgenStderr ? `\n    ${r.loadgenStderr.split('\n').join('\n    ')}` : ''}`);
  } else if (r.loadgenExit !== 0) {
    failures.push(`${run}: loadgen exited ${r.loadgenExit}: ${r.loadgenStderr}`);
  }
  if (isNoisy(r)) {
    warnings.push(`${run}: ${r.backgroundCpuSeconds.toFixed(2)} CPU s of background work during ${r.wallSeconds.toFixed(1)} s`);
  }
  if (r.strayTasks && r.strayTasks.length > 0) {
    failures.push(`${run}: pinning did not hold, ${r.strayTasks.length} task(s) of the server off its cores: ${r.strayTasks.slice(0, 5).join('; ')}`);
  }
  if (r.forcedStop) warnings.push(`${run}: server ignored SIGTERM for 5 s and was SIGKILLed`);
  else if (r.serverExit !== 0) warnings.push(`${run}: server exited with code ${r.serverExit ?? '-'} signal ${r.serverSignal ?? '-'} after SIGTERM`);
  if (r.strays) warnings.push(`${run}: server left processes behind after exiting (killed)`);
  if (r.socketLeft) warnings.push(`${run}: server left its socket file behind after exiting (removed)`);
}

/**
 * Every cell's failure and every run's problems (`more` adds a suite's own warning for a run),
 * with a warning first when the machine was busy outside the trials.
 */
export function cellsProblems<R extends TrialRecord>(
  cells: readonly CellOf<{ name: string }, R>[], bg: Background, more: (run: string, r: R) => string | null = () => null,
): { failures: string[]; warnings: string[] } {
  const failures: string[] = [];
  const warnings: string[] = [];
  const busiest = Math.max(bg.busyBefore, bg.busyAfter);
  if (busiest > BUSY_WARN) {
    warnings.push(`machine was ${(busiest * 100).toFixed(0)}% busy outside the trials; something else competes for the CPUs, so treat the numbers as noisy`);
  }
  for (const cell of cells) {
    const where = `${cell.contender} / ${cell.workload.name}`;
    if (cell.failure !== null) failures.push(`${where}: ${cell.failure}`);
    cell.runs.forEach((r, i) => {
      const run = `${where} run ${i + 1}`;
      runProblems(run, r, failures, warnings);
      const extra = more(run, r);
      if (extra !== null) warnings.push(extra);
    });
  }
  return { failures, warnings };
}

const unpinned = (runs: readonly TrialRecord[]): boolean => runs.some((r) => (r.strayTasks?.length ?? 0) > 0);

/** The table's check column for a cell: FAILED, BAD BYTES, ERRORS, NOT PINNED, or ok with notes. */
export function cellStatus(failure: string | null, runs: readonly TrialRecord[]): string {
  if (failure !== null) return 'FAILED';
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  if (runs.some((r) => r.mismatches > 0)) return `BAD BYTES (errors: ${errors})`;
  if (errors > 0) return `ERRORS (${errors})`;
  if (unpinned(runs)) return 'NOT PINNED';
  const notes: string[] = [];
  const noisy = runs.filter(isNoisy).length;
  if (noisy > 0) notes.push(`noisy ${noisy}/${runs.length}`);
  if (runs.some((r) => r.forcedStop)) notes.push('needed SIGKILL');
  return notes.length > 0 ? `ok (${notes.join(', ')})` : 'ok';
}

/** The results' `ok` for a cell: it ran, the loadgen saw no errors, pinning held. */
export function cellOk(failure: string | null, runs: readonly TrialRecord[]): boolean {
  return failure === null && runs.every((r) => r.errors === 0) && !unpinned(runs);
}

/** The runs as the results keep them: loadgen stderr only where the run had errors (elsewhere it is empty or noise). */
export function runsForJson<R extends TrialRecord>(runs: readonly R[]): (Omit<R, 'loadgenStderr'> & { loadgenStderr?: string })[] {
  return runs.map(({ loadgenStderr, ...rest }) => (rest.errors > 0 ? { ...rest, loadgenStderr } : rest));
}
