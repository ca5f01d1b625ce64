// The trial schedule of the loadgen-driven suites (round-trip and flood): every workload, every
// run, every contender; contenders alternate within a run and the order rotates between runs,
// so thermal or neighbour noise is spread instead of hitting one of them.
import { BUSY_WARN, machineBusyFraction } from '../lib/idle.js';
import type { Pinning } from '../lib/pin.js';
import { machineInfo } from '../lib/report.js';
import { rotate } from '../lib/stats.js';
import type { ServerSpec } from '../lib/trial.js';
import { isNoisy, type TrialRecord } from './run-record.js';

/** All runs of one contender on one workload. */
export interface CellOf<W, R> {
  workload: W;
  contender: string;
  runs: R[];
  /** Set when the server or loadgen could not produce a result at all. */
  failure: string | null;
}

/** Share of all CPUs busy in the second before the first and after the last trial. */
export interface Background {
  busyBefore: number;
  busyAfter: number;
}

/** What one trial gives the schedule: its record and the figures for its progress line. */
export interface TrialOutcome<R> {
  record: R;
  summary: string;
}

/**
 * Runs `trial` for every workload x run x contender (rotated per run) and gathers the cells,
 * logging a line per trial. A contender that fails once is skipped for the rest of the suite
 * (it would not start on the next try either; this avoids burning a timeout per trial).
 */
export async function runInterleaved<W extends { name: string }, R extends TrialRecord>(
  workloads: readonly W[],
  contenders: readonly ServerSpec[],
  runs: number,
  log: (msg: string) => void,
  trial: (w: W, c: ServerSpec) => Promise<TrialOutcome<R>>,
): Promise<{ cells: CellOf<W, R>[]; background: Background }> {
  const busyBefore = await machineBusyFraction();
  if (busyBefore > BUSY_WARN) log(`warning: machine already ${(busyBefore * 100).toFixed(0)}% busy before the first trial`);
  const cells = new Map<string, CellOf<W, R>>();
  const broken = new Map<string, string>();
  for (const w of workloads) {
    for (let run = 0; run < runs; run++) {
      for (const c of rotate(contenders, run)) {
        const key = `${w.name}\u0000${c.name}`;
        const cell = cells.get(key) ?? { workload: w, contender: c.name, runs: [], failure: null };
        cells.set(key, cell);
        const earlier = broken.get(c.name);
        if (earlier !== undefined) {
          cell.failure ??= `skipped: ${earlier}`;
          continue;
        }
        const label = `${w.name} | run ${run + 1}/${runs} | ${c.name}`;
        try {
          const { record, summary } = await trial(w, c);
          cell.runs.push(record);
          const errors = record.errors > 0 ? `  !! errors: ${record.errors}` : '';
          const noise = isNoisy(record) ? `  (background CPU ${record.backgroundCpuSeconds.toFixed(2)} s)` : '';
          log(`${label}: ${summary}${errors}${noise}`);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          cell.failure ??= msg;
          broken.set(c.name, `${c.name} failed earlier (${w.name}, run ${run + 1})`);
          log(`${label}: FAILED\n${msg}`);
        }
      }
    }
  }
  const busyAfter = await machineBusyFraction();
  return { cells: [...cells.values()], background: { busyBefore, busyAfter } };
}

/**
 * The first keys of these suites' results: suite, date, the machine (with how busy it was
 * outside the trials), where each side ran, and `baseline`, the contender the chart labels
 * each bar's ratio to.
 */
export function resultsHead(suite: string, bg: Background, pinning: Pinning | null, baseline: string): Record<string, unknown> {
  return { suite, date: new Date().toISOString(), machine: { ...machineInfo(), busyBefore: bg.busyBefore, busyAfter: bg.busyAfter }, pinning, baseline };
}

/** Checks a config's names against each other so a typo fails loudly at startup. */
export function checkNames(suite: string, contenders: readonly ServerSpec[], named: readonly string[], workloads: readonly { name: string }[], headline: string): void {
  const names = new Set(contenders.map((c) => c.name));
  const missing = named.filter((n) => !names.has(n));
  if (missing.length > 0) throw new Error(`suite ${suite}: unknown contender(s) ${missing.join(', ')}`);
  if (!workloads.some((w) => w.name === headline)) throw new Error(`suite ${suite}: headline workload '${headline}' is not one of its workloads`);
}
