/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The engine's thread's side of the job channel (queue.ts), driven by pool.ts: it starts
 * pumps when producers ask for more, terminates the thread of a timed job that ran out of time,
 * asks pumps to give their threads back when piscina tasks wait for one, fails the jobs of a pump
 * whose thread died, tells when the jobs before a mark are done, and closes the channel.
 *
 * Requests: any thread raises a flag word (H_REQUEST: more pumps; H_KILL: a pump's thread must be
 * terminated, P_KILL says which) with `askEngine`, which wakes the engine's thread through the
 * H_MAIN futex word once until it has looked (`takeRequest`, `takeKills`).
 */
import * as L from './layout.js';
import type { JobInfo } from './ring.js';

/** Raises a flag for the engine's thread and wakes it (once until it has looked). */
export function askEngine(i32: Int32Array, flag: typeof L.H_REQUEST | typeof L.H_KILL): void {
  if (Atomics.compareExchange(i32, flag, 0, 1) !== 0) return;
  Atomics.add(i32, L.H_MAIN, 1);
  Atomics.notify(i32, L.H_MAIN);
}

/** A job that was running on a thread that died, as its pump's record has it. */
export type LostJob = JobInfo;

const decoder = new TextDecoder();

export class JobControl {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  private readonly layout: L.JobLayout;

  constructor(sab: SharedArrayBuffer) {
    this.layout = new L.JobLayout(sab);
    this.sab = sab;
    this.i32 = this.layout.i32;
  }

  /** The futex word producers and pumps wake the engine's thread with. */
  get mainWord(): number {
    return L.H_MAIN;
  }

  /** Takes the "more pumps wanted" flag. */
  takeRequest(): boolean {
    return Atomics.exchange(this.i32, L.H_REQUEST, 0) !== 0;
  }

  /** Takes the "some pump must die" flag. */
  takeKills(): boolean {
    return Atomics.exchange(this.i32, L.H_KILL, 0) !== 0;
  }

  /** The timed job pump `p` must be terminated for, if that job still runs there. */
  killRequest(p: number): number | undefined {
    const i32 = this.i32;
    const b = this.layout.pump(p);
    if (Atomics.exchange(i32, b + L.P_KILL, 0) === 0) return undefined;
    const seq = Atomics.load(i32, b + L.P_KILL_SEQ);
    if (Atomics.load(i32, b + L.P_EXCL) !== L.EXCL_RUNNING || Atomics.load(i32, b + L.P_EXCL_SEQ) !== seq) return undefined;
    return seq;
  }

  /** How many pumps to start now (jobs waiting beyond the parked pumps, up to maxThreads). */
  wanted(): number {
    const i32 = this.i32;
    const room = this.layout.maxThreads - Atomics.load(i32, L.H_PUMPS);
    const waiting = Atomics.load(i32, L.H_QUEUED) - Atomics.load(i32, L.H_WAITERS);
    return Math.max(0, Math.min(room, waiting));
  }

  /** Pump `p` is about to start (counted in before its thread runs it). */
  pumpStarting(p: number): void {
    const i32 = this.i32;
    const b = this.layout.pump(p);
    i32.fill(0, b, b + this.layout.pumpInts);
    Atomics.store(i32, b + L.P_THREAD, -1);
    Atomics.add(i32, L.H_PUMPS, 1);
  }

  /** The worker threadId pump `p` runs on (-1 until it started). */
  pumpThread(p: number): number {
    return Atomics.load(this.i32, this.layout.pump(p) + L.P_THREAD);
  }

  /**
   * Pump `p`'s thread is gone without leaving the loop. Undoes its counts and returns the jobs it
   * was running (their refs, names, timeouts and positions), so they can be failed.
   */
  pumpDied(p: number): LostJob[] {
    const { i32, u8 } = this.layout;
    const b = this.layout.pump(p);
    const jobs: LostJob[] = [];
    for (let e = 0; e < this.layout.entries; e++) {
      const r = this.layout.entry(p, e);
      if (Atomics.load(i32, r + L.E_STATE) === 0) continue;
      const n = i32[r + L.E_NAME_LEN]!;
      jobs.push({
        seq: i32[r + L.E_SEQ]!,
        ref: { loop: i32[r + L.E_LOOP]!, slot: i32[r + L.E_SLOT]!, generation: i32[r + L.E_GEN]! },
        name: decoder.decode(u8.slice((r + L.E_NAME) * 4, (r + L.E_NAME) * 4 + n)),
        timeout: i32[r + L.E_TIMEOUT]!,
        reply: i32[r + L.E_REPLY]!,
      });
    }
    if (Atomics.load(i32, b + L.P_WAITING) !== 0) Atomics.sub(i32, L.H_WAITERS, 1);
    if (Atomics.load(i32, b + L.P_EXITED) === 0) Atomics.sub(i32, L.H_PUMPS, 1);
    i32.fill(0, b, b + this.layout.pumpInts);
    return jobs;
  }

  /** Asks `n` pumps to give their threads back (piscina has other tasks waiting). */
  requestYield(n: number): void {
    Atomics.store(this.i32, L.H_YIELD, n);
    if (n > 0) this.wakeAll();
  }

  /** Position the next job will get (a drain waits for the jobs before it). */
  get tail(): number {
    return Atomics.load(this.i32, L.H_TAIL);
  }

  /** Jobs published and not yet taken by a pump. */
  queuedCount(): number {
    return Math.max(0, Atomics.load(this.i32, L.H_QUEUED));
  }

  /** Jobs claimed by a pump and not finished (running, or held for a pump's exclusive job). */
  running(): number {
    let n = 0;
    for (let p = 0; p < this.layout.maxThreads; p++) n += Math.max(0, Atomics.load(this.i32, this.layout.pump(p) + L.P_BUSY));
    return n;
  }

  /** Whether every job put before position `mark` has been taken and finished. */
  drained(mark: number): boolean {
    const i32 = this.i32;
    if (((Atomics.load(i32, L.H_HEAD) - mark) | 0) < 0) return false;
    for (let p = 0; p < this.layout.maxThreads; p++) {
      const busy = Atomics.load(i32, this.layout.pump(p) + L.P_BUSY);
      if (busy <= 0) continue;
      let seen = 0;
      for (let e = 0; e < this.layout.entries; e++) {
        const r = this.layout.entry(p, e);
        if (Atomics.load(i32, r + L.E_STATE) === 0) continue;
        seen++;
        if (((Atomics.load(i32, r + L.E_SEQ) - mark) | 0) < 0) return false;
      }
      if (seen < busy) return false; // a job between its claim and its record
    }
    return true;
  }

  /** No more jobs run; parked pumps wake up and leave. */
  close(): void {
    Atomics.store(this.i32, L.H_CLOSED, 1);
    this.wakeAll();
  }

  private wakeAll(): void {
    Atomics.add(this.i32, L.H_SIGNAL, 1);
    Atomics.notify(this.i32, L.H_SIGNAL);
  }
}
