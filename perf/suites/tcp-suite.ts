// A round-trip suite: fresh server per trial, a C loadgen as the client
// (perf/bin/echo_load over TCP or a Unix socket, perf/bin/udp_load over UDP),
// throughput and latency per contender and workload. The echo, offload, unix
// and udp suites are configs of this one runner.
import type { Scheme } from '../lib/addr.js';
import { BUSY_WARN, machineBusyFraction } from '../lib/idle.js';
import { ensureCProgram, ensureLoadgen } from '../lib/loadgen.js';
import { rotate, usPerMsg } from '../lib/stats.js';
import { runTrial, type ServerSpec } from '../lib/trial.js';
import { isNoisy, trialRecord } from './run-record.js';
import { buildTcpReport, type Cell, type RunRecord } from './tcp-report.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';

export interface Workload {
  name: string;
  conns: number;
  size: number;
  depth: number;
}

export interface TcpSuiteConfig {
  /** `npm run bench -- <name>`; also the results file name. */
  name: string;
  /**
   * What the contenders listen on (default tcp); picks the loadgen. Unix
   * contenders put UNIX_SOCKET (lib/sockpath.ts) where their path goes.
   */
  transport?: Scheme;
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

function describeFailure(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
  const bin = ensureLoadgen(log, scheme);
  for (const [src, out] of cfg.cPrograms) if (contenders.some((c) => c.argv[0] === out)) ensureCProgram(src, out, log);
  const busyBefore = await machineBusyFraction();
  if (busyBefore > BUSY_WARN) log(`warning: machine already ${(busyBefore * 100).toFixed(0)}% busy before the first trial`);

  const cells = new Map<string, Cell>();
  const cellOf = (w: Workload, c: ServerSpec): Cell => {
    const key = `${w.name}\u0000${c.name}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { workload: w, contender: c.name, runs: [], failure: null };
      cells.set(key, cell);
    }
    return cell;
  };
  // A contender that cannot start once will not start on the next try either;
  // skipping it avoids burning 15 s timeouts for every remaining trial.
  const broken = new Map<string, string>();

  for (const w of cfg.workloads) {
    for (let run = 0; run < opts.runs; run++) {
      // Contenders alternate within a run, and the order rotates between runs,
      // so thermal or neighbour noise is spread instead of hitting one of them.
      for (const c of rotate(contenders, run)) {
        const cell = cellOf(w, c);
        const earlier = broken.get(c.name);
        if (earlier !== undefined) {
          cell.failure ??= `skipped: ${earlier}`;
          continue;
        }
        const label = `${w.name} | run ${run + 1}/${opts.runs} | ${c.name}`;
        try {
          const t = await runTrial(c, { bin, scheme }, {
            conns: w.conns, size: w.size, depth: w.depth, seconds: opts.seconds, warmup: opts.warmup,
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
          // Only where it means something, so the echo and offload records keep their shape.
          if (t.load.lost !== null) rec.udp = { lost: t.load.lost, lostWarmup: t.load.lostWarmup ?? 0, late: t.load.late ?? 0 };
          cell.runs.push(rec);
          const flag = (rec.udp ? `, lost ${rec.udp.lost}` : '') + (rec.errors > 0 ? `  !! errors: ${rec.errors}` : '');
          const noise = isNoisy(rec) ? `  (background CPU ${rec.backgroundCpuSeconds.toFixed(2)} s)` : '';
          log(`${label}: ${Math.round(rec.msgsPerSec).toLocaleString('en-US')} msgs/s, p50 ${fmtUs(rec.p50Us)}, p99 ${fmtUs(rec.p99Us)}, ${fmtCpu(rec.serverCpuUsPerMsg)}${flag}${noise}`);
        } catch (err) {
          const msg = describeFailure(err);
          cell.failure ??= msg;
          broken.set(c.name, `${c.name} failed earlier (${w.name}, run ${run + 1})`);
          log(`${label}: FAILED\n${msg}`);
        }
      }
    }
  }
  const busyAfter = await machineBusyFraction();
  return buildTcpReport(cfg, [...cells.values()], opts, { busyBefore, busyAfter }, pinning);
}

/** Checks the config's names against each other so a typo fails loudly at startup. */
function validate(cfg: TcpSuiteConfig): void {
  const names = new Set(cfg.contenders.map((c) => c.name));
  const missing = [cfg.subject, cfg.baseline, ...cfg.peers, ...(cfg.target ? [cfg.target.peer] : [])].filter((n) => !names.has(n));
  if (missing.length > 0) throw new Error(`suite ${cfg.name}: unknown contender(s) ${missing.join(', ')}`);
  if (!cfg.workloads.some((w) => w.name === cfg.headline)) throw new Error(`suite ${cfg.name}: headline workload '${cfg.headline}' is not one of its workloads`);
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
