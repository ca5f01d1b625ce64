/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * Every word of the pool's job channel (queue.ts) in one place: the header, then one region
 * per pump (its header words, then a record per job it runs), then the ring's slots. Indexes are
 * Int32 indexes unless named *_BYTES. The geometry lives in the header, so `JobLayout` maps a
 * buffer made on another thread exactly as its creator did.
 */

// Header words.
export const H_TAIL = 0; // producer claim cursor
export const H_HEAD = 1; // consumer claim cursor
export const H_SIGNAL = 2; // futex word pumps park on; bumped after each batch of puts
export const H_WAITERS = 3; // pumps parked (or about to park) on SIGNAL
export const H_PUMPS = 4; // pumps started by the engine and not exited
export const H_QUEUED = 5; // jobs published and not yet taken
export const H_MAIN = 6; // futex word the engine's thread waits on (Atomics.waitAsync)
export const H_REQUEST = 7; // a producer wants more pumps
export const H_KILL = 8; // a pump must be terminated (see P_KILL)
export const H_YIELD = 9; // pumps that should give their thread back (engine tasks wait for one)
export const H_CLOSED = 10;
export const H_SLOTS = 11;
export const H_SLOT_BYTES = 12;
export const H_MAX_THREADS = 13;
export const H_MAX_QUEUE = 14; // -1: unbounded
export const H_TIMEOUT = 15; // default job timeout, ms (0: none)
export const H_ENTRIES = 16; // job records per pump (its most concurrent jobs)
export const H_CONCURRENCY = 17; // concurrentTasksPerWorker
export const H_LINGER = 18; // ms an idle pump above H_MIN waits for work before giving its thread back
export const H_MIN = 19; // pumps that stay (parked) however idle: the pool's minThreads
export const H_STATS = 20; // BigInt64 over words 20-27: the job counters of stats.ts
export const HEADER_INTS = 32;

// Per pump: a header, then one record per job it runs (the engine reads them if the thread dies).
export const P_BUSY = 0; // jobs claimed and not finished
export const P_WAITING = 1; // parked on SIGNAL
export const P_EXITED = 2; // left the pump loop (counted itself out of H_PUMPS)
export const P_KILL = 3; // a reactor asks the engine to terminate this pump's thread...
export const P_KILL_SEQ = 4; // ...because this timed job ran out of time
export const P_EXCL = 5; // the timed job this pump runs alone: EXCL_* state...
export const P_EXCL_SEQ = 6; // ...and its position
export const P_THREAD = 7; // worker threadId
export const PUMP_HEADER_INTS = 8;
export const E_STATE = 0; // 0 free, 1 running
export const E_SEQ = 1;
export const E_LOOP = 2;
export const E_SLOT = 3;
export const E_GEN = 4;
export const E_TIMEOUT = 5;
export const E_NAME_LEN = 6;
export const E_REPLY = 7;
export const E_NAME = 8;
export const NAME_BYTES = 48;
export const ENTRY_INTS = E_NAME + NAME_BYTES / 4;

export const EXCL_NONE = 0;
export const EXCL_RUNNING = 1;
export const EXCL_HELD = 2; // claimed, waiting for the pump's other jobs to finish
export const EXCL_CANCELLED = 3;

// Slot words, then data. The first slot of a job starts its data with the job header.
export const S_SEQ = 0;
export const S_STATE = 1;
export const SLOT_HEADER_BYTES = 8;
export const J_COUNT = 0;
export const J_LOOP = 1;
export const J_SLOT = 2;
export const J_GEN = 3;
export const J_TIMEOUT = 4;
export const J_KIND = 5;
export const J_NAME_LEN = 6;
export const J_PEER_LEN = 7;
export const J_LEN = 8;
export const J_REPLY = 9; // the engine's thread waits for the result (engine.offload): its id, else 0
export const J_QUEUED_AT = 10; // Float64 over words 10-11: when it was queued, ms since the epoch (stats.ts)
export const JOB_HEADER_BYTES = 48;

// J_KIND: how the payload was encoded (payload.ts).
export const KIND_BYTES = 1; // a Uint8Array's bytes
export const KIND_V8 = 2; // v8.serialize
export const KIND_CODEC = 3; // codec.ts

export const DEFAULT_JOB_SLOTS = 4096;
export const DEFAULT_JOB_SLOT_BYTES = 256;

export interface JobQueueOptions {
  /** Most pumps (the pool's maxThreads). */
  maxThreads: number;
  /** Jobs one pump runs at once (concurrentTasksPerWorker). */
  concurrency: number;
  /** Jobs waiting for a thread past which a job is refused (EJOBQUEUEFULL); -1 for none. */
  maxQueue: number;
  /** Default job timeout in ms (0: none). */
  timeout: number;
  /** Ms an idle pump waits before giving its thread back to piscina, once more than `minThreads` run. */
  linger: number;
  /** Pumps that stay parked however long they idle (minThreads). */
  minThreads: number;
  /** Ring slots, a power of two (default 4096). */
  slots?: number;
  /** Bytes per slot, a multiple of 8 (default 256). */
  slotBytes?: number;
}

