import type { BenchOptions } from '../lib/args.js';
import { describePinning, type Pinning } from '../lib/pin.js';
import { median, ratio } from '../lib/stats.js';
import { fmtBusy, fmtFixed, fmtInt, fmtRatio, renderTable, type Column } from '../lib/table.js';
import { resultsHead, type Background, type CellOf } from './interleave.js';
import { cellOk, cellsProblems, cellStatus, runsForJson, type TrialRecord } from './run-record.js';
import type { SuiteOutcome } from './suite.js';
import type { TcpSuiteConfig, Workload } from './tcp-suite.js';

/** One run of a round-trip suite: its rate, CPU per message and latency beside the trial's record. */
export interface RunRecord extends TrialRecord {
  msgsPerSec: number;
  /** cpuSeconds in µs over `msgs`, the messages of the same window. */
  serverCpuUsPerMsg: number | null;
  msgs: number;
  seconds: number;
  /** Round-trip latency of the run's messages (µs); null when the loadgen had none. */
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
  /** UDP suites only: what udp_load counted as lost (absent for stream suites). */
  udp?: UdpLoss;
  /** TLS suites only: what the handshakes negotiated, and the window's handshakes (resumed ones too). */
  tls?: TlsRun;
}

export interface TlsRun {
  protocol: string;
  cipher: string | null;
  handshakes: number;
  resumed: number;
}

export interface UdpLoss {
  /** Datagrams not answered within the loadgen's timeout, after warmup. */
  lost: number;
  lostWarmup: number;
  /** Replies that came after their datagram was counted lost. */
  late: number;
}

/** A cell's loss over all its runs: summed, not a median, so one lossy run cannot hide. */
interface LossSummary extends UdpLoss {
  /** lost / (answered + lost), measured windows only; null when nothing was sent. */
  rate: number | null;
}

/** All runs of one contender on one workload. */
export type Cell = CellOf<Workload, RunRecord>;

interface Summary {
  cell: Cell;
  msgsPerSec: number | null;
  cpuSeconds: number | null;
  serverCpuUsPerMsg: number | null;
  serverBusy: number | null;
  /** Medians over the runs that reported latency (per-run percentiles, not pooled samples). */
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
  errors: number;
  /** Null for stream suites and for cells without runs. */
  loss: LossSummary | null;
  /** TLS suites: handshakes and resumed ones in the measured windows, summed over runs; null otherwise. */
  handshakes: TlsRun | null;
}

function handshakesOf(runs: readonly RunRecord[]): Summary['handshakes'] {
  const tls = runs.flatMap((r) => (r.tls ? [r.tls] : []));
  const first = tls[0];
  if (first === undefined) return null;
  const sum = (key: 'handshakes' | 'resumed'): number => tls.reduce((n, x) => n + x[key], 0);
  return { protocol: first.protocol, cipher: first.cipher, handshakes: sum('handshakes'), resumed: sum('resumed') };
}

/** "1,234 (0% resumed)": the reconnecting workloads' handshakes over all runs. */
function fmtHandshakes(h: Summary['handshakes']): string {
  if (h === null) return '-';
  const share = ratio(h.resumed, h.handshakes);
  return `${fmtInt(h.handshakes)} (${share === null ? '-' : `${Math.round(share * 100)}%`} resumed)`;
}

function lossOf(runs: readonly RunRecord[]): LossSummary | null {
  const udp = runs.flatMap((r) => (r.udp ? [r.udp] : []));
  if (udp.length === 0) return null;
  const sum = (key: keyof UdpLoss): number => udp.reduce((n, u) => n + u[key], 0);
  const lost = sum('lost');
  const answered = runs.reduce((n, r) => n + r.msgs, 0);
  return { lost, lostWarmup: sum('lostWarmup'), late: sum('late'), rate: ratio(lost, lost + answered) };
}

function fmtLoss(loss: LossSummary | null): string {
  if (loss === null) return '-';
  return loss.rate === null ? String(loss.lost) : `${fmtInt(loss.lost)} (${(loss.rate * 100).toFixed(2)}%)`;
}

type NullableKey = 'p50Us' | 'p99Us' | 'p999Us' | 'maxUs' | 'cpuSeconds' | 'serverCpuUsPerMsg' | 'serverBusy';

/** Median over the runs that have the figure. */
function medianOf(runs: readonly RunRecord[], key: NullableKey): number | null {
  return median(runs.map((r) => r[key]).filter((v): v is number => v !== null));
}

function summarize(cell: Cell): Summary {
  return {
    cell,
    msgsPerSec: median(cell.runs.map((r) => r.msgsPerSec)),
    cpuSeconds: medianOf(cell.runs, 'cpuSeconds'),
    // The median of the per-run figures, each CPU and messages of one window.
    serverCpuUsPerMsg: medianOf(cell.runs, 'serverCpuUsPerMsg'),
    serverBusy: medianOf(cell.runs, 'serverBusy'),
    p50Us: medianOf(cell.runs, 'p50Us'),
    p99Us: medianOf(cell.runs, 'p99Us'),
    p999Us: medianOf(cell.runs, 'p999Us'),
    maxUs: medianOf(cell.runs, 'maxUs'),
    errors: cell.runs.reduce((n, r) => n + r.errors, 0),
    loss: lossOf(cell.runs),
    handshakes: handshakesOf(cell.runs),
  };
}

