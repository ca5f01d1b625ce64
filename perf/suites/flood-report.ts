// The flood suite's table and results: per workload and contender the probe's round trip under
// the flood (medians over runs of each run's p50, p99, max and sample count), the probes left
// unanswered (summed, never a median), how fast the flood got into the server, and the server's
// CPU over the window; the subject's p99 over each peer's.
import type { BenchOptions } from '../lib/args.js';
import type { FloodProbeResult } from '../lib/flood-probe.js';
import { describePinning, type Pinning } from '../lib/pin.js';
import { median, ratio } from '../lib/stats.js';
import { fmtBusy, fmtFixed, fmtInt, fmtRatio, renderTable, type Column } from '../lib/table.js';
import type { FloodSuiteConfig, FloodWorkload } from './flood-suite.js';
import { resultsHead, type Background, type CellOf } from './interleave.js';
import { cellOk, cellsProblems, cellStatus, runsForJson, type TrialRecord } from './run-record.js';
import type { SuiteOutcome } from './suite.js';

/** One flood trial: the probe's figures and the flood's (as flood_probe printed them) beside the trial's record. */
export interface FloodRunRecord extends TrialRecord, Pick<FloodProbeResult, FloodKey> {}

/** What a run keeps of flood_probe's line: the probe's round trips, the flood's bytes, the window. */
export const FLOOD_KEYS = [
  'p50Us', 'p99Us', 'p999Us', 'maxUs', 'samples', 'answered', 'unanswered', 'unansweredUs',
  'floodBytes', 'floodBytesPerSec', 'floodQueuedBytes', 'connected', 'seconds',
] as const satisfies readonly (keyof FloodProbeResult)[];
type FloodKey = (typeof FLOOD_KEYS)[number];

export type FloodCell = CellOf<FloodWorkload, FloodRunRecord>;

type Figure = 'p50Us' | 'p99Us' | 'p999Us' | 'maxUs' | 'samples' | 'floodBytesPerSec' | 'cpuSeconds' | 'serverBusy';

interface FloodSummary {
  cell: FloodCell;
  figures: Record<Figure, number | null>;
  /** Summed over runs: one starved run must not hide behind a median. */
  unanswered: number;
  errors: number;
}

const FIGURES: readonly Figure[] = ['p50Us', 'p99Us', 'p999Us', 'maxUs', 'samples', 'floodBytesPerSec', 'cpuSeconds', 'serverBusy'];

function summarize(cell: FloodCell): FloodSummary {
  const med = (f: Figure): number | null => median(cell.runs.map((r) => r[f]).filter((v): v is number => v !== null));
  return {
    cell,
    figures: Object.fromEntries(FIGURES.map((f) => [f, med(f)])) as Record<Figure, number | null>,
    unanswered: cell.runs.reduce((n, r) => n + r.unanswered, 0),
    errors: cell.runs.reduce((n, r) => n + r.errors, 0),
  };
}

const ms = (us: number | null): string => (us === null ? '-' : (us / 1000).toFixed(1));