/** Allocates and initialises a channel. */
export function createJobChannel(o: JobQueueOptions): SharedArrayBuffer {
  const slots = o.slots ?? DEFAULT_JOB_SLOTS;
  const slotBytes = o.slotBytes ?? DEFAULT_JOB_SLOT_BYTES;
  if (slots < 4 || (slots & (slots - 1)) !== 0 || slotBytes < 64 || slotBytes % 8 !== 0) {
    throw new RangeError(`job queue: slots must be a power of two >= 4 and slotBytes a multiple of 8 >= 64`);
  }
  const entries = Math.min(Math.max(1, o.concurrency), 4096);
  const pumpInts = PUMP_HEADER_INTS + entries * ENTRY_INTS;
  const sab = new SharedArrayBuffer(4 * (HEADER_INTS + o.maxThreads * pumpInts) + slots * slotBytes);
  const i32 = new Int32Array(sab);
  i32[H_SLOTS] = slots;
  i32[H_SLOT_BYTES] = slotBytes;
  i32[H_MAX_THREADS] = o.maxThreads;
  i32[H_MAX_QUEUE] = o.maxQueue;
  i32[H_TIMEOUT] = o.timeout;
  i32[H_ENTRIES] = entries;
  i32[H_CONCURRENCY] = o.concurrency;
  i32[H_LINGER] = Math.min(o.linger, 0x7fffffff);
  i32[H_MIN] = o.minThreads;
  const layout = new JobLayout(sab);
  // Each slot free for the ring's first lap (ring.ts).
  for (let i = 0; i < slots; i++) i32[layout.slot(i) + S_SEQ] = i;
  return sab;
}

/** A channel's geometry, read from its header, and the views every role reads and writes it through. */
export class JobLayout {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly slots: number;
  readonly slotBytes: number;
  /** Data bytes per slot (after its words). */
  readonly chunk: number;
  /** Most slots one job may take (a quarter of the ring): a larger one goes through piscina instead. */
  readonly maxJobSlots: number;
  readonly maxThreads: number;
  /** Jobs that may wait for a thread (-1: unbounded). */
  readonly maxQueue: number;
  readonly defaultTimeout: number;
  /** Job records per pump. */
  readonly entries: number;
  readonly concurrency: number;
  readonly linger: number;
  readonly minThreads: number;
  /** Int32s per pump region: its header words and job records. */
  readonly pumpInts: number;
  private readonly slotBase: number;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    const i32 = this.i32;
    this.slots = i32[H_SLOTS]!;
    this.slotBytes = i32[H_SLOT_BYTES]!;
    this.chunk = this.slotBytes - SLOT_HEADER_BYTES;
    this.maxJobSlots = this.slots / 4;
    this.maxThreads = i32[H_MAX_THREADS]!;
    this.maxQueue = i32[H_MAX_QUEUE]!;
    this.defaultTimeout = i32[H_TIMEOUT]!;
    this.entries = i32[H_ENTRIES]!;
    this.concurrency = i32[H_CONCURRENCY]!;
    this.linger = i32[H_LINGER]!;
    this.minThreads = i32[H_MIN]!;
    this.pumpInts = PUMP_HEADER_INTS + this.entries * ENTRY_INTS;
    this.slotBase = HEADER_INTS + this.maxThreads * this.pumpInts;
  }

  /** Int32 index of the slot at position `pos`. */
  slot(pos: number): number {
    return this.slotBase + (pos & (this.slots - 1)) * (this.slotBytes >> 2);
  }

  /** Int32 index of the header of the job whose first slot is at `pos` (J_* words). */
  job(pos: number): number {
    return this.slot(pos) + SLOT_HEADER_BYTES / 4;
  }

  /** Byte offset of the job at `pos`'s data, `at` bytes in (past the slot words of the slot it falls in). */
  data(pos: number, at: number): number {
    const i = Math.floor(at / this.chunk);
    return this.slot((pos + i) | 0) * 4 + SLOT_HEADER_BYTES + (at - i * this.chunk);
  }

  /** Int32 index of pump `p`'s header (P_* words). */
  pump(p: number): number {
    return HEADER_INTS + p * this.pumpInts;
  }

  /** Int32 index of pump `p`'s job record `e` (E_* words). */
  entry(p: number, e: number): number {
    return HEADER_INTS + p * this.pumpInts + PUMP_HEADER_INTS + e * ENTRY_INTS;
  }
}