/** UDP runs: the loss udp_load counted, as a warning (loss is not an error). */
function lossWarning(run: string, r: RunRecord): string | null {
  if (!r.udp || r.udp.lost + r.udp.lostWarmup + r.udp.late === 0) return null;
  const rate = ratio(r.udp.lost, r.udp.lost + r.msgs);
  return `${run}: ${r.udp.lost} datagrams lost (${rate === null ? '-' : (rate * 100).toFixed(2)}% of those sent), ${r.udp.lostWarmup} more during warmup, ${r.udp.late} late replies`;
}

type Metric = 'msgsPerSec' | 'p99Us' | 'serverCpuUsPerMsg';

/** The subject's metric over each peer's, for one workload; null where either is missing. */
function ratiosFor(cfg: TcpSuiteConfig, workload: string, byKey: Map<string, Summary>, metric: Metric): Record<string, number | null> {
  const subject = byKey.get(`${workload}|${cfg.subject}`)?.[metric];
  const out: Record<string, number | null> = {};
  for (const peer of cfg.peers) out[peer] = ratio(subject, byKey.get(`${workload}|${peer}`)?.[metric]);
  return out;
}


/** The config's target, judged on the headline workload; null without a target. */
function judgeTarget(cfg: TcpSuiteConfig, ratios: Record<string, number | null>, latencyRatios: Record<string, number | null>) {
  const t = cfg.target;
  if (!t) return null;
  const r = ratios[t.peer] ?? null;
  const l = latencyRatios[t.peer] ?? null;
  const maxLatencyRatio = t.maxLatencyRatio ?? null;
  // Without a latency bound the p99 ratio is reported but judges nothing.
  const latencyOk = maxLatencyRatio === null ? true : l === null ? null : l <= maxLatencyRatio;
  const met = r === null || latencyOk === null ? null : r >= t.minRatio && latencyOk;
  return { peer: t.peer, minRatio: t.minRatio, maxLatencyRatio, ratio: r, latencyRatio: l, met };
}

