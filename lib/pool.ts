/**
 * The worker pool for blocking handler work (piscina). Owned by the engine's thread; reactors send
 * their jobs there in one message per batch, and jobs answer the connection themselves with
 * `job.asyncWrite`, straight into the owning reactor's inbox.
 *
 * Outcome of a failed job (it threw, timed out, or its pool thread died): the reactor calls the
 * handler's `onJobError(c, err)` if it has one, else closes that connection with the error (which
 * `onClosed` receives). The reactor keeps serving either way.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { Piscina } from 'piscina';
import type { EngineHandle } from './remote.js';
import type { ConnRef } from './conn.js';

/** `serve`'s `pool` option. */
export interface PoolOptions {
  /** The module whose exports are the task functions `(payload, job) => unknown`. Required. */
  filename: string | URL;
  /** Threads kept alive (default 1). */
  minThreads?: number;
  /** Most threads (default: available cores x 1.5, rounded up). */
  maxThreads?: number;
  /** Ms an idle thread above minThreads lives (default 30000). */
  idleTimeout?: number;
  /** Most jobs waiting for a thread; past it `offload` fails the job (default: unbounded). */
  maxQueue?: number;
  /** Jobs one thread runs at once when they await (async work). Default 1. */
  concurrentTasksPerWorker?: number;
  /** Default per-job timeout in ms (default: none). A timed-out job's thread is terminated. */
  timeout?: number;
}

/** What a reactor sends for one offloaded job. */
export interface JobRequest {
  ref: ConnRef;
  name: string;
  payload: unknown;
  timeout: number;
}

/** Given to each pool thread (piscina workerData). */
export interface PoolWorkerData {
  handle: EngineHandle;
  moduleUrl: string;
}

const poolEntry = fileURLToPath(new URL('../workers/pool.js', import.meta.url));

function int(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`option pool.${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

export class Pool {
  readonly piscina: Piscina;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly defaultTimeout: number;

  constructor(options: PoolOptions, handle: EngineHandle) {
    if (typeof options !== 'object' || options === null || !options.filename) {
      throw new TypeError('option pool needs a filename: the module exporting the job functions');
    }
    const f = options.filename;
    const file = f instanceof URL || /^file:/.test(String(f)) ? fileURLToPath(f) : path.resolve(String(f));
    if (!fs.existsSync(file)) throw new Error(`pool module not found: ${file}`);
    const data: PoolWorkerData = { handle, moduleUrl: pathToFileURL(file).href };
    this.defaultTimeout = options.timeout === undefined ? 0 : int('timeout', options.timeout, 1);
    // Only keys the user set: piscina takes an explicit `undefined` as a value, not as "default".
    const o: ConstructorParameters<typeof Piscina>[0] = {
      filename: poolEntry,
      // 'sync' parks idle threads in Atomics.wait, which also freezes the timers and I/O of
      // jobs that await: only safe when each thread runs one job at a time.
      atomics: (options.concurrentTasksPerWorker ?? 1) > 1 ? 'async' : 'sync',
      workerData: data,
    };
    if (options.minThreads !== undefined) o.minThreads = int('minThreads', options.minThreads, 0);
    if (options.maxThreads !== undefined) o.maxThreads = int('maxThreads', options.maxThreads, 1);
    // piscina's own default (0) ends a thread the moment it idles: under bursty load that is a
    // thread start (milliseconds) per job. Keep idle threads for a while instead.
    o.idleTimeout = options.idleTimeout === undefined ? 30_000 : int('idleTimeout', options.idleTimeout, 0);
    if (options.maxQueue !== undefined) o.maxQueue = int('maxQueue', options.maxQueue, 0);
    if (options.concurrentTasksPerWorker !== undefined) {
      o.concurrentTasksPerWorker = int('concurrentTasksPerWorker', options.concurrentTasksPerWorker, 1);
    }
    this.piscina = new Piscina(o);
  }

  /** Runs one job; the promise settles with the job function's result or its failure. */
  run(req: JobRequest): Promise<unknown> {
    const timeout = req.timeout > 0 ? req.timeout : this.defaultTimeout;
    const signal = timeout > 0 ? AbortSignal.timeout(timeout) : undefined;
    const p = this.piscina.run({ ref: req.ref, name: req.name, payload: req.payload }, { signal }).catch((e: unknown) => {
      throw describeJobError(e, req.name, timeout);
    });
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Resolves once every job in flight has settled, or after `ms`. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.piscina.destroy();
  }
}

/** Job errors carry a code users can branch on: EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL. */
function describeJobError(e: unknown, name: string, timeout: number): Error {
  const base = e instanceof Error ? e : new Error(String(e));
  const aborted = base.name === 'AbortError' || /aborted/i.test(base.message);
  const full = /queue.*full|maxQueue/i.test(base.message);
  const code = aborted ? 'EJOBTIMEOUT' : full ? 'EJOBQUEUEFULL' : 'EJOBFAILED';
  const what = aborted ? `timed out after ${timeout} ms` : full ? 'refused: pool queue full' : `failed: ${base.message}`;
  const err = new Error(`job "${name}" ${what}`, { cause: base }) as Error & { code: string };
  err.code = code;
  return err;
}
