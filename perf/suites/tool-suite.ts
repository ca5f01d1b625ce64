// Suites driven by an external load tool (wrk, redis-benchmark) against real protocol servers.
// Same discipline as the TCP suites: fresh server per trial, contenders interleaved and rotated,
// medians of --runs, server CPU measured next to throughput, ratios against peers of one run.
import { execFile, spawnSync } from 'node:child_process';
import { cpuSecondsBetween, cpuSnapshot } from '../lib/cpu.js';
import { portOf } from '../lib/addr.js';
import { startServer, stopServer } from '../lib/proc.js';
import { repoRoot } from '../lib/paths.js';
import { machineInfo } from '../lib/report.js';
import { median, ratio } from '../lib/stats.js';
import { fmtFixed, fmtInt, renderTable } from '../lib/table.js';
import type { ServerSpec } from '../lib/trial.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';

export interface ToolWorkload {
  name: string;
  /** The command and its arguments for a server on `port`, running `seconds`. */
  command(port: number, seconds: number): [string, string[]];
  /** Metric name -> requests per second, from the tool's stdout. */
  parse(stdout: string): Record<string, number>;
}

export interface ToolSuiteConfig {
  name: string;
  description: string;
  /** Programs the suite needs on PATH (say so clearly when missing). */
  requires: readonly { cmd: string; install: string }[];
  contenders: readonly ServerSpec[];
  workloads: readonly ToolWorkload[];
  subject: string;
  peers: readonly string[];
  /** [workload, metric] whose ratios are the headline. */
  headline: readonly [string, string];
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 24, cwd: repoRoot }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function rotate<T>(a: readonly T[], k: number): T[] {
  return a.length ? [...a.slice(k % a.length), ...a.slice(0, k % a.length)] : [];
}

export function toolSuite(cfg: ToolSuiteConfig): Suite {
  return {
    name: cfg.name,
    description: cfg.description,
    contenders: cfg.contenders.map((c) => c.name),
    async run(ctx: SuiteContext): Promise<SuiteOutcome> {
      const { opts, log } = ctx;
      const missing = cfg.requires.filter((r) => spawnSync('sh', ['-c', `command -v ${r.cmd}`]).status !== 0);
      if (missing.length > 0) {
        const msg = `missing ${missing.map((m) => m.cmd).join(', ')}: run perf/setup.sh (${missing.map((m) => m.install).join(', ')})`;
        return { text: `${cfg.name} suite skipped: ${msg}\n`, json: { suite: cfg.name, skipped: msg }, failures: [msg], warnings: [] };
      }
      const contenders = cfg.contenders.filter((c) => opts.only === null || opts.only.includes(c.name));
      // key workload|metric|contender -> per-run rps; workload|contender -> cpu seconds
      const rps = new Map<string, number[]>();
      const cpu = new Map<string, number[]>();
      const failures: string[] = [];
      for (const w of cfg.workloads) {
        for (let r = 0; r < opts.runs; r++) {
          for (const c of rotate(contenders, r)) {
            try {
              const server = await startServer(c.name, c.argv, { cwd: repoRoot, timeoutMs: 15000 });
              try {
                const [cmd, args] = w.command(portOf(server.addr), opts.seconds);
                const before = cpuSnapshot(server.pid);
                const out = await run(cmd, args, (opts.seconds + 60) * 1000);
                const spent = cpuSecondsBetween(before, cpuSnapshot(server.pid));
                const metrics = w.parse(out);
                if (Object.keys(metrics).length === 0) throw new Error(`could not read ${cmd}'s output:\n${out.slice(0, 500)}`);
                for (const [m, v] of Object.entries(metrics)) {
                  const k = `${w.name}|${m}|${c.name}`;
                  rps.set(k, [...(rps.get(k) ?? []), v]);
                }
                cpu.set(`${w.name}|${c.name}`, [...(cpu.get(`${w.name}|${c.name}`) ?? []), spent]);
                log(`${w.name} | run ${r + 1}/${opts.runs} | ${c.name}: ${Object.entries(metrics).map(([m, v]) => `${m} ${Math.round(v)}/s`).join(', ')}, server cpu ${spent.toFixed(2)} s`);
              } finally {
                await stopServer(server, 5000);
              }
            } catch (e) {
              failures.push(`${w.name} / ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
              log(`${w.name} | ${c.name}: FAILED`);
            }
          }
        }
      }
      const rows: string[][] = [];
      const results: Record<string, unknown>[] = [];
      const ratios: Record<string, Record<string, number | null>> = {};
      for (const w of cfg.workloads) {
        const metrics = [...new Set([...rps.keys()].filter((k) => k.startsWith(`${w.name}|`)).map((k) => k.split('|')[1]!))];
        for (const m of metrics) {
          const subj = median(rps.get(`${w.name}|${m}|${cfg.subject}`) ?? []);
          const rr: Record<string, number | null> = {};
          for (const p of cfg.peers) rr[p] = ratio(subj, median(rps.get(`${w.name}|${m}|${p}`) ?? []));
          ratios[`${w.name} ${m}`] = rr;
          for (const c of contenders) {
            const v = median(rps.get(`${w.name}|${m}|${c.name}`) ?? []);
            const cs = median(cpu.get(`${w.name}|${c.name}`) ?? []);
            results.push({ workload: w.name, metric: m, contender: c.name, rps: v, runs: rps.get(`${w.name}|${m}|${c.name}`) ?? [], cpuSeconds: cs });
            const vsPeers = c.name === cfg.subject ? cfg.peers.map((p) => `${fmtFixed(rr[p] ?? null, 2)}x`).join(' / ') : '';
            rows.push([w.name, m, c.name, fmtInt(v), fmtFixed(cs, 2), vsPeers]);
          }
        }
      }
      const table = renderTable(
        [
          { header: 'workload', align: 'left' },
          { header: 'metric', align: 'left' },
          { header: 'contender', align: 'left' },
          { header: 'req/s (median)', align: 'right' },
          { header: 'server CPU s', align: 'right' },
          { header: `${cfg.subject} / ${cfg.peers.join(' / ')}`, align: 'right' },
        ],
        rows,
      );
      const [hw, hm] = cfg.headline;
      const head = ratios[`${hw} ${hm}`] ?? {};
      const text = `${cfg.name} suite: ${opts.runs} run(s) x ${opts.seconds} s\n\n${table}\n\nheadline (${hw} ${hm}): ${cfg.peers
        .map((p) => `${cfg.subject} / ${p} = ${head[p] === null || head[p] === undefined ? 'n/a' : `${head[p]!.toFixed(2)}x`}`)
        .join(', ')}\n`;
      return {
        text,
        json: { suite: cfg.name, machine: machineInfo(), results, ratios: head, ratiosByWorkload: ratios, failures },
        failures,
        warnings: [],
      };
    },
  };
}
