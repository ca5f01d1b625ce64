/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * The producer side of a reactor's inbox: a bounded multi-producer, single-consumer ring in a
 * SharedArrayBuffer (the consumer is native, native/inbox.cc). Layout in layout.ts.
 *
 * Protocol: a producer claims sequence `s` by compare-exchanging CLAIM from s to s+1, but only
 * while `s - HEAD < slots` (so a full ring is refused before anything is claimed); it then fills
 * slot `s & (slots - 1)` and publishes it by storing `s` into the slot's SEQ word. The consumer
 * takes slots strictly in sequence order and stops at the first unpublished one, so order is FIFO
 * by claim and, in particular, per producer.
 *
 * Backpressure: `tryPublish` returns false when the ring is full and nothing was written; the
 * caller decides (retry, `publishWait`, or report). Nothing is ever dropped silently and the queue
 * never grows past its slots.
 *
 * Payloads up to `inlineBytes` (slot size - 32) travel inline in the slot. Larger ones are copied
 * once into native memory (`native.stage`) and the slot carries the pointer; the consumer frees it.
 *
 * Wake-ups: the consumer sets PARKED before it sleeps. `wakeIfParked` clears it with a
 * compare-exchange, so among producers racing on one parked consumer exactly one writes its
 * eventfd; while the consumer is awake no producer makes a syscall.
 *
 * Thread-safety: every method is safe from any thread holding a Disruptor over the same buffer.
 */
import * as L from './layout.js';
import { native } from './native.js';

export interface DisruptorOptions {
  /** Number of slots, a power of two (default 4096). */
  slots?: number;
  /** Bytes per slot, a multiple of 8, at least 64 (default 256: 224 bytes inline). */
  slotBytes?: number;
}

export const DEFAULT_SLOTS = 4096;
export const DEFAULT_SLOT_BYTES = 256;

export class Disruptor {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly slots: number;
  private readonly slotInts: number;
  /** Largest payload that travels inline. */
  readonly inlineBytes: number;

