import { clockTicks, cpuSecondsBetween, cpuSnapshot, machineTicks, selfTicks } from './cpu.js';
import { runLoadgen, type LoadgenOptions, type LoadgenResult } from './loadgen.js';
import { repoRoot } from './paths.js';
import { startServer, stopServer, type StopInfo } from './proc.js';

export interface ServerSpec {
  name: string;
  /** Full command line, run with the repository root as cwd. */
  argv: readonly string[];
}

export type LoadShape = Omit<LoadgenOptions, 'host' | 'port'>;

export interface TrialResult {
  load: LoadgenResult;
  loadgenExit: number;
  loadgenStderr: string;
  /** Server CPU (all its processes) while the loadgen ran, warmup included. */
  cpuSeconds: number;
  /** Wall time of the loadgen run the CPU figures cover. */
  wallSeconds: number;
  /**
   * Machine CPU over the same window not spent by the server, the loadgen or
   * this runner: someone else's work competing with the benchmark.
   */
  backgroundCpuSeconds: number;
  stop: StopInfo;
}

const LISTEN_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/**
 * One fresh server per trial: no state (JIT warmth, leaked buffers, a wedged
 * worker) carries from one measurement into the next.
 * Throws when the server cannot start or the loadgen produces no result.
 */
export async function runTrial(spec: ServerSpec, loadgenBin: string, shape: LoadShape): Promise<TrialResult> {
  const server = await startServer(spec.name, spec.argv, { cwd: repoRoot, timeoutMs: LISTEN_TIMEOUT_MS });
  let stopped: StopInfo | null = null;
  try {
    const t0 = performance.now();
    const machine0 = machineTicks();
    const self0 = selfTicks();
    const before = cpuSnapshot(server.pid);
    const run = await runLoadgen(loadgenBin, { ...shape, host: server.addr.host, port: server.addr.port });
    // Read /proc while every worker is still alive; after SIGTERM they vanish.
    const after = cpuSnapshot(server.pid);
    const self1 = selfTicks();
    const machine1 = machineTicks();
    const wallSeconds = (performance.now() - t0) / 1000;
    stopped = await stopServer(server, STOP_GRACE_MS);
    const cpuSeconds = cpuSecondsBetween(before, after);
    const ours = (self1 - self0) / clockTicks() + cpuSeconds;
    const machineBusy = (machine1.busy - machine0.busy) / clockTicks();
    return {
      load: run.result,
      loadgenExit: run.exitCode,
      loadgenStderr: run.stderr,
      cpuSeconds,
      wallSeconds,
      // Tick sampling makes this jitter by a few ticks, hence the floor at 0.
      backgroundCpuSeconds: Math.max(0, machineBusy - ours),
      stop: stopped,
    };
  } finally {
    if (stopped === null) await stopServer(server, STOP_GRACE_MS);
  }
}
