/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The pool threads' side of the job channel (queue.ts). A *pump* is a long-lived piscina task
 * (workers/pool.ts) that takes jobs from the ring one after another and parks on the SIGNAL futex
 * word when there are none; producers count the parked pumps (WAITERS) and wake as many as jobs
 * arrived. Each job a pump runs has a record in the pump's region, written before the job can
 * start, so the engine can fail the jobs of a thread that died and tell when a drain is done.
 *
 * Exclusive jobs: a job with a timeout runs alone on its thread (as piscina runs abortable tasks),
 * and its pump advertises it (P_EXCL, P_EXCL_SEQ), so the timer of a job already running asks the
 * engine to terminate that thread (producer.ts, control.ts). Taken while other jobs still
 * run on the pump, it is *held* until they finish, and its timer may still cancel it meanwhile.
 *
 * Thread-safety: pump `p` is one thread's (the engine starts it there); the rest is shared.
 */
import * as L from './layout.js';
import { JobRing, type TakenJob } from './ring.js';

/** `take` found a job that its reactor had cancelled (timed out while queued): take again. */
export const SKIPPED = Symbol('skipped');

export class JobPump {
  private readonly layout: L.JobLayout;

  constructor(private readonly ring: JobRing) {
    this.layout = ring.layout;
  }

  /** Jobs one pump runs at once (concurrentTasksPerWorker). */
  get concurrency(): number {
    return this.layout.concurrency;
  }

  /** Job records per pump: the most jobs it may hold at once. */
  get entries(): number {
    return this.layout.entries;
  }

  /** Starts pump `p` on this thread. */
  pumpStarted(p: number, threadId: number): void {
    Atomics.store(this.layout.i32, this.layout.pump(p) + L.P_THREAD, threadId);
  }

  /** Leaves the loop (the engine starts another when work comes). */
  pumpExit(p: number): void {
    Atomics.store(this.layout.i32, this.layout.pump(p) + L.P_EXITED, 1);
    Atomics.sub(this.layout.i32, L.H_PUMPS, 1);
  }

  /** Leaves the loop if more than minThreads pumps run (an idle one gives its thread back). */
  retire(p: number): boolean {
    const i32 = this.layout.i32;
    for (;;) {
      const n = Atomics.load(i32, L.H_PUMPS);
      if (n <= this.layout.minThreads) return false;
      if (Atomics.compareExchange(i32, L.H_PUMPS, n, n - 1) === n) {
        Atomics.store(i32, this.layout.pump(p) + L.P_EXITED, 1);
        return true;
      }
    }
  }

  /** How long to park when idle: the linger time, or for ever when no more pumps than minThreads run. */
  get idleWait(): number {
    return Atomics.load(this.layout.i32, L.H_PUMPS) > this.layout.minThreads ? this.layout.linger : Infinity;
  }

  get closed(): boolean {
    return Atomics.load(this.layout.i32, L.H_CLOSED) !== 0;
  }

  /** Jobs published and not yet taken. */
  get queued(): number {
    return this.ring.queued;
  }

  /** Whether the engine wants threads back. */
  get yieldWanted(): boolean {
    return Atomics.load(this.layout.i32, L.H_YIELD) > 0;
  }

  /** Takes one yield request if there is one (the pump then gives its thread back). */
  yieldOne(): boolean {
    const i32 = this.layout.i32;
    for (;;) {
      const y = Atomics.load(i32, L.H_YIELD);
      if (y <= 0) return false;
      if (Atomics.compareExchange(i32, L.H_YIELD, y, y - 1) === y) return true;
    }
  }

