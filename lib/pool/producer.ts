/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The producers' side of the job channel (queue.ts): each reactor, and the engine's thread
 * (engine.offload, Pool.submit). A producer puts a batch of jobs into the ring, then signals once:
 * parked pumps wake, and the engine's thread is asked for more pumps when fewer are parked than
 * jobs arrived.
 *
 * Timeouts: when a job's timeout passes, its reactor's timer races the pump taking it to flip the
 * job's state word (ring.ts): if the timer wins, the job never runs. A job already running
 * has its thread to itself and its pump advertises it (pump.ts), so the timer asks the engine
 * to terminate that thread (control.ts); one its pump holds until its other jobs finish is
 * cancelled instead.
 */
import * as L from './layout.js';
import { JobRing } from './ring.js';
import { askEngine } from './control.js';
import { queueFull, timedOut } from './outcome.js';
import type { ConnRef } from '../conn.js';
import type { JobRequest } from './tasks.js';

/** What a reactor's timer learns about a job that ran out of time. */
export type Expiry = 'cancelled' | 'killing' | 'finished';

/** A producer's operations on the channel, with no policy (JobSubmitter adds it). */
export class JobProducer {
  private readonly layout: L.JobLayout;

  constructor(private readonly ring: JobRing) {
    this.layout = ring.layout;
  }

  /** Timeout in ms of a job put without one (0: none). */
  get defaultTimeout(): number {
    return this.layout.defaultTimeout;
  }

  /** Position of the last job `put` published. */
  get lastSeq(): number {
    return this.ring.lastSeq;
  }

  /** Whether `maxQueue` jobs already wait for a thread (the next one is refused). */
  full(): boolean {
    const { i32, maxQueue, maxThreads } = this.layout;
    if (maxQueue < 0) return false;
    const waiting = Atomics.load(i32, L.H_QUEUED) - Atomics.load(i32, L.H_WAITERS);
    return waiting >= maxQueue && Atomics.load(i32, L.H_PUMPS) >= maxThreads;
  }

  /** Queues one job (call `signal` after a batch); as JobRing.put. */
  put(ref: ConnRef, name: string, payload: unknown, timeout: number, reply = 0): boolean {
    return this.ring.put(ref, name, payload, timeout, reply);
  }

  /**
   * After a batch of `n` puts: wakes parked pumps, and asks the engine for more pumps when fewer
   * are parked than jobs arrived and more threads may run.
   */
  signal(n: number): void {
    const i32 = this.layout.i32;
    Atomics.add(i32, L.H_SIGNAL, 1);
    const waiters = Atomics.load(i32, L.H_WAITERS);
    // Async pumps may leave a stale waiter behind (Atomics.waitAsync cannot be withdrawn), which a
    // counted notify could wake instead of a parked pump: wake them all then.
    if (waiters > 0) Atomics.notify(i32, L.H_SIGNAL, this.layout.concurrency > 1 ? Infinity : n);
    if (waiters < n && Atomics.load(i32, L.H_PUMPS) < this.layout.maxThreads) askEngine(i32, L.H_REQUEST);
  }

  /**
   * The reactor that put job `seq`, when its timeout passes: cancels it if it has not started
   * ('cancelled': it will never run, report the timeout), or asks the engine to terminate the
   * thread running it ('killing': the engine reports it), or finds it finished.
   */
  expire(seq: number): Expiry {
    if (this.ring.settle(seq)) return 'cancelled';
    const l = this.layout;
    const i32 = l.i32;
    for (let p = 0; p < l.maxThreads; p++) {
      const b = l.pump(p);
      if (Atomics.load(i32, b + L.P_EXCL_SEQ) !== seq) continue;
      if (Atomics.compareExchange(i32, b + L.P_EXCL, L.EXCL_HELD, L.EXCL_CANCELLED) === L.EXCL_HELD) return 'cancelled';
      if (Atomics.load(i32, b + L.P_EXCL) !== L.EXCL_RUNNING || Atomics.load(i32, b + L.P_EXCL_SEQ) !== seq) continue;
      Atomics.store(i32, b + L.P_KILL_SEQ, seq);
      Atomics.store(i32, b + L.P_KILL, 1);
      askEngine(i32, L.H_KILL);
      return 'killing';
    }
    return 'finished';
  }
}

/** What `JobSubmitter.put` did with a job. */
export type Placed = 'queued' | 'refused' | 'fallback';

/**
 * A producer's side of the channel (loop-only; a reactor's, or the engine thread's): puts jobs,
 * arms the timeouts of those that have one, and leaves what the channel cannot carry to the
 * caller (`fallback`: the engine's thread runs it through piscina). Failures it sees itself
 * (EJOBQUEUEFULL, a job that timed out before it started) go to `failed`, never synchronously.
 */
export class JobSubmitter {
  private readonly q: JobProducer;

  constructor(
    sab: SharedArrayBuffer,
    private readonly fallback: (jobs: JobRequest[]) => void,
    private readonly failed: (ref: ConnRef, err: Error, reply: number) => void,
  ) {
    this.q = new JobProducer(new JobRing(sab));
  }

  /** One batch of jobs (ReactorHooks.offload). */
  submit = (jobs: JobRequest[]): void => {
    let n = 0;
    let slow: JobRequest[] | undefined;
    for (const j of jobs) {
      const r = this.put(j, 0);
      if (r === 'queued') n++;
      else if (r === 'fallback') (slow ??= []).push(j);
    }
    if (n > 0) this.q.signal(n);
    if (slow) this.fallback(slow);
  };

  /** Puts one job (call `signal` once the batch is in); `reply` as for JobRing.put. */
  put(j: JobRequest, reply: number): Placed {
    const q = this.q;
    const timeout = j.timeout > 0 ? j.timeout : q.defaultTimeout;
    if (q.full()) {
      const err = queueFull(j.name, timeout);
      setImmediate(() => this.failed(j.ref, err, reply));
      return 'refused';
    }
    if (!q.put(j.ref, j.name, j.payload, timeout, reply)) return 'fallback';
    if (timeout > 0) setTimeout(this.expire, timeout, q.lastSeq, j.ref, j.name, timeout, reply).unref();
    return 'queued';
  }

  /** Wakes pumps for `n` jobs just put. */
  signal(n: number): void {
    this.q.signal(n);
  }

  private expire = (seq: number, ref: ConnRef, name: string, timeout: number, reply: number): void => {
    if (this.q.expire(seq) === 'cancelled') this.failed(ref, timedOut(name, timeout), reply);
  };
}
