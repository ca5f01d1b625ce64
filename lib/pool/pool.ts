/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The worker pool for blocking handler work: piscina threads, owned by the engine's thread, fed
 * through a shared-memory job channel (queue.ts). A reactor puts the jobs of each batch
 * straight into the channel; the pool's threads run *pumps* (long-lived piscina tasks) that take
 * jobs one after another and park when there are none, so a job costs no message, no hop through
 * the engine's thread and no reply. Jobs answer the connection themselves with `job.asyncWrite`,
 * straight into the owning reactor's inbox.
 *
 * The engine's thread keeps piscina's part: it starts pumps when reactors ask for more (up to
 * `maxThreads`), terminates the thread of a job that timed out, notices threads that died, and
 * runs through piscina directly what the channel cannot carry (`engine.offload`, which returns the
 * job's result; payloads v8.serialize refuses, such as a SharedArrayBuffer; jobs of more than a
 * quarter of the ring; a full ring).
 *
 * Outcome of a failed job (it threw, timed out, or its pool thread died): the reactor calls the
 * handler's `onJobError(c, err)` if it has one, else closes that connection with the error (which
 * `onClosed` receives). The reactor keeps serving either way.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { EngineHandle } from '../channel/remote.js';
import type { ConnRef } from '../conn.js';
import { createJobChannel } from './layout.js';
import { JobControl } from './control.js';
import { JobSubmitter } from './producer.js';
import type { JobRequest, PoolWorkerData, RunTask, PumpTask } from './tasks.js';
import { JobStats, type PoolStats } from './stats.js';
import { JOB_FAILED, JOB_RESULT, describeJobError, queueFull, timedOut, type JobFailure, type JobResult } from './outcome.js';

export { describeJobError };
export type { JobRequest, PoolWorkerData, RunTask, PumpTask };

/** `serve`'s `pool` option. */
export interface PoolOptions {
  /** The module whose exports are the task functions `(payload, job) => unknown`. Required. */
  filename: string | URL;
  /** Threads kept alive, waiting for jobs (default: half the available cores, at least 1). */
  minThreads?: number;
  /** Most threads, for the whole engine (default: available cores x 1.5, rounded up). */
  maxThreads?: number;
  /** Ms an idle thread above minThreads lives, about (default 30000). */
  idleTimeout?: number;
  /** Most jobs waiting for a thread; past it `offload` fails the job (default: unbounded). */
  maxQueue?: number;
  /** Jobs one thread runs at once when they await (async work). Default 1. */
  concurrentTasksPerWorker?: number;
  /** Default per-job timeout in ms (default: none). A timed-out job's thread is terminated. */
  timeout?: number;
}

/** How long a task of `run` may wait for a thread before pumps are asked to give one back. */
const YIELD_AFTER_MS = 5;

/** Tasks of `run` whose start the engine can see at once (more are counted as waiting until they settle). */
const STARTED_WORDS = 1024;

/** One pump as the engine tracks it. */
interface PumpRun {
  ctrl: AbortController;
  /** Position of the timed job this pump's thread is being terminated for. */
  killed: number | undefined;
  /** Its thread, looked up when it is terminated (so its records are read once it is gone). */
  worker: Worker | undefined;
}

const poolEntry = fileURLToPath(new URL('../../workers/pool.js', import.meta.url));

