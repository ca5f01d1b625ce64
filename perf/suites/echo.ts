import { BUSY_WARN, machineBusyFraction } from '../lib/idle.js';
import { ensureCProgram, ensureLoadgen } from '../lib/loadgen.js';
import { runTrial, type ServerSpec } from '../lib/trial.js';
import { C_PROGRAMS, CONTENDERS, WORKLOADS, type Workload } from './echo-config.js';
import { buildEchoReport, isNoisy, type Cell, type RunRecord } from './echo-report.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function describeFailure(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runEcho(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { opts, log } = ctx;
  const contenders = CONTENDERS.filter((c) => opts.only === null || opts.only.includes(c.name));
  const bin = ensureLoadgen(log);
  for (const [src, out] of C_PROGRAMS) if (contenders.some((c) => c.argv[0] === out)) ensureCProgram(src, out, log);
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

  for (const w of WORKLOADS) {
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
          const t = await runTrial(c, bin, {
            conns: w.conns, size: w.size, depth: w.depth, seconds: opts.seconds, warmup: opts.warmup,
          });
          const rec: RunRecord = {
            msgsPerSec: t.load.msgsPerSec,
            cpuSeconds: t.cpuSeconds,
            wallSeconds: t.wallSeconds,
            backgroundCpuSeconds: t.backgroundCpuSeconds,
            msgs: t.load.msgs,
            seconds: t.load.seconds,
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
          };
          cell.runs.push(rec);
          const flag = rec.errors > 0 ? `  !! errors: ${rec.errors}` : '';
          const noise = isNoisy(rec) ? `  (background CPU ${rec.backgroundCpuSeconds.toFixed(2)} s)` : '';
          log(`${label}: ${Math.round(rec.msgsPerSec).toLocaleString('en-US')} msgs/s, server cpu ${rec.cpuSeconds.toFixed(2)} s${flag}${noise}`);
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
  return buildEchoReport([...cells.values()], opts, { busyBefore, busyAfter });
}

export const echoSuite: Suite = {
  name: 'echo',
  description: 'TCP echo throughput: ringloop vs node:net vs node:cluster(2), verified by perf/loadgen/echo_load.c',
  contenders: CONTENDERS.map((c) => c.name),
  run: runEcho,
};
