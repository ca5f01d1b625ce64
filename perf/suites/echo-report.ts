import os from 'node:os';
import type { BenchOptions } from '../lib/args.js';
import { BUSY_WARN } from '../lib/idle.js';
import { machineInfo } from '../lib/report.js';
import { median, ratio } from '../lib/stats.js';
import { fmtFixed, fmtInt, renderTable, type Column } from '../lib/table.js';
import { BASELINE, HEADLINE, PEERS, SUBJECT, WORKLOADS, type Workload } from './echo-config.js';
import type { SuiteOutcome } from './suite.js';

export interface RunRecord {
  msgsPerSec: number;
  cpuSeconds: number;
  wallSeconds: number;
  backgroundCpuSeconds: number;
  msgs: number;
  seconds: number;
  errors: number;
  mismatches: number;
  earlyCloses: number;
  connectErrors: number;
  ioErrors: number;
  loadgenExit: number;
  loadgenStderr: string;
  forcedStop: boolean;
  strays: boolean;
  serverExit: number | null;
  serverSignal: string | null;
}

/** All runs of one contender on one workload. */
export interface Cell {
  workload: Workload;
  contender: string;
  runs: RunRecord[];
  /** Set when the server or loadgen could not produce a result at all. */
  failure: string | null;
}

/**
 * A run is noisy when foreign work took more than BUSY_WARN of the whole
 * machine while it ran: on 2 cores that is a fifth of a core stolen.
 */
export function isNoisy(r: RunRecord): boolean {
  return r.backgroundCpuSeconds > BUSY_WARN * os.cpus().length * r.wallSeconds;
}

interface Summary {
  cell: Cell;
  msgsPerSec: number | null;
  cpuSeconds: number | null;
  errors: number;
}

function summarize(cell: Cell): Summary {
  return {
    cell,
    msgsPerSec: median(cell.runs.map((r) => r.msgsPerSec)),
    cpuSeconds: median(cell.runs.map((r) => r.cpuSeconds)),
    errors: cell.runs.reduce((n, r) => n + r.errors, 0),
  };
}

function status(s: Summary): string {
  if (s.cell.failure !== null) return 'FAILED';
  const bad = s.cell.runs.reduce((n, r) => n + r.mismatches, 0);
  if (bad > 0) return `BAD BYTES (errors: ${s.errors})`;
  if (s.errors > 0) return `ERRORS (${s.errors})`;
  const notes: string[] = [];
  const noisy = s.cell.runs.filter(isNoisy).length;
  if (noisy > 0) notes.push(`noisy ${noisy}/${s.cell.runs.length}`);
  if (s.cell.runs.some((r) => r.forcedStop)) notes.push('needed SIGKILL');
  return notes.length > 0 ? `ok (${notes.join(', ')})` : 'ok';
}

function problems(summaries: readonly Summary[]): { failures: string[]; warnings: string[] } {
  const failures: string[] = [];
  const warnings: string[] = [];
  for (const s of summaries) {
    const where = `${s.cell.contender} / ${s.cell.workload.name}`;
    if (s.cell.failure !== null) failures.push(`${where}: ${s.cell.failure}`);
    s.cell.runs.forEach((r, i) => {
      const run = `${where} run ${i + 1}`;
      if (r.errors > 0) {
        const detail = `mismatches ${r.mismatches}, early closes ${r.earlyCloses}, connect errors ${r.connectErrors}, io errors ${r.ioErrors}`;
        failures.push(`${run}: loadgen saw ${r.errors} errors (${detail})${r.loadgenStderr ? `\n    ${r.loadgenStderr.split('\n').join('\n    ')}` : ''}`);
      } else if (r.loadgenExit !== 0) {
        failures.push(`${run}: loadgen exited ${r.loadgenExit}: ${r.loadgenStderr}`);
      }
      if (isNoisy(r)) {
        warnings.push(`${run}: ${r.backgroundCpuSeconds.toFixed(2)} CPU s of background work during ${r.wallSeconds.toFixed(1)} s`);
      }
      if (r.forcedStop) warnings.push(`${run}: server ignored SIGTERM for 5 s and was SIGKILLed`);
      else if (r.serverExit !== 0) warnings.push(`${run}: server exited with code ${r.serverExit ?? '-'} signal ${r.serverSignal ?? '-'} after SIGTERM`);
      if (r.strays) warnings.push(`${run}: server left processes behind after exiting (killed)`);
    });
  }
  return { failures, warnings };
}

