// Fairness under flood: 50 non-reading clients pipeline a request as fast as the kernel takes
// it, beside one ordinary probe client; the figure is the probe's round trip. The reactor's
// guarantee (a ready connection is served within a bounded number of rounds whatever its
// neighbours do, test/fairness.test.mjs) measured against redis-server under the same flood.
// Same discipline as the other suites: a fresh server per trial, contenders alternating and
// rotated across runs, medians over --runs, server and loadgen pinned to separate cores, the
// server's CPU over the measured window.
import { ensureFloodProbe, runFloodProbe, type FloodProbeResult } from '../lib/flood-probe.js';
import { runTrialWith, type ServerSpec } from '../lib/trial.js';
import { buildFloodReport, FLOOD_KEYS, type FloodRunRecord } from './flood-report.js';
import { checkNames, runInterleaved } from './interleave.js';
import { REDIS_SERVER, REDIS_SERVER_REQUIRED } from './proto-configs.js';
import { trialRecord } from './run-record.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';
import { missingTools, type Requirement } from './tool-suite.js';

export interface FloodWorkload {
  name: string;
  /** Non-reading clients, each pipelining `flood` for the whole trial. */
  flooders: number;
  flood: string;
  /** The probe's request, the exact reply it waits for, and its pause after each reply. */
  probe: string;
  reply: string;
  everyMs: number;
}

export interface FloodSuiteConfig {
  name: string;
  description: string;
  requires: readonly Requirement[];
  /** Each prints `listening tcp://host:port` and exits on SIGTERM, as in the other suites. */
  contenders: readonly ServerSpec[];
  workloads: readonly FloodWorkload[];
  headline: string;
  subject: string;
  /** What the chart's ratios are to. */
  baseline: string;
  /** Keys of `latencyRatios`: the subject's p99 over each of these. */
  peers: readonly string[];
}

const PING = 'PING\r\n';
const ping = (name: string, flood: string): FloodWorkload => ({ name, flooders: 50, flood, probe: PING, reply: '+PONG\r\n', everyMs: 100 });

export const FLOOD_CONFIG: FloodSuiteConfig = {
  name: 'flood',
  description: 'fairness: a probe\'s PING round trip beside 50 non-reading pipelining clients (PING, SET): ringloop redis (1 loop) vs redis-server',
  requires: [REDIS_SERVER_REQUIRED],
  contenders: [
    { name: 'ringloop', argv: [process.execPath, 'dist/examples/run.js', 'redis', '--addr', 'tcp://127.0.0.1:0', '--loops', '1'] },
    REDIS_SERVER,
  ],
  workloads: [
    ping('PING flood', PING),
    ping('SET flood', '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n'),
  ],
  headline: 'PING flood',
  subject: 'ringloop',
  baseline: 'redis-server',
  peers: ['redis-server'],
};

const ms = (us: number | null): string => (us === null ? '-' : `${(us / 1000).toFixed(1)} ms`);

async function runFloodSuite(cfg: FloodSuiteConfig, ctx: SuiteContext): Promise<SuiteOutcome> {
  const { opts, log, pinning } = ctx;
  const missing = missingTools(cfg.name, cfg.requires);
  if (missing) return missing;
  const contenders = cfg.contenders.filter((c) => opts.only === null || opts.only.includes(c.name));
  const bin = ensureFloodProbe(log);
  const { cells, background } = await runInterleaved(cfg.workloads, contenders, opts.runs, log, async (w, c) => {
    const t = await runTrialWith(c, 'tcp', (target, hooks) =>
      runFloodProbe(bin, { ...w, target, seconds: opts.seconds, warmup: opts.warmup }, hooks), pinning);
    const kept = Object.fromEntries(FLOOD_KEYS.map((k) => [k, t.load[k]])) as Pick<FloodProbeResult, (typeof FLOOD_KEYS)[number]>;
    const record: FloodRunRecord = { ...kept, ...trialRecord(t, pinning) };
    const { p50Us, p99Us, maxUs, samples, unanswered, floodBytesPerSec } = record;
    const cpu = record.cpuSeconds === null ? '-' : record.cpuSeconds.toFixed(2);
    return {
      record,
      summary: `probe p50 ${ms(p50Us)}, p99 ${ms(p99Us)}, max ${ms(maxUs)}, ${samples} samples${unanswered > 0 ? ' (last one unanswered)' : ''}; ` +
        `flood in ${(floodBytesPerSec / 1e6).toFixed(1)} MB/s; server CPU ${cpu} s`,
    };
  });
  return buildFloodReport(cfg, cells, opts, background, pinning);
}

export function floodSuite(cfg: FloodSuiteConfig): Suite {
  checkNames(cfg.name, cfg.contenders, [cfg.subject, cfg.baseline, ...cfg.peers], cfg.workloads, cfg.headline);
  return { name: cfg.name, description: cfg.description, contenders: cfg.contenders.map((c) => c.name), run: (ctx) => runFloodSuite(cfg, ctx) };
}

export const FLOOD = floodSuite(FLOOD_CONFIG);