function int(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`option pool.${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

export class Pool {
  /**
   * The underlying piscina pool. Its threads run the channel's pumps: run your own work through
   * `engine.offload` rather than `piscina.run`, which may wait for a thread the pumps hold.
   */
  readonly piscina: Piscina;
  /** Tasks of `run` in flight: the word their thread sets when it starts them (-1: none), and when they were run. */
  private readonly inflight = new Map<Promise<unknown>, { word: number; at: number }>();
  /** Those words (PoolWorkerData.started), and the free ones. */
  private readonly started = new Int32Array(new SharedArrayBuffer(4 * STARTED_WORDS));
  private readonly freeStarted = Array.from({ length: STARTED_WORDS }, (_, i) => STARTED_WORDS - 1 - i);
  readonly defaultTimeout: number;
  /** @internal The job channel reactors put their jobs into, as this thread controls it. */
  /** The job counters in the channel (stats.ts). */
  private readonly jobStats: JobStats;
  readonly queue: JobControl;
  private readonly pumps: (PumpRun | undefined)[];
  private destroyed = false;
  private retry: NodeJS.Timeout | undefined;
  /** This thread's producer side of the channel. */
  private readonly submitter: JobSubmitter;
  /** Channel jobs whose result this thread waits for (engine.offload), by reply id. */
  private readonly replies = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextReply = 1;
  /** Jobs that may wait for a thread (-1: unbounded). */
  private readonly maxQueue: number;

  /**
   * @param report where failures of channel jobs go (the owning reactor): jobs that threw, timed
   *   out while running, or whose thread died. Failures of `run` reject its promise instead.
   */
  constructor(
    options: PoolOptions,
    handle: EngineHandle,
    private readonly report: (ref: ConnRef, err: Error) => void = () => undefined,
  ) {
    if (typeof options !== 'object' || options === null || !options.filename) {
      throw new TypeError('option pool needs a filename: the module exporting the job functions');
    }
    const f = options.filename;
    const file = f instanceof URL || /^file:/.test(String(f)) ? fileURLToPath(f) : path.resolve(String(f));
    if (!fs.existsSync(file)) throw new Error(`pool module not found: ${file}`);
    this.defaultTimeout = options.timeout === undefined ? 0 : int('timeout', options.timeout, 1);
    // piscina's defaults and clamping, resolved here: the channel is sized by maxThreads.
    const cpus = os.availableParallelism();
    let minThreads = options.minThreads === undefined ? Math.max(Math.floor(cpus / 2), 1) : int('minThreads', options.minThreads, 0);
    let maxThreads = options.maxThreads === undefined ? Math.ceil(cpus * 1.5) : int('maxThreads', options.maxThreads, 1);
    if (options.maxThreads !== undefined && minThreads > maxThreads) minThreads = maxThreads;
    if (maxThreads < minThreads) maxThreads = minThreads;
    const concurrency =
      options.concurrentTasksPerWorker === undefined ? 1 : int('concurrentTasksPerWorker', options.concurrentTasksPerWorker, 1);
    const idleTimeout = options.idleTimeout === undefined ? 30_000 : int('idleTimeout', options.idleTimeout, 0);
    const maxQueue = options.maxQueue === undefined ? -1 : int('maxQueue', options.maxQueue, 0);
    this.queue = new JobControl(
      createJobChannel({ maxThreads, minThreads, concurrency, maxQueue, timeout: this.defaultTimeout, linger: idleTimeout }),
    );
    this.jobStats = new JobStats(this.queue.sab);
    this.pumps = new Array<PumpRun | undefined>(maxThreads).fill(undefined);
    const data: PoolWorkerData = {
      handle,
      moduleUrl: pathToFileURL(file).href,
      queue: this.queue.sab,
      started: this.started.buffer as SharedArrayBuffer,
    };
    const o: ConstructorParameters<typeof Piscina>[0] = {
      filename: poolEntry,
      // 'sync' parks idle threads in Atomics.wait, which also freezes the timers and I/O of
      // jobs that await: only safe when each thread runs one job at a time.
      atomics: concurrency > 1 ? 'async' : 'sync',
      workerData: data,
      minThreads,
      maxThreads,
      // A pump above minThreads already waited idleTimeout for work before it gave its thread
      // back; piscina then ends the thread soon. (piscina's own default, 0, would end a thread
      // the moment it idles, a thread start per task for `run` under bursty load.)
      idleTimeout: Math.min(idleTimeout, 1000),
    };
    // No maxQueue for piscina: it would refuse pumps too. The channel enforces it for its jobs,
    // `run` for the others.
    this.maxQueue = maxQueue;
    if (options.concurrentTasksPerWorker !== undefined) o.concurrentTasksPerWorker = concurrency;
    this.piscina = new Piscina(o);
    this.piscina.on('message', (m: unknown) => this.onThreadMessage(m));
    this.submitter = new JobSubmitter(
      this.queue.sab,
      (jobs) => {
        for (const j of jobs) this.run(j).catch((err: Error) => this.report(j.ref, err));
      },
      (ref, err, reply) => this.failed(ref, err, reply),
    );
    this.listen();
    // minThreads pumps from the start: the first jobs find a parked thread.
    for (let i = 0; i < minThreads; i++) this.startPump();
  }

  /**
   * Runs jobs for their connections, as a reactor's `c.offload` does: through the channel, or
   * piscina for what it cannot carry. Failures go to the owning reactor.
   */
  /**
   * Engine thread (reads shared counters: no round trip). The job channel's counters: jobs waiting
   * and running, pool threads, and for finished jobs how many completed or failed and their mean
   * wait and run times. Jobs `engine.offload` runs through piscina directly are not in them.
   */
  stats(): PoolStats {
    return { queued: this.queue.queuedCount(), running: this.queue.running(), threads: this.piscina.threads.length, ...this.jobStats.read() };
  }

  submit(jobs: JobRequest[]): void {
    if (!this.destroyed) this.submitter.submit(jobs);
  }

  /**
   * Runs one job and waits for it: the promise settles with the job function's result or its
   * failure (which is not reported to the reactor). Through the channel when it can carry it.
   */
  offload(req: JobRequest): Promise<unknown> {
    if (this.destroyed) return this.run(req);
    const reply = this.nextReply;
    this.nextReply = reply >= 0x7fffffff ? 1 : reply + 1;
    const p = new Promise<unknown>((resolve, reject) => this.replies.set(reply, { resolve, reject }));
    const placed = this.submitter.put(req, reply);
    if (placed === 'fallback') {
      this.replies.delete(reply);
      return this.run(req);
    }
    if (placed === 'queued') this.submitter.signal(1);
    return p;
  }

  /**
   * Runs one job through piscina itself (not the channel); the promise settles with the job
   * function's result or its failure. For what the channel cannot carry.
   */
  run(req: JobRequest): Promise<unknown> {
    const timeout = req.timeout > 0 ? req.timeout : this.defaultTimeout;
    const queued = this.piscina.queueSize;
    if (this.maxQueue >= 0 && queued > 0 && queued >= this.maxQueue) return Promise.reject(queueFull(req.name, timeout));
    const signal = timeout > 0 ? AbortSignal.timeout(timeout) : undefined;
    const word = this.freeStarted.pop() ?? -1;
    if (word >= 0) Atomics.store(this.started, word, 0);
    const task: RunTask = { ref: req.ref, name: req.name, payload: req.payload, started: word };
    const p = this.piscina.run(task, { signal }).catch((e: unknown) => {
      throw describeJobError(e, req.name, timeout);
    });
    this.inflight.set(p, { word, at: performance.now() });
    const done = (): void => {
      this.inflight.delete(p);
      if (word >= 0) this.freeStarted.push(word);
      this.evaluate();
    };
    p.then(done, done);
    // The pumps may hold every thread: if it has not started by then, they give one back.
    this.retry ??= setTimeout(this.recheck, YIELD_AFTER_MS);
    return p;
  }

  /** Resolves once every job in flight has settled, or after `ms`. Jobs put after this call are not waited for. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    const mark = this.queue.tail;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight.keys()]),
      new Promise((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
    while (!this.queue.drained(mark) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    const stopped = new Error('ringloop: the engine stopped before the job ran');
    for (const w of this.replies.values()) w.reject(stopped);
    this.replies.clear();
    clearTimeout(this.retry);
    this.queue.close();
    Atomics.notify(this.queue.i32, this.queue.mainWord); // ends listen()'s wait
    await this.piscina.destroy();
  }

  /** Serves the channel's requests (more pumps, a thread to terminate) as they are raised. */
  private listen = (): void => {
    if (this.destroyed) return;
    const i32 = this.queue.i32;
    const word = this.queue.mainWord;
    const seen = Atomics.load(i32, word);
    if (this.queue.takeKills()) this.kills();
    if (this.queue.takeRequest()) this.evaluate();
    // A pending waitAsync does not keep the process alive.
    const w = Atomics.waitAsync(i32, word, seen);
    if (w.async) void w.value.then(this.listen);
    else setImmediate(this.listen);
  };

  /**
   * Starts the pumps the channel needs (jobs waiting beyond the parked pumps, up to maxThreads),
   * unless tasks of `run` wait for a thread: then as many pumps give theirs back, and this looks
   * again shortly, until every such task has started.
   */
  private evaluate(): void {
    if (this.destroyed) return;
    const waiting = this.waitingTasks();
    this.queue.requestYield(waiting);
    if (waiting > 0) {
      this.retry ??= setTimeout(this.recheck, YIELD_AFTER_MS);
      return;
    }
    for (let n = this.queue.wanted(); n > 0 && this.startPump(); n--);
  }

  private recheck = (): void => {
    this.retry = undefined;
    this.evaluate();
  };

  /**
   * Tasks of `run` not started YIELD_AFTER_MS after they were run (their thread sets their word
   * when it starts them; one dispatched to a free thread starts well within that).
   */
  private waitingTasks(): number {
    if (this.inflight.size === 0) return 0;
    const before = performance.now() - YIELD_AFTER_MS;
    let n = 0;
    for (const { word, at } of this.inflight.values()) {
      if (at <= before && (word < 0 || Atomics.load(this.started, word) === 0)) n++;
    }
    if (n === 0 && this.inflight.size > 0) {
      // Some are too recent to tell: look again then.
      for (const { word } of this.inflight.values()) {
        if (word < 0 || Atomics.load(this.started, word) === 0) {
          this.retry ??= setTimeout(this.recheck, YIELD_AFTER_MS);
          break;
        }
      }
    }
    return n;
  }

  private startPump(): boolean {
    const p = this.pumps.indexOf(undefined);
    if (p < 0 || this.destroyed) return false;
    const run: PumpRun = { ctrl: new AbortController(), killed: undefined, worker: undefined };
    this.pumps[p] = run;
    this.queue.pumpStarting(p);
    const task: PumpTask = { pump: p };
    this.piscina.run(task, { signal: run.ctrl.signal }).then(
      () => this.pumpEnded(p, run, undefined),
      (e: unknown) => this.pumpEnded(p, run, e),
    );
    return true;
  }

  /** Terminates the threads whose timed job ran out of time (as piscina does for a task's signal). */
  private kills(): void {
    for (let p = 0; p < this.pumps.length; p++) {
      const seq = this.queue.killRequest(p);
      const run = this.pumps[p];
      if (seq === undefined || !run || run.killed !== undefined) continue;
      run.killed = seq;
      const tid = this.queue.pumpThread(p);
      run.worker = this.piscina.threads.find((w) => w.threadId === tid);
      run.ctrl.abort();
    }
  }

  /** A pump left its loop (resolved) or lost its thread (rejected: died or terminated). */
  private pumpEnded(p: number, run: PumpRun, err: unknown): void {
    if (this.destroyed) return;
    if (err === undefined) {
      this.pumps[p] = undefined;
      this.evaluate();
      return;
    }
    if (this.queue.pumpThread(p) < 0) {
      // piscina refused or dropped it before it ran: start pumps again shortly, not at once.
      this.queue.pumpDied(p);
      this.pumps[p] = undefined;
      this.retry ??= setTimeout(this.recheck, YIELD_AFTER_MS);
      return;
    }
    const gone = (): void => {
      if (this.destroyed) return;
      for (const j of this.queue.pumpDied(p)) {
        this.failed(j.ref, j.seq === run.killed ? timedOut(j.name, j.timeout) : describeJobError(err, j.name, j.timeout), j.reply);
      }
      this.pumps[p] = undefined;
      this.evaluate();
    };
    // A terminated thread may still be running JS for a moment: read its records once it is gone.
    const w = run.worker;
    if (w && w.threadId >= 0) w.once('exit', gone);
    else gone();
  }

  /** A channel job failed: its waiter rejects (engine.offload), or its reactor is told. */
  private failed(ref: ConnRef, err: Error, reply: number): void {
    const w = reply !== 0 ? this.replies.get(reply) : undefined;
    if (reply === 0) this.report(ref, err);
    else if (w) {
      this.replies.delete(reply);
      w.reject(err);
    }
  }

  /** A pump reports a job's result (one this thread waits for) or its failure. */
  private onThreadMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    if (JOB_RESULT in m) {
      const r = (m as Record<string, unknown>)[JOB_RESULT] as JobResult;
      const w = this.replies.get(r.reply);
      this.replies.delete(r.reply);
      w?.resolve(r.value);
    } else if (JOB_FAILED in m) {
      const f = (m as Record<string, unknown>)[JOB_FAILED] as JobFailure;
      this.failed(f.ref, describeJobError(f.error, f.name, f.timeout), f.reply);
    }
  }
}