  /**
   * Pump `p`: takes the next job into record `e`; null when the ring is empty, SKIPPED when the
   * job had been cancelled. A job with a timeout is marked as this pump's exclusive job: running,
   * or held when `others` jobs still run here (then `startHeld` before running it).
   */
  take(p: number, e: number, others: boolean): TakenJob | null | typeof SKIPPED {
    const l = this.layout;
    const i32 = l.i32;
    const pb = l.pump(p);
    Atomics.add(i32, pb + L.P_BUSY, 1); // before the claim, so a drain never sees the job nowhere
    const pos = this.ring.claim();
    if (pos === null) {
      Atomics.sub(i32, pb + L.P_BUSY, 1);
      return null;
    }
    const h = l.job(pos);
    const timeout = i32[h + L.J_TIMEOUT]!;
    // Record it before flipping the state, so a reactor whose cancel loses finds it running.
    const r = l.entry(p, e);
    i32[r + L.E_SEQ] = pos;
    i32[r + L.E_LOOP] = i32[h + L.J_LOOP]!;
    i32[r + L.E_SLOT] = i32[h + L.J_SLOT]!;
    i32[r + L.E_GEN] = i32[h + L.J_GEN]!;
    i32[r + L.E_TIMEOUT] = timeout;
    i32[r + L.E_REPLY] = i32[h + L.J_REPLY]!;
    // The record keeps what of the name fits it and lies in the first slot.
    const kept = Math.min(i32[h + L.J_NAME_LEN]!, L.NAME_BYTES, l.chunk - L.JOB_HEADER_BYTES);
    i32[r + L.E_NAME_LEN] = kept;
    const nameAt = h * 4 + L.JOB_HEADER_BYTES;
    l.u8.copyWithin((r + L.E_NAME) * 4, nameAt, nameAt + kept);
    Atomics.store(i32, r + L.E_STATE, 1);
    if (timeout > 0) {
      Atomics.store(i32, pb + L.P_EXCL_SEQ, pos);
      Atomics.store(i32, pb + L.P_EXCL, others ? L.EXCL_HELD : L.EXCL_RUNNING);
    }
    const won = this.ring.settle(pos);
    const job = won ? this.ring.read(pos) : SKIPPED;
    this.ring.release(pos);
    if (!won) this.finish(p, e, timeout);
    return job;
  }

  /** Pump `p`: its held timed job may run now, unless its reactor cancelled it meanwhile. */
  startHeld(p: number): boolean {
    return Atomics.compareExchange(this.layout.i32, this.layout.pump(p) + L.P_EXCL, L.EXCL_HELD, L.EXCL_RUNNING) === L.EXCL_HELD;
  }

  /** Pump `p`: the job in record `e` is done (`timeout`: the job's). */
  finish(p: number, e: number, timeout: number): void {
    const i32 = this.layout.i32;
    const pb = this.layout.pump(p);
    Atomics.store(i32, this.layout.entry(p, e) + L.E_STATE, 0);
    if (timeout > 0) Atomics.store(i32, pb + L.P_EXCL, L.EXCL_NONE);
    Atomics.sub(i32, pb + L.P_BUSY, 1);
  }

  /**
   * Pump `p`, with nothing to take: parks until a producer signals, or `ms` pass. Returns false if
   * the time passed and there is still nothing to do (the pump may give its thread back).
   */
  park(p: number, ms: number): boolean {
    const seen = this.parking(p);
    const timedOut = this.idle() && (ms <= 0 || Atomics.wait(this.layout.i32, L.H_SIGNAL, seen, ms) === 'timed-out');
    return this.parked(p, timedOut);
  }

  /** As `park`, without blocking the thread (jobs that await keep running); also ends when `other` settles. */
  async parkAsync(p: number, ms: number, other: Promise<unknown> | undefined): Promise<boolean> {
    const seen = this.parking(p);
    let timedOut = false;
    if (this.idle()) {
      if (ms <= 0 && !other) timedOut = true;
      else {
        const w = Atomics.waitAsync(this.layout.i32, L.H_SIGNAL, seen, ms > 0 ? ms : other ? Infinity : 0);
        const v = w.async ? await (other ? Promise.race([w.value, other]) : w.value) : w.value;
        timedOut = v === 'timed-out';
      }
    }
    return this.parked(p, timedOut);
  }

  /** Counts pump `p` as parked (producers then signal it); returns the signal word it waits on. */
  private parking(p: number): number {
    const i32 = this.layout.i32;
    Atomics.add(i32, L.H_WAITERS, 1);
    Atomics.store(i32, this.layout.pump(p) + L.P_WAITING, 1);
    return Atomics.load(i32, L.H_SIGNAL);
  }

  /** Pump `p` woke up: whether there may be work (false: it timed out with none). */
  private parked(p: number, timedOut: boolean): boolean {
    const i32 = this.layout.i32;
    Atomics.store(i32, this.layout.pump(p) + L.P_WAITING, 0);
    Atomics.sub(i32, L.H_WAITERS, 1);
    return !(timedOut && this.idle());
  }

  /** Nothing queued, and no reason to stop waiting (closing, yield requests). */
  private idle(): boolean {
    const i32 = this.layout.i32;
    return this.ring.queued === 0 && Atomics.load(i32, L.H_CLOSED) === 0 && Atomics.load(i32, L.H_YIELD) <= 0;
  }
}
