// Suites driven by an external load tool (wrk, redis-benchmark) against real protocol servers.
// Same discipline as the TCP suites: fresh server per trial, contenders interleaved and rotated,
// medians of --runs, server CPU per request next to throughput, ratios against peers of one run,
// the server and the tool pinned to separate cores.
import { execFile, spawnSync } from 'node:child_process';
import { cpuSecondsBetween, cpuSnapshot } from '../lib/cpu.js';
import { portOf } from '../lib/addr.js';
import { describePinning, onCpus, strayTasks, type Pinning } from '../lib/pin.js';
import { startServer, stopServer } from '../lib/proc.js';
import { repoRoot } from '../lib/paths.js';
import { machineInfo } from '../lib/report.js';
import { busyShare, median, ratio, rotate, usPerMsg } from '../lib/stats.js';
import { passiveOpens, reconnectProblem } from '../lib/tcpstat.js';
import { fmtBusy, fmtFixed, fmtInt, fmtRatio, renderTable } from '../lib/table.js';
import type { ServerSpec } from '../lib/trial.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';

/** What one run of the tool reports: its rate, and how many requests that rate is over. */
export interface ToolRun {
  rps: number;
  requests: number;
  /** Something the tool saw that does not void the figure (listed under warnings). */
  note?: string;
  /** 99th percentile latency the tool measured, µs (shown when the suite sets `latency`). */
  p99Us?: number;
}

/** One invocation of the tool, reporting one metric (one table row per contender). */
export interface ToolWorkload {
  name: string;
  /** What the row measures, e.g. `GET /` or `SET`. */
  metric: string;
  /** The command and its arguments for a server on `port`, running about `seconds`. */
  command(port: number, seconds: number): [string, string[]];
  /** The tool's stdout read, or null when nothing readable; throws when the tool saw errors. */
  parse(stdout: string): ToolRun | null;
  /**
   * Each request is meant to be a connection of its own (wrk with `Connection: close`): the run
   * counts the connections the kernel accepted (lib/tcpstat.ts) and fails when they fall short.
   */
  connectionPerRequest?: boolean;
}

/** A contender; `prepare` makes an optional one runnable (e.g. installs it) or says why not. */
export interface ToolContender extends ServerSpec {
  /** Null when ready; otherwise why the contender is skipped (a warning, not a failure). */
  prepare?(log: (msg: string) => void): string | null;
}

/** A program a suite needs on PATH, and how to install it. */
export interface Requirement {
  cmd: string;
  install: string;
}

/** The outcome of a suite skipped for programs missing from PATH (a failure, saying what to install); null when all are there. */
export function missingTools(suite: string, requires: readonly Requirement[]): SuiteOutcome | null {
  const missing = requires.filter((r) => spawnSync('sh', ['-c', `command -v ${r.cmd}`]).status !== 0);
  if (missing.length === 0) return null;
  const msg = `missing ${missing.map((m) => m.cmd).join(', ')}: run perf/setup.sh (${missing.map((m) => m.install).join(', ')})`;
  return { text: `${suite} suite skipped: ${msg}\n`, json: { suite, skipped: msg }, failures: [msg], warnings: [] };
}

export interface ToolSuiteConfig {
  name: string;
  description: string;
  /** Programs the suite needs on PATH (say so clearly when missing). */
  requires: readonly Requirement[];
  contenders: readonly ToolContender[];
  workloads: readonly ToolWorkload[];
  subject: string;
  peers: readonly string[];
  /** [workload, metric] whose ratios are the headline. */
  headline: readonly [string, string];
  /**
   * Goals on the headline, reported as met or not (never an exit code: the machine is shared):
   * the subject's requests/s >= minRatio x each peer's.
   */
  targets?: readonly { peer: string; minRatio: number }[];
  /** The tool reports a p99 latency (ToolRun.p99Us): a column for its median. */
  latency?: boolean;
}

/**
 * One goal judged on req/s: `met` is null when either figure is missing. `cpuRatio` (the
 * subject's CPU per request over the peer's) judges nothing but says what the rate ratio means
 * when the tool, not the server, was the bottleneck (server busy well below 100%).
 */