export function buildTcpReport(cfg: TcpSuiteConfig, cells: readonly Cell[], opts: BenchOptions, bg: Background, pinning: Pinning | null): SuiteOutcome {
  const summaries = cells.map(summarize);
  const byKey = new Map(summaries.map((s) => [`${s.cell.workload.name}|${s.cell.contender}`, s]));
  const udp = cfg.transport === 'udp';
  // TLS suites with handshake workloads: how many handshakes, and how many the server resumed.
  const reconnects = cfg.workloads.some((w) => w.reconnect !== undefined);

  // Rate and CPU per message side by side, each with the subject's figure over this row's
  // (same run): above 1 is better for the rate, below 1 for the CPU.
  const vs = `${cfg.subject}/this`;
  const columns: Column[] = [
    { header: 'workload', align: 'left' },
    { header: 'contender', align: 'left' },
    { header: 'msgs/s (median)', align: 'right' },
    { header: `msgs/s: ${vs}`, align: 'right' },
    { header: 'CPU µs/msg', align: 'right' },
    { header: `CPU/msg: ${vs}`, align: 'right' },
    ...(pinning ? [{ header: 'server busy', align: 'right' } as const] : []),
    { header: 'p50 µs', align: 'right' },
    { header: 'p99 µs', align: 'right' },
    // UDP only: loss belongs next to the rate it deflates.
    ...(udp ? [{ header: 'lost (all runs)', align: 'right' } as const] : []),
    ...(reconnects ? [{ header: 'handshakes (all runs)', align: 'right' } as const] : []),
    { header: 'check', align: 'left' },
  ];
  const rows = summaries.map((s) => {
    const subject = byKey.get(`${s.cell.workload.name}|${cfg.subject}`);
    const versus = (metric: 'msgsPerSec' | 'serverCpuUsPerMsg'): string =>
      s.cell.contender === cfg.subject ? '' : fmtRatio(ratio(subject?.[metric], s[metric]), '-');
    return [
      s.cell.workload.name,
      s.cell.contender,
      fmtInt(s.msgsPerSec),
      versus('msgsPerSec'),
      fmtFixed(s.serverCpuUsPerMsg, 2),
      versus('serverCpuUsPerMsg'),
      ...(pinning ? [fmtBusy(s.serverBusy)] : []),
      fmtInt(s.p50Us),
      fmtInt(s.p99Us),
      ...(udp ? [fmtLoss(s.loss)] : []),
      ...(reconnects ? [s.cell.workload.reconnect ? fmtHandshakes(s.handshakes) : ''] : []),
      cellStatus(s.cell.failure, s.cell.runs),
    ];
  });

  const ratiosByWorkload: Record<string, Record<string, number | null>> = {};
  const latencyRatiosByWorkload: Record<string, Record<string, number | null>> = {};
  const cpuRatiosByWorkload: Record<string, Record<string, number | null>> = {};
  for (const w of cfg.workloads) {
    ratiosByWorkload[w.name] = ratiosFor(cfg, w.name, byKey, 'msgsPerSec');
    latencyRatiosByWorkload[w.name] = ratiosFor(cfg, w.name, byKey, 'p99Us');
    cpuRatiosByWorkload[w.name] = ratiosFor(cfg, w.name, byKey, 'serverCpuUsPerMsg');
  }
  const ratios = ratiosFor(cfg, cfg.headline, byKey, 'msgsPerSec');
  const latencyRatios = ratiosFor(cfg, cfg.headline, byKey, 'p99Us');
  const cpuRatios = ratiosFor(cfg, cfg.headline, byKey, 'serverCpuUsPerMsg');
  const target = judgeTarget(cfg, ratios, latencyRatios);
  const { failures, warnings } = cellsProblems(cells, bg, lossWarning);

  const headline = cfg.peers.map((p) => `${cfg.subject} / ${p} = ${fmtRatio(ratios[p])}`).join(', ');
  const latencyHeadline = cfg.peers.map((p) => `${cfg.subject} / ${p} = ${fmtRatio(latencyRatios[p])}`).join(', ');
  const cpuHeadline = cfg.peers.map((p) => `${cfg.subject} / ${p} = ${fmtRatio(cpuRatios[p])}`).join(', ');
  const lines = [
    `${cfg.name} suite: ${opts.runs} run(s) x ${opts.seconds} s (+${opts.warmup} s warmup); ${describePinning(pinning)}`,
    'CPU µs/msg: user+system CPU of the server\'s whole process tree over the measured window / messages in that window; ' +
      `${pinning ? 'server busy: that CPU / (window x the server\'s cores), near 100% the server is the bottleneck, well below it the load generator; ' : ''}` +
      'latency is per message; every figure is a median over runs',
    '',
    renderTable(columns, rows),
    '',
    ...(udp ? ['lost: datagrams not answered within the loadgen\'s timeout in the measured windows, summed over runs (% of those sent); they add no latency sample', ''] : []),
    ...(reconnects ? ['handshake workloads: every message on a new TLS connection (connect, handshake, one echo, close), so msgs/s is handshakes/s and CPU µs/msg the server\'s CPU per handshake; latency is connect() to the echo; handshakes: summed over runs, with the share the server resumed', ''] : []),
    `headline (${cfg.headline}): ${headline}`,
    `headline CPU/msg (${cfg.headline}, lower is better): ${cpuHeadline}`,
    `headline p99 (${cfg.headline}, lower is better): ${latencyHeadline}`,
  ];
  if (target) {
    const verdict = target.met === null ? 'n/a (missing results)' : target.met ? 'met' : 'NOT met';
    const p99 = target.maxLatencyRatio === null ? '' : ` and p99 <= ${target.maxLatencyRatio.toFixed(2)}x (${fmtRatio(target.latencyRatio)})`;
    lines.push(`target vs ${target.peer}: msgs/s >= ${target.minRatio.toFixed(2)}x (${fmtRatio(target.ratio)})${p99}: ${verdict}`);
  }

  const json: Record<string, unknown> = {
    ...resultsHead(cfg.name, bg, pinning, cfg.baseline),
    config: {
      runs: opts.runs,
      seconds: opts.seconds,
      warmup: opts.warmup,
      only: opts.only,
      headline: cfg.headline,
      workloads: cfg.workloads,
      // Absent for TCP, as before there were other transports.
      ...(cfg.transport ? { transport: cfg.transport } : {}),
    },
    results: summaries.map((s) => ({
      workload: s.cell.workload.name,
      contender: s.cell.contender,
      conns: s.cell.workload.conns,
      size: s.cell.workload.size,
      depth: s.cell.workload.depth,
      msgsPerSec: s.msgsPerSec,
      serverCpuUsPerMsg: s.serverCpuUsPerMsg,
      serverBusy: s.serverBusy,
      cpuSeconds: s.cpuSeconds,
      p50Us: s.p50Us,
      p99Us: s.p99Us,
      p999Us: s.p999Us,
      maxUs: s.maxUs,
      errors: s.errors,
      ...(s.loss ? { lost: s.loss.lost, lossRate: s.loss.rate, lostWarmup: s.loss.lostWarmup, late: s.loss.late } : {}),
      ...(s.handshakes ? { tls: { ...s.handshakes, resumedShare: ratio(s.handshakes.resumed, s.handshakes.handshakes) } } : {}),
      ok: cellOk(s.cell.failure, s.cell.runs),
      failure: s.cell.failure,
      runs: runsForJson(s.cell.runs),
    })),
    ratios,
    ratiosByWorkload,
    latencyRatios,
    latencyRatiosByWorkload,
    cpuRatios,
    cpuRatiosByWorkload,
  };
  if (target) json['target'] = target;
  json['ok'] = failures.length === 0;
  json['failures'] = failures;
  json['warnings'] = warnings;
  return { text: lines.join('\n'), json, failures, warnings };
}
