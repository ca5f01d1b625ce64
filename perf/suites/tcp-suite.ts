// A round-trip suite: fresh server per trial, a C loadgen as the client
// (perf/bin/echo_load over TCP or a Unix socket, perf/bin/udp_load over UDP),
// throughput and latency per contender and workload. The echo, offload, unix
// and udp suites are configs of this one runner.
import type { Scheme } from '../lib/addr.js';
import { ensureCProgram, ensureLoadgen, ensureTlsLoadgen } from '../lib/loadgen.js';
import { usPerMsg } from '../lib/stats.js';
import { runTrial, type ServerSpec } from '../lib/trial.js';
import { checkNames, runInterleaved } from './interleave.js';
import { trialRecord } from './run-record.js';
import { buildTcpReport, type RunRecord } from './tcp-report.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';

export interface Workload {
  name: string;
  conns: number;
  size: number;
  depth: number;
  /**
   * TLS suites: every message on a new connection, its handshake inside the clock
   * (echo_load_tls --reconnect): `full` offers no session, `resume` the previous connection's.
   */
  reconnect?: 'full' | 'resume';
}

export interface TcpSuiteConfig {
  /** `npm run bench -- <name>`; also the results file name. */
  name: string;
  /**
   * What the contenders listen on (default tcp); picks the loadgen. Unix
   * contenders put UNIX_SOCKET (lib/sockpath.ts) where their path goes.
   */
  transport?: Scheme;
  /** The contenders speak TLS over TCP: the loadgen is echo_load_tls --tls (lib/loadgen.ts). */
  tls?: boolean;
  /** One line for `--help`. */
  description: string;
  /**
   * Command lines run from the repo root. Each must print exactly one
   * `listening <url>` line on stdout (tcp://host:port, unix:///path or
   * udp://host:port, as `transport` says) and exit on SIGTERM.
   */
  contenders: readonly ServerSpec[];
  workloads: readonly Workload[];
  /** The workload whose ratios are the suite's headline numbers. */
  headline: string;
  /** The contender the ratios are about (numerator). */
  subject: string;
  /** What the chart's bars give their ratio to (the results' `baseline`). */
  baseline: string;
  /** Keys of `ratios` / `latencyRatios`: subject divided by each of these. */
  peers: readonly string[];
  /** C contenders compiled on demand before the suite runs: [source, binary]. */
  cPrograms: readonly (readonly [string, string])[];
  /**
   * Optional goal on the headline workload, reported as met or not (never an
   * exit code: the machine is shared): subject msgs/s >= minRatio x peer's and,
   * when given, subject p99 <= maxLatencyRatio x peer's.
   */
  target?: { peer: string; minRatio: number; maxLatencyRatio?: number };
}

function fmtUs(us: number | null): string {
  return us === null ? '-' : `${Math.round(us).toLocaleString('en-US')} µs`;
}

function fmtCpu(usPerMsg: number | null): string {
  return usPerMsg === null ? 'cpu/msg -' : `${usPerMsg.toFixed(2)} µs cpu/msg`;
}

async function runTcpSuite(cfg: TcpSuiteConfig, ctx: SuiteContext): Promise<SuiteOutcome> {
  const { opts, log, pinning } = ctx;
  const contenders = cfg.contenders.filter((c) => opts.only === null || opts.only.includes(c.name));
  const scheme = cfg.transport ?? 'tcp';
  const bin = cfg.tls ? ensureTlsLoadgen(log) : ensureLoadgen(log, scheme);
  for (const [src, out] of cfg.cPrograms) if (contenders.some((c) => c.argv[0] === out)) ensureCProgram(src, out, log);
  const { cells, background } = await runInterleaved(cfg.workloads, contenders, opts.runs, log, async (w, c) => {
    const t = await runTrial(c, { bin, scheme }, {
      conns: w.conns, size: w.size, depth: w.depth, seconds: opts.seconds, warmup: opts.warmup, flags: loadgenFlags(cfg, w),
    }, pinning);
    const rec: RunRecord = {
      msgsPerSec: t.load.msgsPerSec,
      serverCpuUsPerMsg: usPerMsg(t.cpuSeconds, t.load.msgs),
      msgs: t.load.msgs,
      seconds: t.load.seconds,
      p50Us: t.load.p50Us,
      p99Us: t.load.p99Us,
      p999Us: t.load.p999Us,
      maxUs: t.load.maxUs,
      ...trialRecord(t, pinning),
    };
    // Only where they mean something, so the echo and offload records keep their shape.
    if (t.load.lost !== null) rec.udp = { lost: t.load.lost, lostWarmup: t.load.lostWarmup ?? 0, late: t.load.late ?? 0 };
    if (t.load.tlsProtocol !== null) {
      rec.tls = { protocol: t.load.tlsProtocol, cipher: t.load.tlsCipher, handshakes: t.load.tlsHandshakes ?? 0, resumed: t.load.tlsResumed ?? 0 };
    }
    const resumed = w.reconnect && rec.tls ? `, ${rec.tls.handshakes} handshakes (${rec.tls.resumed} resumed)` : '';
    const lost = rec.udp ? `, lost ${rec.udp.lost}` : '';
    return { record: rec, summary: `${Math.round(rec.msgsPerSec).toLocaleString('en-US')} msgs/s, p50 ${fmtUs(rec.p50Us)}, p99 ${fmtUs(rec.p99Us)}, ${fmtCpu(rec.serverCpuUsPerMsg)}${resumed}${lost}` };
  });
  return buildTcpReport(cfg, cells, opts, background, pinning);
}

/** The loadgen's flags beyond the load's shape: TLS, and a new connection per message. */
function loadgenFlags(cfg: TcpSuiteConfig, w: Workload): string[] {
  if (!cfg.tls) return [];
  return ['--tls', ...(w.reconnect ? ['--reconnect'] : []), ...(w.reconnect === 'resume' ? ['--resume'] : [])];
}

/** Checks the config's names against each other so a typo fails loudly at startup. */
function validate(cfg: TcpSuiteConfig): void {
  checkNames(cfg.name, cfg.contenders, [cfg.subject, cfg.baseline, ...cfg.peers, ...(cfg.target ? [cfg.target.peer] : [])], cfg.workloads, cfg.headline);
  const bad = cfg.workloads.find((w) => w.reconnect !== undefined && (!cfg.tls || w.depth !== 1));
  if (bad) throw new Error(`suite ${cfg.name}: workload '${bad.name}' reconnects, which needs tls and depth 1`);
}

export function tcpSuite(cfg: TcpSuiteConfig): Suite {
  validate(cfg);
  return {
    name: cfg.name,
    description: cfg.description,
    contenders: cfg.contenders.map((c) => c.name),
    run: (ctx) => runTcpSuite(cfg, ctx),
  };
}
