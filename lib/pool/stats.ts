/**
 * Pool wing: the pool's job counters, in its job channel's header (layout.ts H_STATS), so every
 * pool thread adds to them and the engine's thread reads them without a message. Pool threads
 * record (workers/pool.ts); the engine reads (`engine.stats().pool`). Thread-safe.
 */
import * as L from './layout.js';

/** Milliseconds since the epoch with sub-ms precision, the same on every thread (job queued/started times). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

const DONE = 0;
const FAILED = 1;
const WAIT_US = 2;
const RUN_US = 3;

/** The pool's counters, as `engine.stats().pool` gives them. */
export interface PoolStats {
  /** Jobs waiting for a pool thread. */
  queued: number;
  /** Jobs running now. */
  running: number;
  /** Pool threads started (piscina's, parked or busy). */
  threads: number;
  /** Jobs that returned (or resolved). */
  completed: number;
  /** Jobs that threw, rejected or could not be read back (timed-out jobs are not counted here: their thread is ended). */
  failed: number;
  /** Mean ms a finished job waited from `c.offload` to its start (0 before any). */
  waitTime: number;
  /** Mean ms a finished job ran (0 before any). */
  runTime: number;
}

/** The counters over a job channel (created by createJobChannel). */
export class JobStats {
  private readonly c: BigInt64Array;

  constructor(sab: SharedArrayBuffer) {
    this.c = new BigInt64Array(sab, L.H_STATS * 4, 4);
  }

  /** Pool thread: one job finished (`ok` false: it failed), having waited and run that many ms. */
  record(ok: boolean, waitMs: number, runMs: number): void {
    Atomics.add(this.c, ok ? DONE : FAILED, 1n);
    Atomics.add(this.c, WAIT_US, BigInt(Math.max(0, Math.round(waitMs * 1000))));
    Atomics.add(this.c, RUN_US, BigInt(Math.max(0, Math.round(runMs * 1000))));
  }

  /** The finished-job counters and means. */
  read(): Pick<PoolStats, 'completed' | 'failed' | 'waitTime' | 'runTime'> {
    const completed = Number(Atomics.load(this.c, DONE));
    const failed = Number(Atomics.load(this.c, FAILED));
    const n = completed + failed;
    const mean = (us: bigint): number => (n === 0 ? 0 : Number(us) / 1000 / n);
    return { completed, failed, waitTime: mean(Atomics.load(this.c, WAIT_US)), runTime: mean(Atomics.load(this.c, RUN_US)) };
  }
}
