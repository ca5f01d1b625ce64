/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The pool's job channel: a bounded multi-producer, multi-consumer ring of jobs in a
 * SharedArrayBuffer. Reactors (producers) put the jobs their handlers offload straight into it;
 * the pool's threads (consumers) run *pumps*, long-lived piscina tasks that take jobs from it one
 * after another and park on a futex word when it is empty. So a job costs no message at all while
 * the pool is busy: no hop through the engine's thread, no per-job reply, and one futex wake-up
 * per reactor batch at most when a pump was parked. piscina still owns the threads (how many,
 * how long they live, terminating one whose job timed out); the engine's thread (pool.ts)
 * starts pumps on request, kills, and reports what only it can see (a thread that died).
 *
 * One file per part, each role's class meant for that role only:
 * - layout.ts: every word of the buffer, and its geometry;
 * - ring.ts: the ring protocol (claim, publish, take and free jobs of several slots);
 * - payload.ts: what a payload becomes in the ring (codec.ts: the compact encoding);
 * - producer.ts: reactors' side (put, signal, timeouts; JobSubmitter);
 * - pump.ts: the pool threads' side (take, park, jobs that run alone);
 * - control.ts: the engine thread's side (pumps, kills, yields, drains, closing);
 * - outcome.ts: results, failures and their error codes.
 *
 * Thread-safety: every method is safe from any thread holding a view of the same buffer.
 */
import { createJobChannel, type JobQueueOptions } from './layout.js';
import { JobProducer } from './producer.js';
import { JobPump, SKIPPED } from './pump.js';
import { JobRing, type TakenJob } from './ring.js';
import type { ConnRef } from '../conn.js';

/** What `take` returns for a job its reactor cancelled, for the users of this class. */
export { SKIPPED };

/**
 * Both ends of the ring over one buffer: for a thread that plays either (the ring's stress test);
 * the runtime's threads use their role's class.
 */
export class JobQueue {
  /** Allocates and initialises a channel. */
  static create(o: JobQueueOptions): SharedArrayBuffer {
    return createJobChannel(o);
  }

  readonly producer: JobProducer;
  readonly pump: JobPump;

  constructor(sab: SharedArrayBuffer) {
    const ring = new JobRing(sab);
    this.producer = new JobProducer(ring);
    this.pump = new JobPump(ring);
  }

  put(ref: ConnRef, name: string, payload: unknown, timeout: number, reply = 0): boolean {
    return this.producer.put(ref, name, payload, timeout, reply);
  }

  signal(n: number): void {
    this.producer.signal(n);
  }

  take(p: number, e: number, others: boolean): TakenJob | null | typeof SKIPPED {
    return this.pump.take(p, e, others);
  }

  finish(p: number, e: number, timeout: number): void {
    this.pump.finish(p, e, timeout);
  }

  park(p: number, ms: number): boolean {
    return this.pump.park(p, ms);
  }

  get queued(): number {
    return this.pump.queued;
  }
}