export interface TargetResult {
  peer: string;
  minRatio: number;
  ratio: number | null;
  cpuRatio: number | null;
  met: boolean | null;
}

/** The targets judged on the headline ratios; `met` for all of them (null when one is unknown). */
export function judgeTargets(
  targets: readonly { peer: string; minRatio: number }[],
  ratios: Record<string, number | null>,
  cpuRatios: Record<string, number | null> = {},
): { targets: TargetResult[]; met: boolean | null } {
  const judged = targets.map((t) => {
    const r = ratios[t.peer] ?? null;
    return { peer: t.peer, minRatio: t.minRatio, ratio: r, cpuRatio: cpuRatios[t.peer] ?? null, met: r === null ? null : r >= t.minRatio };
  });
  const met = judged.some((t) => t.met === false) ? false : judged.some((t) => t.met === null) ? null : true;
  return { targets: judged, met };
}

/** One trial's figures, as kept in the results' `runDetails`. */
interface ToolRecord extends ToolRun {
  /** Wall time of the measured tool run. */
  seconds: number;
  /** Server CPU (whole process tree) over the measured tool run. */
  cpuSeconds: number;
  serverCpuUsPerMsg: number | null;
  serverBusy: number | null;
  strayTasks: string[] | null;
  /** connectionPerRequest workloads: connections the kernel accepted during the measured run (else null). */
  connections: number | null;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 24, cwd: repoRoot }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * One trial: a fresh server, an unmeasured warmup run of the tool (JIT, connection pools),
 * then the measured run with the server's CPU sampled just before and just after it, so the
 * CPU and the request count cover the same run (its connection setup included).
 */
async function trial(c: ToolContender, w: ToolWorkload, seconds: number, warmup: number, pin: Pinning | null): Promise<ToolRecord> {
  const server = await startServer(c.name, onCpus(pin?.server ?? null, c.argv), { cwd: repoRoot, timeoutMs: 15000 });
  try {
    const tool = (secs: number): Promise<string> => {
      const [cmd, ...args] = onCpus(pin?.loadgen ?? null, w.command(portOf(server.addr), secs).flat());
      return run(cmd!, args, (secs + 60) * 1000);
    };
    if (warmup > 0) await tool(warmup);
    const opens0 = w.connectionPerRequest ? passiveOpens() : null;
    const before = cpuSnapshot(server.pid);
    const t0 = performance.now();
    const out = await tool(seconds);
    const cpuSeconds = cpuSecondsBetween(before, cpuSnapshot(server.pid));
    const wall = (performance.now() - t0) / 1000;
    const opens1 = w.connectionPerRequest ? passiveOpens() : null;
    const strays = pin ? strayTasks(server.pid, pin.server) : null;
    const got = w.parse(out);
    if (got === null) throw new Error(`could not read ${w.command(0, 0)[0]}'s output:\n${out.slice(0, 500)}`);
    const connections = opens0 !== null && opens1 !== null ? opens1 - opens0 : null;
    const problem = w.connectionPerRequest ? reconnectProblem(got.requests, connections) : null;
    if (problem !== null) throw new Error(problem);
    return {
      ...got,
      seconds: wall,
      cpuSeconds,
      serverCpuUsPerMsg: usPerMsg(cpuSeconds, got.requests),
      serverBusy: pin ? busyShare(cpuSeconds, wall, pin.server.length) : null,
      strayTasks: strays,
      connections,
    };
  } finally {
    await stopServer(server, 5000);
  }
}