/** SUBJECT's msgs/s over each peer's, for one workload; null where either is missing. */
function ratiosFor(workload: string, byKey: Map<string, Summary>): Record<string, number | null> {
  const subject = byKey.get(`${workload}|${SUBJECT}`)?.msgsPerSec;
  const out: Record<string, number | null> = {};
  for (const peer of PEERS) out[peer] = ratio(subject, byKey.get(`${workload}|${peer}`)?.msgsPerSec);
  return out;
}

/** Share of all CPUs busy in the second before the first and after the last trial. */
export interface Background {
  busyBefore: number;
  busyAfter: number;
}

export function buildEchoReport(cells: readonly Cell[], opts: BenchOptions, bg: Background): SuiteOutcome {
  const summaries = cells.map(summarize);
  const byKey = new Map(summaries.map((s) => [`${s.cell.workload.name}|${s.cell.contender}`, s]));

  const columns: Column[] = [
    { header: 'workload', align: 'left' },
    { header: 'contender', align: 'left' },
    { header: 'msgs/s (median)', align: 'right' },
    { header: 'server CPU s', align: 'right' },
    { header: `ratio vs ${BASELINE}`, align: 'right' },
    { header: 'check', align: 'left' },
  ];
  const rows = summaries.map((s) => {
    const base = byKey.get(`${s.cell.workload.name}|${BASELINE}`)?.msgsPerSec;
    const r = ratio(s.msgsPerSec, base);
    return [
      s.cell.workload.name,
      s.cell.contender,
      fmtInt(s.msgsPerSec),
      fmtFixed(s.cpuSeconds, 2),
      r === null ? '-' : `${r.toFixed(2)}x`,
      status(s),
    ];
  });

  const ratiosByWorkload: Record<string, Record<string, number | null>> = {};
  for (const w of WORKLOADS) ratiosByWorkload[w.name] = ratiosFor(w.name, byKey);
  const ratios = ratiosFor(HEADLINE, byKey);
  const { failures, warnings } = problems(summaries);
  const busiest = Math.max(bg.busyBefore, bg.busyAfter);
  if (busiest > BUSY_WARN) {
    warnings.unshift(`machine was ${(busiest * 100).toFixed(0)}% busy outside the trials; something else competes for the CPUs, so treat the numbers as noisy`);
  }

  const headline = PEERS.map((p) => {
    const r = ratios[p];
    return `${SUBJECT} / ${p} = ${r === null || r === undefined ? 'n/a' : `${r.toFixed(2)}x`}`;
  }).join(', ');
  const text = [
    `echo suite: ${opts.runs} run(s) x ${opts.seconds} s (+${opts.warmup} s warmup); server CPU is measured over warmup + measurement`,
    '',
    renderTable(columns, rows),
    '',
    `headline (${HEADLINE}): ${headline}`,
  ].join('\n');

  const json = {
    suite: 'echo',
    date: new Date().toISOString(),
    machine: { ...machineInfo(), busyBefore: bg.busyBefore, busyAfter: bg.busyAfter },
    config: {
      runs: opts.runs,
      seconds: opts.seconds,
      warmup: opts.warmup,
      only: opts.only,
      headline: HEADLINE,
      workloads: WORKLOADS,
    },
    results: summaries.map((s) => ({
      workload: s.cell.workload.name,
      contender: s.cell.contender,
      conns: s.cell.workload.conns,
      size: s.cell.workload.size,
      depth: s.cell.workload.depth,
      msgsPerSec: s.msgsPerSec,
      cpuSeconds: s.cpuSeconds,
      errors: s.errors,
      ok: s.cell.failure === null && s.errors === 0,
      failure: s.cell.failure,
      // Drop loadgen stderr from clean runs: it is empty or noise there.
      runs: s.cell.runs.map(({ loadgenStderr, ...rest }) => (rest.errors > 0 ? { ...rest, loadgenStderr } : rest)),
    })),
    ratios,
    ratiosByWorkload,
    ok: failures.length === 0,
    failures,
    warnings,
  };
  return { text, json, failures, warnings };
}
