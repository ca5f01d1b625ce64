import { existsSync } from 'node:fs';
import type { ListenAddr, Scheme } from './addr.js';
import { clockTicks, cpuSecondsBetween, cpuSnapshot, machineTicks, selfTicks, type CpuSnapshot } from './cpu.js';
import { runLoadgen, type LoadgenHooks, type LoadgenOptions, type LoadgenResult, type LoadgenRunOf } from './loadgen.js';
import { repoRoot } from './paths.js';
import { onCpus, strayTasks, type Pinning } from './pin.js';
import { startServer, stopServer, type StopInfo } from './proc.js';
import { releaseSocket, withFreshSocket } from './sockpath.js';

export interface ServerSpec {
  name: string;
  /**
   * Full command line, run with the repository root as cwd. UNIX_SOCKET
   * (lib/sockpath.ts) in it becomes a fresh socket path for each trial.
   */
  argv: readonly string[];
  /**
   * Processes the suite runs beside every trial as part of its setup (the proxy suite's
   * backend). Their CPU is the setup's own: not the server's, and not background either.
   */
  setupPids?: readonly number[];
}

export type LoadShape = Omit<LoadgenOptions, 'target'>;

/** The loadgen binary and the scheme it speaks: a server listening on another one is a config error. */
export interface LoadgenSpec {
  bin: string;
  scheme: Scheme;
}

/** One trial of a loadgen whose result line reads as `T`. */
export interface TrialResultOf<T> {
  load: T;
  loadgenExit: number;
  loadgenStderr: string;
  /**
   * Server CPU (user + system of all its processes and threads) over the measured window,
   * between the loadgen's `measure start` and `measure end` lines: the window its `msgs`
   * counts. Null when the loadgen printed no window (it stopped before measuring).
   */
  cpuSeconds: number | null;
  /** Wall time between the two window lines, as this runner saw them. */
  windowSeconds: number | null;
  /** Server CPU over the whole loadgen run: connect + warmup + measurement + close. */
  trialCpuSeconds: number;
  /** Wall time of the loadgen run the trial CPU figures cover. */
  wallSeconds: number;
  /**
   * Machine CPU over the same window not spent by the server, the loadgen or
   * this runner: someone else's work competing with the benchmark.
   */
  backgroundCpuSeconds: number;
  /**
   * Pinned trials: the server's tasks found off the server's cores at the end of the window
   * (empty: all of them on it). Null when not pinned.
   */
  strayTasks: string[] | null;
  stop: StopInfo;
  /** A Unix-socket server left its socket file behind after exiting (null: not a Unix socket). */
  socketLeft: boolean | null;
}

const LISTEN_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export type TrialResult = TrialResultOf<LoadgenResult>;

/** One load phase against the server at `target`, announcing its window through `hooks`. */
export type LoadPhase<T> = (target: ListenAddr, hooks: LoadgenHooks) => Promise<LoadgenRunOf<T>>;

/**
 * One fresh server per trial: no state (JIT warmth, leaked buffers, a wedged
 * worker) carries from one measurement into the next. With `pin`, the server
 * runs on `pin.server` and the loadgen on `pin.loadgen`.
 * Throws when the server cannot start or the loadgen produces no result.
 */
export function runTrial(spec: ServerSpec, loadgen: LoadgenSpec, shape: LoadShape, pin: Pinning | null): Promise<TrialResult> {
  return runTrialWith(spec, loadgen.scheme, (target, hooks) => runLoadgen(loadgen.bin, { ...shape, target }, hooks), pin);
}

/** runTrial with any loadgen: `load` runs it against the fresh server, which must speak `scheme`. */
export async function runTrialWith<T>(spec: ServerSpec, scheme: Scheme, load: LoadPhase<T>, pin: Pinning | null): Promise<TrialResultOf<T>> {
  const { argv, socketPath } = withFreshSocket(spec.argv);
  try {
    return await runServerTrial({ ...spec, argv }, scheme, load, pin, socketPath);
  } finally {
    // The server should have removed it; never leave one in the temp dir either way.
    if (socketPath !== null) releaseSocket(socketPath);
  }
}

/** The setup processes' CPU ticks now, as one snapshot (their trees merged). */
function setupTicks(pids: readonly number[] | undefined): CpuSnapshot {
  const all: CpuSnapshot = new Map();
  for (const pid of pids ?? []) for (const [p, t] of cpuSnapshot(pid)) all.set(p, t);
  return all;
}

async function runServerTrial<T>(spec: ServerSpec, scheme: Scheme, load: LoadPhase<T>, pin: Pinning | null, socketPath: string | null): Promise<TrialResultOf<T>> {
  const server = await startServer(spec.name, onCpus(pin?.server ?? null, spec.argv), { cwd: repoRoot, timeoutMs: LISTEN_TIMEOUT_MS });
  let stopped: StopInfo | null = null;
  try {
    if (server.addr.scheme !== scheme) {
      throw new Error(`${spec.name}: listens on ${server.url}, but this suite's loadgen speaks ${scheme}://`);
    }
    // The window's edges, sampled as the loadgen announces them.
    let open: { cpu: CpuSnapshot; at: number } | null = null;
    let window: { cpuSeconds: number; seconds: number } | null = null;
    let strays: string[] | null = null;
    const onMark = (mark: 'start' | 'end'): void => {
      if (mark === 'start') {
        open = { cpu: cpuSnapshot(server.pid), at: performance.now() };
      } else if (open !== null) {
        window = { cpuSeconds: cpuSecondsBetween(open.cpu, cpuSnapshot(server.pid)), seconds: (performance.now() - open.at) / 1000 };
        // Now every thread the server made under load exists (pool threads may start lazily).
        if (pin) strays = strayTasks(server.pid, pin.server);
      }
    };
    const t0 = performance.now();
    const machine0 = machineTicks();
    const self0 = selfTicks();
    const before = cpuSnapshot(server.pid);
    const setup0 = setupTicks(spec.setupPids);
    const run = await load(server.addr, { cpus: pin?.loadgen ?? null, onMark });
    // Read /proc while every worker is still alive; after SIGTERM they vanish.
    const after = cpuSnapshot(server.pid);
    const setup1 = setupTicks(spec.setupPids);
    const self1 = selfTicks();
    const machine1 = machineTicks();
    const wallSeconds = (performance.now() - t0) / 1000;
    stopped = await stopServer(server, STOP_GRACE_MS);
    const trialCpuSeconds = cpuSecondsBetween(before, after);
    const ours = (self1 - self0) / clockTicks() + trialCpuSeconds + cpuSecondsBetween(setup0, setup1);
    const machineBusy = (machine1.busy - machine0.busy) / clockTicks();
    // TypeScript cannot see the callback's assignment; name the type again.
    const win = window as { cpuSeconds: number; seconds: number } | null;
    return {
      load: run.result,
      loadgenExit: run.exitCode,
      loadgenStderr: run.stderr,
      cpuSeconds: win?.cpuSeconds ?? null,
      windowSeconds: win?.seconds ?? null,
      trialCpuSeconds,
      wallSeconds,
      // Tick sampling makes this jitter by a few ticks, hence the floor at 0.
      backgroundCpuSeconds: Math.max(0, machineBusy - ours),
      strayTasks: strays,
      stop: stopped,
      socketLeft: socketPath === null ? null : existsSync(socketPath),
    };
  } finally {
    if (stopped === null) await stopServer(server, STOP_GRACE_MS);
  }
}