export function toolSuite(cfg: ToolSuiteConfig): Suite {
  return {
    name: cfg.name,
    description: cfg.description,
    contenders: cfg.contenders.map((c) => c.name),
    async run(ctx: SuiteContext): Promise<SuiteOutcome> {
      const { opts, log, pinning } = ctx;
      const missing = missingTools(cfg.name, cfg.requires);
      if (missing) return missing;
      const warnings: string[] = [];
      const skipped = new Map<string, string>();
      const contenders = cfg.contenders.filter((c) => opts.only === null || opts.only.includes(c.name));
      for (const c of contenders) {
        const why = c.prepare?.(log) ?? null;
        if (why === null) continue;
        skipped.set(c.name, why);
        warnings.push(`${c.name} skipped: ${why}`);
        log(`${c.name} skipped: ${why}`);
      }
      const runnable = contenders.filter((c) => !skipped.has(c.name));
      // key workload|metric|contender -> that cell's runs
      const records = new Map<string, ToolRecord[]>();
      const failures: string[] = [];
      for (const w of cfg.workloads) {
        for (let r = 0; r < opts.runs; r++) {
          for (const c of rotate(runnable, r)) {
            try {
              const rec = await trial(c, w, opts.seconds, opts.warmup, pinning);
              const k = `${w.name}|${w.metric}|${c.name}`;
              records.set(k, [...(records.get(k) ?? []), rec]);
              if (rec.strayTasks && rec.strayTasks.length > 0) {
                failures.push(`${w.name} ${w.metric} / ${c.name} run ${r + 1}: pinning did not hold, ${rec.strayTasks.length} task(s) of the server off its cores: ${rec.strayTasks.slice(0, 5).join('; ')}`);
              }
              if (rec.note) warnings.push(`${w.name} ${w.metric} / ${c.name} run ${r + 1}: ${rec.note}`);
              const cpu = rec.serverCpuUsPerMsg === null ? '-' : rec.serverCpuUsPerMsg.toFixed(2);
              const conns = rec.connections === null ? '' : `, ${rec.requests} requests over ${rec.connections} accepted connections`;
              log(`${w.name} ${w.metric} | run ${r + 1}/${opts.runs} | ${c.name}: ${Math.round(rec.rps)}/s, ${cpu} µs cpu/req${conns}`);
            } catch (e) {
              failures.push(`${w.name} / ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
              log(`${w.name} ${w.metric} | ${c.name}: FAILED`);
            }
          }
        }
      }

      type Figure = 'rps' | 'serverCpuUsPerMsg' | 'serverBusy' | 'p99Us';
      const med = (k: string, f: Figure): number | null =>
        median((records.get(k) ?? []).map((x) => x[f] ?? null).filter((v): v is number => v !== null));
      const rows: string[][] = [];
      const results: Record<string, unknown>[] = [];
      const ratios: Record<string, Record<string, number | null>> = {};
      const cpuRatios: Record<string, Record<string, number | null>> = {};
      const vs = `${cfg.subject}/this`;
      for (const w of cfg.workloads) {
        const cell = (name: string): string => `${w.name}|${w.metric}|${name}`;
        const subj = cell(cfg.subject);
        // Subject over peer: above 1 is better for the rate, below 1 for the CPU per request.
        const versus = (name: string, f: Figure): number | null => ratio(med(subj, f), med(cell(name), f));
        const key = `${w.name} ${w.metric}`;
        ratios[key] = Object.fromEntries(cfg.peers.map((p) => [p, versus(p, 'rps')]));
        cpuRatios[key] = Object.fromEntries(cfg.peers.map((p) => [p, versus(p, 'serverCpuUsPerMsg')]));
        for (const c of contenders) {
          const k = cell(c.name);
          const recs = records.get(k) ?? [];
          const why = skipped.get(c.name);
          const bad = recs.some((x) => (x.strayTasks?.length ?? 0) > 0);
          const check = why !== undefined ? 'skipped' : recs.length < opts.runs ? 'FAILED' : bad ? 'NOT PINNED' : 'ok';
          results.push({
            workload: w.name, metric: w.metric, contender: c.name,
            rps: med(k, 'rps'),
            serverCpuUsPerMsg: med(k, 'serverCpuUsPerMsg'),
            serverBusy: med(k, 'serverBusy'),
            ...(cfg.latency ? { p99Us: med(k, 'p99Us') } : {}),
            cpuSeconds: median(recs.map((x) => x.cpuSeconds)),
            ...(w.connectionPerRequest ? { requestsPerConnection: median(recs.flatMap((x) => (x.connections ? [x.requests / x.connections] : []))) } : {}),
            runs: recs.map((x) => x.rps),
            runDetails: recs,
            ...(why !== undefined ? { skipped: why } : {}),
          });
          const own = c.name === cfg.subject;
          rows.push([
            w.name, w.metric, c.name,
            fmtInt(med(k, 'rps')), own ? '' : fmtRatio(versus(c.name, 'rps'), '-'),
            fmtFixed(med(k, 'serverCpuUsPerMsg'), 2), own ? '' : fmtRatio(versus(c.name, 'serverCpuUsPerMsg'), '-'),
            ...(cfg.latency ? [fmtInt(med(k, 'p99Us'))] : []),
            ...(pinning ? [fmtBusy(med(k, 'serverBusy'))] : []),
            check,
          ]);
        }
      }
      const table = renderTable(
        [
          { header: 'workload', align: 'left' },
          { header: 'metric', align: 'left' },
          { header: 'contender', align: 'left' },
          { header: 'req/s (median)', align: 'right' },
          { header: `req/s: ${vs}`, align: 'right' },
          { header: 'CPU µs/req', align: 'right' },
          { header: `CPU/req: ${vs}`, align: 'right' },
          ...(cfg.latency ? [{ header: 'p99 µs', align: 'right' } as const] : []),
          ...(pinning ? [{ header: 'server busy', align: 'right' } as const] : []),
          { header: 'check', align: 'left' },
        ],
        rows,
      );
      const [hw, hm] = cfg.headline;
      const head = ratios[`${hw} ${hm}`] ?? {};
      const headCpu = cpuRatios[`${hw} ${hm}`] ?? {};
      const line = (r: Record<string, number | null>): string => cfg.peers.map((p) => `${cfg.subject} / ${p} = ${fmtRatio(r[p])}`).join(', ');
      const goals = cfg.targets ? judgeTargets(cfg.targets, head, headCpu) : null;
      const verdict = (met: boolean | null): string => (met === null ? 'n/a (missing results)' : met ? 'met' : 'NOT met');
      const perConn = cfg.workloads.filter((w) => w.connectionPerRequest).map((w) => `${w.name} ${w.metric}`);
      const text = [
        `${cfg.name} suite: ${opts.runs} run(s) x ${opts.seconds} s (+${opts.warmup} s warmup run of the tool, unmeasured); ${describePinning(pinning)}`,
        'CPU µs/req: user+system CPU of the server\'s whole process tree over the measured tool run / the requests it completed; every figure is a median over runs',
        '',
        table,
        '',
        `headline (${hw} ${hm}): ${line(head)}`,
        `headline CPU/req (${hw} ${hm}, lower is better): ${line(headCpu)}`,
        ...(goals ? [
          `targets (${hw} ${hm}, req/s): ${goals.targets.map((g) => `${cfg.subject} >= ${g.minRatio.toFixed(2)}x ${g.peer} (${fmtRatio(g.ratio)}, CPU/req ${fmtRatio(g.cpuRatio)}): ${verdict(g.met)}`).join('; ')}`,
          'with server busy well below 100% the tool was the bottleneck and the req/s ratio is its limit; the CPU/req ratio is then the one to read',
        ] : []),
        ...(perConn.length > 0 ? [`${perConn.join(', ')}: a new connection per request, checked against the connections the kernel accepted (requestsPerConnection in the JSON); CPU µs/req is CPU per connection`] : []),
        '',
      ].join('\n');
      const json = {
        suite: cfg.name,
        date: new Date().toISOString(),
        machine: machineInfo(),
        pinning,
        config: { runs: opts.runs, seconds: opts.seconds, warmup: opts.warmup, only: opts.only },
        results,
        ratios: head,
        ratiosByWorkload: ratios,
        cpuRatios: headCpu,
        cpuRatiosByWorkload: cpuRatios,
        ...(goals ? { targets: goals.targets, targetsMet: goals.met } : {}),
        ok: failures.length === 0,
        failures,
        warnings,
      };
      return { text, json, failures, warnings };
    },
  };
}