export function buildFloodReport(cfg: FloodSuiteConfig, cells: readonly FloodCell[], opts: BenchOptions, bg: Background, pinning: Pinning | null): SuiteOutcome {
  const summaries = cells.map(summarize);
  const byKey = new Map(summaries.map((s) => [`${s.cell.workload.name}|${s.cell.contender}`, s]));
  const p99Of = (workload: string, contender: string): number | null => byKey.get(`${workload}|${contender}`)?.figures.p99Us ?? null;
  // The subject's p99 over each peer's: below 1 is better.
  const ratiosFor = (workload: string): Record<string, number | null> =>
    Object.fromEntries(cfg.peers.map((p) => [p, ratio(p99Of(workload, cfg.subject), p99Of(workload, p))]));
  const latencyRatiosByWorkload = Object.fromEntries(cfg.workloads.map((w) => [w.name, ratiosFor(w.name)]));
  const latencyRatios = ratiosFor(cfg.headline);

  const vs = `${cfg.subject}/this`;
  const columns: Column[] = [
    { header: 'workload', align: 'left' },
    { header: 'contender', align: 'left' },
    { header: 'probe p50 ms', align: 'right' },
    { header: 'probe p99 ms', align: 'right' },
    { header: `p99: ${vs}`, align: 'right' },
    { header: 'probe max ms', align: 'right' },
    { header: 'samples', align: 'right' },
    { header: 'unanswered (all runs)', align: 'right' },
    { header: 'flood in MB/s', align: 'right' },
    { header: 'CPU s', align: 'right' },
    ...(pinning ? [{ header: 'server busy', align: 'right' } as const] : []),
    { header: 'check', align: 'left' },
  ];
  const rows = summaries.map((s) => {
    const f = s.figures;
    const own = s.cell.contender === cfg.subject;
    return [
      s.cell.workload.name,
      s.cell.contender,
      ms(f.p50Us),
      ms(f.p99Us),
      own ? '' : fmtRatio(ratio(p99Of(s.cell.workload.name, cfg.subject), f.p99Us), '-'),
      ms(f.maxUs),
      fmtInt(f.samples),
      s.cell.runs.length === 0 ? '-' : String(s.unanswered),
      fmtFixed(f.floodBytesPerSec === null ? null : f.floodBytesPerSec / 1e6, 1),
      fmtFixed(f.cpuSeconds, 2),
      ...(pinning ? [fmtBusy(f.serverBusy)] : []),
      cellStatus(s.cell.failure, s.cell.runs),
    ];
  });

  const { failures, warnings } = cellsProblems(cells, bg, (run, r) => r.unanswered > 0
    ? `${run}: the last probe was still unanswered when the window ended, after ${ms(r.unansweredUs)} ms (one sample of that wait; the run's max ${ms(r.maxUs)} ms)`
    : null);

  const w0 = cfg.workloads[0];
  const probe = w0 ? `probe: ${JSON.stringify(w0.probe)} every ${w0.everyMs} ms after each reply, beside ${w0.flooders} non-reading flooders` : 'probe';
  const lines = [
    `${cfg.name} suite: ${opts.runs} run(s) x ${opts.seconds} s (after ${opts.warmup} s of flood, unprobed); ${describePinning(pinning)}`,
    `${probe}; round trip from its send() to the recv() completing its reply (CLOCK_MONOTONIC); ` +
      'a probe still unanswered at the window\'s end is one sample of its wait so far (unanswered, summed over runs); ' +
      'flood in: flood bytes that reached the server\'s sockets in the window; CPU s: the server\'s whole process tree over the window' +
      `${pinning ? '; server busy: that CPU / (window x the server\'s cores)' : ''}; every figure is a median over runs`,
    '',
    renderTable(columns, rows),
    '',
    `headline p99 (${cfg.headline}, lower is better): ${cfg.peers.map((p) => `${cfg.subject} / ${p} = ${fmtRatio(latencyRatios[p])}`).join(', ')}`,
  ];

  const json: Record<string, unknown> = {
    // The chart labels each bar (the probe's p99) with its ratio to `baseline`.
    ...resultsHead(cfg.name, bg, pinning, cfg.baseline),
    config: { runs: opts.runs, seconds: opts.seconds, warmup: opts.warmup, only: opts.only, headline: cfg.headline, workloads: cfg.workloads },
    results: summaries.map((s) => ({
      workload: s.cell.workload.name,
      contender: s.cell.contender,
      flooders: s.cell.workload.flooders,
      ...s.figures,
      unanswered: s.unanswered,
      errors: s.errors,
      ok: cellOk(s.cell.failure, s.cell.runs),
      failure: s.cell.failure,
      runs: runsForJson(s.cell.runs),
    })),
    latencyRatios,
    latencyRatiosByWorkload,
    ok: failures.length === 0,
    failures,
    warnings,
  };
  return { text: lines.join('\n'), json, failures, warnings };
}