  /** Allocates and initialises a new inbox. */
  static create(options: DisruptorOptions = {}): Disruptor {
    const slots = options.slots ?? DEFAULT_SLOTS;
    const slotBytes = options.slotBytes ?? DEFAULT_SLOT_BYTES;
    if (!Number.isInteger(slots) || slots < 2 || slots > 1 << 24 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`inbox slots must be a power of two between 2 and 2^24, got ${slots}`);
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 64 || slotBytes % 8 !== 0 || slotBytes > 65536) {
      throw new RangeError(`inbox slotBytes must be a multiple of 8 between 64 and 65536, got ${slotBytes}`);
    }
    const sab = new SharedArrayBuffer(L.HEADER_INTS * 4 + slots * slotBytes);
    const i32 = new Int32Array(sab);
    i32[L.SLOTS] = slots;
    i32[L.SLOT_BYTES] = slotBytes;
    i32[L.WAKE_FD] = -1;
    const slotInts = slotBytes / 4;
    // Each slot starts "published" for the lap before sequence 0, so no slot looks ready early.
    for (let i = 0; i < slots; i++) i32[L.HEADER_INTS + i * slotInts + L.SEQ] = (i - slots) | 0;
    return new Disruptor(sab);
  }

  /** Wraps an inbox created elsewhere (for example received through workerData). */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.slots = Atomics.load(this.i32, L.SLOTS);
    const slotBytes = Atomics.load(this.i32, L.SLOT_BYTES);
    this.slotInts = slotBytes / 4;
    this.inlineBytes = slotBytes - L.PAYLOAD_OFFSET;
  }

  /**
   * Publishes one message unless the ring is full (then returns false and nothing changed).
   * Does not wake the consumer: call `wakeIfParked` after a batch.
   */
  tryPublish(type: number, a: number, b: number, c: number, payload?: Uint8Array, token = 0): boolean {
    const len = payload ? payload.byteLength : 0;
    const staged = len > this.inlineBytes;
    let ptr = 0;
    if (staged) ptr = native.stage(payload!);
    const i32 = this.i32;
    let seq: number;
    for (;;) {
      seq = Atomics.load(i32, L.CLAIM);
      if (((seq - Atomics.load(i32, L.HEAD)) | 0) >= this.slots) {
        if (staged) native.unstage(lo32(ptr), hi32(ptr));
        return false;
      }
      if (Atomics.compareExchange(i32, L.CLAIM, seq, (seq + 1) | 0) === seq) break;
    }
    const base = L.HEADER_INTS + (seq & (this.slots - 1)) * this.slotInts;
    i32[base + L.TYPE] = type;
    i32[base + L.A] = a;
    i32[base + L.B] = b;
    i32[base + L.LEN] = len;
    i32[base + L.TOKEN] = token;
    if (staged) {
      i32[base + L.C] = 1;
      i32[base + L.PTR_LO] = lo32(ptr);
      i32[base + L.PTR_HI] = hi32(ptr);
    } else {
      i32[base + L.C] = c;
      if (len > 0) this.u8.set(payload!, base * 4 + L.PAYLOAD_OFFSET);
    }
    // The release: everything written above is visible to a consumer that sees this sequence.
    Atomics.store(i32, base + L.SEQ, seq);
    return true;
  }

  /** Wakes the consumer if it is parked; returns whether this call sent the wake-up. */
  wakeIfParked(): boolean {
    const i32 = this.i32;
    if (Atomics.load(i32, L.PARKED) !== 1 || Atomics.compareExchange(i32, L.PARKED, 1, 0) !== 1) return false;
    Atomics.add(i32, L.WAKERS, 1);
    const fd = Atomics.load(i32, L.WAKE_FD);
    if (fd >= 0) native.wake(fd);
    Atomics.sub(i32, L.WAKERS, 1);
    return true;
  }

  /**
   * Detaches the wake fd so the caller may close it: no producer can be signalling it once this
   * returns (a producer in the middle of a wake-up is waited for).
   */
  detachWakeFd(): number {
    const i32 = this.i32;
    Atomics.store(i32, L.PARKED, 0);
    const fd = Atomics.exchange(i32, L.WAKE_FD, -1);
    while (Atomics.load(i32, L.WAKERS) !== 0) {
      // A producer is between reading the fd and writing it: a few instructions, spin.
    }
    return fd;
  }

  /** Sets the consumer state (the engine marks a reactor stopped once it is gone). */
  setState(state: number): void {
    Atomics.store(this.i32, L.STATE, state);
  }

  /** `tryPublish` and, if it succeeded, `wakeIfParked`. */
  publish(type: number, a: number, b: number, c: number, payload?: Uint8Array, token = 0): boolean {
    if (!this.tryPublish(type, a, b, c, payload, token)) return false;
    this.wakeIfParked();
    return true;
  }

  /**
   * Publishes, waiting for room while the ring is full (polling with a growing delay up to 5 ms,
   * since the native consumer cannot notify a JS waiter). Resolves false if `timeoutMs` passes or
   * the consumer stopped.
   */
  async publishWait(
    type: number,
    a: number,
    b: number,
    c: number,
    payload?: Uint8Array,
    timeoutMs = 30_000,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let delay = 0;
    while (!this.publish(type, a, b, c, payload)) {
      if (this.state === L.STATE_STOPPED || Date.now() >= deadline) return false;
      this.wakeIfParked();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(5, delay + 1);
    }
    return true;
  }

  /** Messages claimed and not yet consumed. */
  get pending(): number {
    return (Atomics.load(this.i32, L.CLAIM) - Atomics.load(this.i32, L.HEAD)) | 0;
  }

  /** Open connections of the consuming reactor (maintained by it). */
  get connections(): number {
    return Atomics.load(this.i32, L.CONNS);
  }

  /** ACCEPT messages the consumer has taken so far. */
  get accepted(): number {
    return Atomics.load(this.i32, L.ACCEPTED);
  }

  /** Consumer state: STATE_RUNNING, STATE_STOPPING or STATE_STOPPED. */
  get state(): number {
    return Atomics.load(this.i32, L.STATE);
  }
}

/** The two Int32 words a staged payload's address travels in (user-space pointers fit in 53 bits). */
function lo32(ptr: number): number {
  return ptr % 0x100000000 | 0;
}
function hi32(ptr: number): number {
  return Math.floor(ptr / 0x100000000) | 0;
}
