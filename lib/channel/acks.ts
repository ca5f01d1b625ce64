/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * Completion slots for `asyncWriteAck`: a SharedArrayBuffer table shared by every thread of an
 * engine. A producer takes a free slot (compare-exchange FREE -> PENDING), sends its token with the
 * write, and waits with `Atomics.waitAsync`; the owning reactor's JS stores the outcome and
 * notifies (native code cannot wake a JS waiter, so the reactor's batch carries the outcome).
 *
 * Outcome: bytes handed to the kernel (>= 0), or -errno: ENOTCONN (the connection had closed: the
 * bytes were dropped and never reached another connection), EPIPE/ECONNRESET (it failed while
 * flushing), ECANCELED (the engine stopped first).
 */
import os from 'node:os';

const FREE = 0;
const PENDING = -0x80000000;
/** Slots in the table: completions in flight at once, engine-wide. */
export const ACK_SLOTS = 1 << 14;
const CURSOR = ACK_SLOTS; // one extra word: the allocation cursor

export type WriteAck =
  | { status: 'written'; bytes: number }
  | { status: 'dropped'; code: string }
  | { status: 'full' }
  | { status: 'stopped' };

// A pending Atomics.waitAsync does not keep a thread alive: a worker whose only work left is an
// ack to wait for would exit first. One ref'd timer per thread stands in while any is pending.
let pendingWaits = 0;
let keeper: NodeJS.Timeout | undefined;
function keepAlive(delta: number): void {
  pendingWaits += delta;
  if (pendingWaits > 0 && !keeper) keeper = setInterval(() => {}, 1 << 30);
  else if (pendingWaits === 0 && keeper) {
    clearInterval(keeper);
    keeper = undefined;
  }
}

const names = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));

export class AckTable {
  readonly i32: Int32Array;

  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(4 * (ACK_SLOTS + 1));
  }

  constructor(sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
  }

  /** Takes a free slot; returns its token (index + 1), or 0 when every slot is in flight. */
  take(): number {
    const i32 = this.i32;
    for (let tries = 0; tries < 64; tries++) {
      const i = Atomics.add(i32, CURSOR, 1) & (ACK_SLOTS - 1);
      if (Atomics.compareExchange(i32, i, FREE, PENDING) === FREE) return i + 1;
    }
    return 0;
  }

  /** Gives back a slot whose write was never sent. */
  release(token: number): void {
    Atomics.store(this.i32, token - 1, FREE);
  }

  /** Resolves with the outcome once the reactor settles the token, and frees the slot. */
  async wait(token: number): Promise<WriteAck> {
    const i = token - 1;
    const w = Atomics.waitAsync(this.i32, i, PENDING);
    if (w.async) {
      keepAlive(1);
      try {
        await w.value;
      } finally {
        keepAlive(-1);
      }
    }
    const v = Atomics.load(this.i32, i);
    Atomics.store(this.i32, i, FREE);
    return v >= 0 ? { status: 'written', bytes: v } : { status: 'dropped', code: names.get(-v) ?? `E${-v}` };
  }

  /** Reactor side: records an outcome and wakes the waiter. */
  settle(token: number, result: number): void {
    const i = token - 1;
    if (i < 0 || i >= ACK_SLOTS) return;
    Atomics.store(this.i32, i, result === PENDING ? -1 : result);
    Atomics.notify(this.i32, i);
  }

  /** Engine stop: whatever is still pending will never be settled by a reactor. */
  cancelPending(): void {
    const ecanceled = os.constants.errno.ECANCELED;
    for (let i = 0; i < ACK_SLOTS; i++) {
      if (Atomics.compareExchange(this.i32, i, PENDING, -ecanceled) === PENDING) Atomics.notify(this.i32, i);
    }
  }
}
