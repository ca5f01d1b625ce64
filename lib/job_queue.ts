/**
 * The pool's job channel: a bounded multi-producer, multi-consumer ring of jobs in a
 * SharedArrayBuffer. Reactors (producers) put the jobs their handlers offload straight into it;
 * the pool's threads (consumers) run *pumps*, long-lived piscina tasks that take jobs from it one
 * after another and park on a futex word when it is empty. So a job costs no message at all while
 * the pool is busy: no hop through the engine's thread, no per-job reply, and one futex wake-up
 * per reactor batch at most when a pump was parked. piscina still owns the threads (how many,
 * how long they live, terminating one whose job timed out); the engine's thread (lib/pool.ts)
 * starts pumps on request, kills, and reports what only it can see (a thread that died).
 *
 * Ring protocol (Vyukov's bounded MPMC queue, extended to jobs spanning several slots): slot `i`
 * starts with sequence `i`. A producer claims `k` consecutive positions `pos..pos+k-1` by checking
 * each slot's sequence equals its position (free for this lap) and then compare-exchanging TAIL
 * from `pos` to `pos + k`; it fills them and publishes the later slots, then the first (sequence
 * `position + 1`). A consumer claims a published first slot with a compare-exchange on HEAD (by
 * the job's slot count), copies the job out and frees each slot (sequence `position + slots`).
 * A full ring is refused up front (`put` returns false, nothing claimed): the caller falls back to
 * the engine's piscina queue, which is unbounded unless `maxQueue` says otherwise.
 *
 * Timeouts: a job's first slot also holds a state word, its position while queued. Whoever flips
 * it first wins: the pump taking the job, or the submitting reactor's timer cancelling it (the
 * job then never runs). A job with a timeout runs alone on its thread (as piscina runs abortable
 * tasks), and its pump advertises it, so the timer of a job already running asks the engine to
 * terminate that thread.
 *
 * Payloads: a Uint8Array (or Buffer) travels as its bytes; plain objects, arrays, strings, numbers
 * and Uint8Arrays in job_codec.ts's encoding; anything else as `v8.serialize` output. The job gets
 * what structured clone would give it, except that a typed array arrives as a copy of just its
 * bytes (its own buffer), never a view of the ring. What cannot be serialized (a SharedArrayBuffer,
 * say), needs more than a quarter of the ring, or finds the ring full takes the engine's piscina
 * queue instead.
 *
 * Thread-safety: every method is safe from any thread holding a JobQueue over the same buffer;
 * methods named for a role (producer, pump, engine) are meant for that role only.
 */
import v8 from 'node:v8';
import { Decoder, Encoder } from './job_codec.js';
import type { ConnRef } from './conn.js';
import type { JobRequest } from './pool.js';

// Header words.
const H_TAIL = 0; // producer claim cursor
const H_HEAD = 1; // consumer claim cursor
const H_SIGNAL = 2; // futex word pumps park on; bumped after each batch of puts
const H_WAITERS = 3; // pumps parked (or about to park) on SIGNAL
const H_PUMPS = 4; // pumps started by the engine and not exited
const H_QUEUED = 5; // jobs published and not yet taken
const H_MAIN = 6; // futex word the engine's thread waits on (Atomics.waitAsync)
const H_REQUEST = 7; // a producer wants more pumps
const H_KILL = 8; // a pump must be terminated (see P_KILL)
const H_YIELD = 9; // pumps that should give their thread back (engine tasks wait for one)
const H_CLOSED = 10;
const H_SLOTS = 11;
const H_SLOT_BYTES = 12;
const H_MAX_THREADS = 13;
const H_MAX_QUEUE = 14; // -1: unbounded
const H_TIMEOUT = 15; // default job timeout, ms (0: none)
const H_ENTRIES = 16; // job records per pump (its most concurrent jobs)
const H_CONCURRENCY = 17; // concurrentTasksPerWorker
const H_LINGER = 18; // ms an idle pump above H_MIN waits for work before giving its thread back
const H_MIN = 19; // pumps that stay (parked) however idle: the pool's minThreads
const HEADER_INTS = 32;

// Per pump: a header, then one record per job it runs (the engine reads them if the thread dies).
const P_BUSY = 0; // jobs claimed and not finished
const P_WAITING = 1; // parked on SIGNAL
const P_EXITED = 2; // left the pump loop (counted itself out of H_PUMPS)
const P_KILL = 3; // a reactor asks the engine to terminate this pump's thread...
const P_KILL_SEQ = 4; // ...because this timed job ran out of time
const P_EXCL = 5; // the timed job this pump runs alone: EXCL_* state...
const P_EXCL_SEQ = 6; // ...and its position
const P_THREAD = 7; // worker threadId
const PUMP_HEADER_INTS = 8;
const E_STATE = 0; // 0 free, 1 running
const E_SEQ = 1;
const E_LOOP = 2;
const E_SLOT = 3;
const E_GEN = 4;
const E_TIMEOUT = 5;
const E_NAME_LEN = 6;
const E_REPLY = 7;
const E_NAME = 8;
const NAME_BYTES = 48;
const ENTRY_INTS = E_NAME + NAME_BYTES / 4;

const EXCL_NONE = 0;
const EXCL_RUNNING = 1;
const EXCL_HELD = 2; // claimed, waiting for the pump's other jobs to finish
const EXCL_CANCELLED = 3;

// Slot words, then data. The first slot of a job starts its data with the job header.
const S_SEQ = 0;
const S_STATE = 1;
const SLOT_HEADER_BYTES = 8;
const J_COUNT = 0;
const J_LOOP = 1;
const J_SLOT = 2;
const J_GEN = 3;
const J_TIMEOUT = 4;
const J_KIND = 5;
const J_NAME_LEN = 6;
const J_PEER_LEN = 7;
const J_LEN = 8;
const J_REPLY = 9; // the engine's thread waits for the result (engine.offload): its id, else 0
const JOB_HEADER_BYTES = 48;

const KIND_BYTES = 1; // a Uint8Array's bytes
const KIND_V8 = 2; // v8.serialize
const KIND_CODEC = 3; // job_codec.ts

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

/** A job as a pump takes it. */
export interface TakenJob {
  seq: number;
  ref: ConnRef;
  name: string;
  /** Effective timeout in ms (0: none). */
  timeout: number;
  /** The engine's thread waits for the result under this id (engine.offload), or 0. */
  reply: number;
  payload: unknown;
  /** Set when the payload could not be read back (the job fails with it). */
  error?: unknown;
}

/** `take` found a job that its reactor had cancelled (timed out while queued): take again. */
export const SKIPPED = Symbol('skipped');

/** A job that was running on a thread that died. */
export interface LostJob {
  seq: number;
  ref: ConnRef;
  name: string;
  timeout: number;
  reply: number;
}

/** What a reactor's timer learns about a job that ran out of time. */
export type Expiry = 'cancelled' | 'killing' | 'finished';

/** Key of the message a pump posts (through piscina's worker port) when a job fails. */
export const JOB_FAILED = '__ringloopJobFailed';

/** That message's value. */
export interface JobFailure {
  ref: ConnRef;
  name: string;
  timeout: number;
  error: unknown;
  /** The job's reply id (engine.offload waits for it), or 0. */
  reply: number;
}

/** Key of the message a pump posts with the result of a job the engine's thread waits for. */
export const JOB_RESULT = '__ringloopJobResult';

/** That message's value. */
export interface JobResult {
  reply: number;
  value: unknown;
}

/** An error with one of the pool's codes (EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL). */
export type JobError = Error & { code: string };

/** Job errors carry a code users can branch on: EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL. */
export function describeJobError(e: unknown, name: string, timeout: number): JobError {
  const base = e instanceof Error ? e : new Error(String(e));
  const aborted = base.name === 'AbortError' || /aborted/i.test(base.message);
  const full = /queue.*full|queue.*limit|maxQueue/i.test(base.message);
  const code = aborted ? 'EJOBTIMEOUT' : full ? 'EJOBQUEUEFULL' : 'EJOBFAILED';
  const what = aborted ? `timed out after ${timeout} ms` : full ? 'refused: pool queue full' : `failed: ${base.message}`;
  const err = new Error(`job "${name}" ${what}`, { cause: base }) as JobError;
  err.code = code;
  return err;
}

/** The error of a job that ran out of time. */
export function timedOut(name: string, timeout: number): JobError {
  const e = new Error('The task has been aborted');
  e.name = 'AbortError';
  return describeJobError(e, name, timeout);
}

/** The error of a job refused because `maxQueue` jobs already wait. */
export function queueFull(name: string, timeout: number): JobError {
  return describeJobError(new Error('Task queue is at limit'), name, timeout);
}

/** Gives every typed array its own buffer, as structured clone does (the input is the ring). */
const readHostObject = (v8.DefaultDeserializer.prototype as unknown as { _readHostObject(this: v8.Deserializer): unknown })
  ._readHostObject;

class OwningDeserializer extends v8.DefaultDeserializer {
  /** Node's hook (untyped): typed arrays, which it returns as views into the input. */
  _readHostObject(): unknown {
    const v = readHostObject.call(this) as ArrayBufferView;
    if (v instanceof DataView) return new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    if (Buffer.isBuffer(v)) return new Uint8Array(v); // structured clone turns a Buffer into a Uint8Array
    return (v as Uint8Array).slice();
  }
}

function deserialize(bytes: Uint8Array): unknown {
  const d = new OwningDeserializer(bytes as Buffer);
  d.readHeader();
  return d.readValue();
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NO_BYTES = new Uint8Array(0);

export class JobQueue {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly slots: number;
  private readonly slotBytes: number;
  private readonly chunk: number;
  private readonly maxJobSlots: number;
  private readonly pumpBase: number;
  private readonly pumpInts: number;
  private readonly slotBase: number;
  /** Encoded job names (few, reused). */
  private readonly names = new Map<string, Uint8Array>();
  private encoder: Encoder | undefined;
  private readonly decoder = new Decoder();
  /** The whole buffer as a Buffer, for reading strings without a view per string. */
  private readonly buf: Buffer;
  /** Position of the last job `put` published. */
  lastSeq = 0;
  readonly maxThreads: number;
  readonly concurrency: number;
  readonly entries: number;
  readonly defaultTimeout: number;
  readonly linger: number;
  readonly minThreads: number;
  private readonly maxQueue: number;

  /** Allocates and initialises a channel. */
  static create(o: JobQueueOptions): SharedArrayBuffer {
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
    const q = new JobQueue(sab);
    for (let i = 0; i < slots; i++) i32[q.slotBase + (i * slotBytes) / 4 + S_SEQ] = i;
    return sab;
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.buf = Buffer.from(sab);
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
    this.pumpBase = HEADER_INTS;
    this.pumpInts = PUMP_HEADER_INTS + this.entries * ENTRY_INTS;
    this.slotBase = HEADER_INTS + this.maxThreads * this.pumpInts;
  }

  /** Int32 index of the slot at position `pos`. */
  private slot(pos: number): number {
    return this.slotBase + (pos & (this.slots - 1)) * (this.slotBytes >> 2);
  }

  private pump(p: number): number {
    return this.pumpBase + p * this.pumpInts;
  }

  private entry(p: number, e: number): number {
    return this.pumpBase + p * this.pumpInts + PUMP_HEADER_INTS + e * ENTRY_INTS;
  }

  // ---- producers (reactors) ----

  /** Producer: whether `maxQueue` jobs already wait for a thread (the next one is refused). */
  full(): boolean {
    if (this.maxQueue < 0) return false;
    const i32 = this.i32;
    const waiting = Atomics.load(i32, H_QUEUED) - Atomics.load(i32, H_WAITERS);
    return waiting >= this.maxQueue && Atomics.load(i32, H_PUMPS) >= this.maxThreads;
  }

  /**
   * Producer: queues one job (call `signal` after a batch). Returns false, having queued nothing,
   * when the ring is full or the payload cannot travel through it; `lastSeq` names the job.
   * `reply`: the id the pump posts the job's result with (0: nobody waits for it).
   */
  put(ref: ConnRef, name: string, payload: unknown, timeout: number, reply = 0): boolean {
    let kind: number;
    let bytes: Uint8Array;
    if (payload instanceof Uint8Array && (payload.constructor === Uint8Array || Buffer.isBuffer(payload))) {
      kind = KIND_BYTES;
      bytes = payload;
    } else {
      const enc = (this.encoder ??= new Encoder(this.maxJobSlots * this.chunk));
      const coded = enc.encode(payload);
      if (coded !== null) {
        kind = KIND_CODEC;
        bytes = coded;
      } else {
        try {
          bytes = v8.serialize(payload);
        } catch {
          return false;
        }
        kind = KIND_V8;
      }
    }
    let nameBytes = this.names.get(name);
    if (nameBytes === undefined) {
      nameBytes = encoder.encode(name);
      if (this.names.size < 256) this.names.set(name, nameBytes);
    }
    const peerBytes = ref.peer === undefined ? NO_BYTES : encoder.encode(ref.peer);
    const total = JOB_HEADER_BYTES + nameBytes.byteLength + peerBytes.byteLength + bytes.byteLength;
    const k = Math.ceil(total / this.chunk);
    if (k > this.maxJobSlots) return false;
    const i32 = this.i32;
    let pos = Atomics.load(i32, H_TAIL);
    claim: for (;;) {
      for (let i = 0; i < k; i++) {
        const p = (pos + i) | 0;
        const dif = (Atomics.load(i32, this.slot(p) + S_SEQ) - p) | 0;
        if (dif < 0) return false; // not yet freed from the previous lap: full
        if (dif > 0) {
          pos = Atomics.load(i32, H_TAIL); // another producer got there first
          continue claim;
        }
      }
      const got = Atomics.compareExchange(i32, H_TAIL, pos, (pos + k) | 0);
      if (got === pos) break;
      pos = got;
    }
    const first = this.slot(pos);
    const h = first + SLOT_HEADER_BYTES / 4;
    i32[h + J_COUNT] = k;
    i32[h + J_LOOP] = ref.loop;
    i32[h + J_SLOT] = ref.slot;
    i32[h + J_GEN] = ref.generation;
    i32[h + J_TIMEOUT] = timeout;
    i32[h + J_KIND] = kind;
    i32[h + J_NAME_LEN] = nameBytes.byteLength;
    i32[h + J_PEER_LEN] = peerBytes.byteLength;
    i32[h + J_LEN] = bytes.byteLength;
    i32[h + J_REPLY] = reply;
    let at = JOB_HEADER_BYTES;
    at = this.copyIn(pos, at, nameBytes);
    at = this.copyIn(pos, at, peerBytes);
    this.copyIn(pos, at, bytes);
    for (let i = 1; i < k; i++) {
      const p = (pos + i) | 0;
      const s = this.slot(p);
      i32[s + S_STATE] = pos; // never equal to p: only the first slot's state means anything
      Atomics.store(i32, s + S_SEQ, (p + 1) | 0);
    }
    i32[first + S_STATE] = pos;
    // The release: a consumer that sees this sequence sees the whole job.
    Atomics.store(i32, first + S_SEQ, (pos + 1) | 0);
    Atomics.add(i32, H_QUEUED, 1);
    this.lastSeq = pos;
    return true;
  }

  /** Copies `src` into the job at `pos`, starting `at` bytes into its data; returns the new offset. */
  private copyIn(pos: number, at: number, src: Uint8Array): number {
    let done = 0;
    const n = src.byteLength;
    while (done < n) {
      const i = Math.floor(at / this.chunk);
      const off = at - i * this.chunk;
      const len = Math.min(n - done, this.chunk - off);
      const byte = this.slot((pos + i) | 0) * 4 + SLOT_HEADER_BYTES + off;
      this.u8.set(len === n ? src : src.subarray(done, done + len), byte);
      done += len;
      at += len;
    }
    return at;
  }

  /** Copies `n` bytes of the job at `pos` from `at` bytes into its data: a view when they are contiguous. */
  private copyOut(pos: number, at: number, n: number, view: boolean): Uint8Array {
    const i = Math.floor(at / this.chunk);
    const off = at - i * this.chunk;
    if (off + n <= this.chunk) {
      const byte = this.slot((pos + i) | 0) * 4 + SLOT_HEADER_BYTES + off;
      return view ? new Uint8Array(this.sab, byte, n) : this.u8.slice(byte, byte + n);
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const j = Math.floor(at / this.chunk);
      const o = at - j * this.chunk;
      const len = Math.min(n - done, this.chunk - o);
      const byte = this.slot((pos + j) | 0) * 4 + SLOT_HEADER_BYTES + o;
      out.set(this.u8.subarray(byte, byte + len), done);
      done += len;
      at += len;
    }
    return out;
  }

  /** A string of the job at `pos`, `at` bytes into its data. */
  private text(pos: number, at: number, n: number): string {
    const [u8, off] = this.contiguous(pos, at, n);
    return u8 === this.u8 ? this.buf.toString('utf8', off, off + n) : decoder.decode(u8);
  }

  /** Bytes of the job at `pos` as (array, offset): the ring itself when they are contiguous, else a copy. */
  private contiguous(pos: number, at: number, n: number): [Uint8Array, number] {
    const i = Math.floor(at / this.chunk);
    const off = at - i * this.chunk;
    if (off + n <= this.chunk) return [this.u8, this.slot((pos + i) | 0) * 4 + SLOT_HEADER_BYTES + off];
    return [this.copyOut(pos, at, n, false), 0];
  }

  /**
   * Producer, after a batch of `n` puts: wakes parked pumps, and asks the engine for more pumps
   * when fewer are parked than jobs arrived and more threads may run.
   */
  signal(n: number): void {
    const i32 = this.i32;
    Atomics.add(i32, H_SIGNAL, 1);
    const waiters = Atomics.load(i32, H_WAITERS);
    // Async pumps may leave a stale waiter behind (Atomics.waitAsync cannot be withdrawn), which a
    // counted notify could wake instead of a parked pump: wake them all then.
    if (waiters > 0) Atomics.notify(i32, H_SIGNAL, this.concurrency > 1 ? Infinity : n);
    if (waiters < n && Atomics.load(i32, H_PUMPS) < this.maxThreads) this.ask(H_REQUEST);
  }

  /** Raises a flag for the engine's thread and wakes it (once until it has looked). */
  private ask(flag: number): void {
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, flag, 0, 1) !== 0) return;
    Atomics.add(i32, H_MAIN, 1);
    Atomics.notify(i32, H_MAIN);
  }

  /**
   * Producer (the reactor that put job `seq`), when its timeout passes: cancels it if it has not
   * started ('cancelled': it will never run, report the timeout), or asks the engine to terminate
   * the thread running it ('killing': the engine reports it), or finds it finished.
   */
  expire(seq: number): Expiry {
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, this.slot(seq) + S_STATE, seq, ~seq) === seq) return 'cancelled';
    for (let p = 0; p < this.maxThreads; p++) {
      const b = this.pump(p);
      if (Atomics.load(i32, b + P_EXCL_SEQ) !== seq) continue;
      if (Atomics.compareExchange(i32, b + P_EXCL, EXCL_HELD, EXCL_CANCELLED) === EXCL_HELD) return 'cancelled';
      if (Atomics.load(i32, b + P_EXCL) !== EXCL_RUNNING || Atomics.load(i32, b + P_EXCL_SEQ) !== seq) continue;
      Atomics.store(i32, b + P_KILL_SEQ, seq);
      Atomics.store(i32, b + P_KILL, 1);
      this.ask(H_KILL);
      return 'killing';
    }
    return 'finished';
  }

  // ---- pumps (pool threads) ----

  /** Pump: starts pump `p` on this thread. */
  pumpStarted(p: number, threadId: number): void {
    Atomics.store(this.i32, this.pump(p) + P_THREAD, threadId);
  }

  /** Pump: leaves the loop (the engine starts another when work comes). */
  pumpExit(p: number): void {
    Atomics.store(this.i32, this.pump(p) + P_EXITED, 1);
    Atomics.sub(this.i32, H_PUMPS, 1);
  }

  /** Pump: leaves the loop if more than minThreads pumps run (an idle one gives its thread back). */
  retire(p: number): boolean {
    const i32 = this.i32;
    for (;;) {
      const n = Atomics.load(i32, H_PUMPS);
      if (n <= this.minThreads) return false;
      if (Atomics.compareExchange(i32, H_PUMPS, n, n - 1) === n) {
        Atomics.store(i32, this.pump(p) + P_EXITED, 1);
        return true;
      }
    }
  }

  /** Pump: how long to park when idle: the linger time, or for ever when no more pumps than minThreads run. */
  get idleWait(): number {
    return Atomics.load(this.i32, H_PUMPS) > this.minThreads ? this.linger : Infinity;
  }

  get closed(): boolean {
    return Atomics.load(this.i32, H_CLOSED) !== 0;
  }

  /** Jobs published and not yet taken. */
  get queued(): number {
    return Atomics.load(this.i32, H_QUEUED);
  }

  /** Pump: whether the engine wants threads back. */
  get yieldWanted(): boolean {
    return Atomics.load(this.i32, H_YIELD) > 0;
  }

  /** Pump: takes one yield request if there is one (the pump then gives its thread back). */
  yieldOne(): boolean {
    const i32 = this.i32;
    for (;;) {
      const y = Atomics.load(i32, H_YIELD);
      if (y <= 0) return false;
      if (Atomics.compareExchange(i32, H_YIELD, y, y - 1) === y) return true;
    }
  }

  /**
   * Pump `p`: takes the next job into record `e`; null when the ring is empty, SKIPPED when the
   * job had been cancelled. A job with a timeout is marked as this pump's exclusive job: running,
   * or held when `others` jobs still run here (then `startHeld` before running it).
   */
  take(p: number, e: number, others: boolean): TakenJob | null | typeof SKIPPED {
    const i32 = this.i32;
    const pb = this.pump(p);
    Atomics.add(i32, pb + P_BUSY, 1); // before the claim, so a drain never sees the job nowhere
    let pos = Atomics.load(i32, H_HEAD);
    let first = 0;
    let k = 0;
    for (;;) {
      first = this.slot(pos);
      const dif = (Atomics.load(i32, first + S_SEQ) - ((pos + 1) | 0)) | 0;
      if (dif < 0) {
        Atomics.sub(i32, pb + P_BUSY, 1);
        return null;
      }
      if (dif > 0) {
        pos = Atomics.load(i32, H_HEAD);
        continue;
      }
      // May be torn if another consumer took it meanwhile; then the exchange below fails.
      k = i32[first + SLOT_HEADER_BYTES / 4 + J_COUNT]!;
      if (k < 1 || k > this.maxJobSlots) {
        pos = Atomics.load(i32, H_HEAD);
        continue;
      }
      const got = Atomics.compareExchange(i32, H_HEAD, pos, (pos + k) | 0);
      if (got === pos) break;
      pos = got;
    }
    Atomics.sub(i32, H_QUEUED, 1);
    const h = first + SLOT_HEADER_BYTES / 4;
    const loop = i32[h + J_LOOP]!;
    const slot = i32[h + J_SLOT]!;
    const generation = i32[h + J_GEN]!;
    const timeout = i32[h + J_TIMEOUT]!;
    const kind = i32[h + J_KIND]!;
    const nameLen = i32[h + J_NAME_LEN]!;
    const peerLen = i32[h + J_PEER_LEN]!;
    const len = i32[h + J_LEN]!;
    const reply = i32[h + J_REPLY]!;
    // Record it before flipping the state, so a reactor whose cancel loses finds it running.
    const r = this.entry(p, e);
    i32[r + E_SEQ] = pos;
    i32[r + E_LOOP] = loop;
    i32[r + E_SLOT] = slot;
    i32[r + E_GEN] = generation;
    i32[r + E_TIMEOUT] = timeout;
    i32[r + E_REPLY] = reply;
    const kept = Math.min(nameLen, NAME_BYTES, this.chunk - JOB_HEADER_BYTES);
    i32[r + E_NAME_LEN] = kept;
    const nameAt = first * 4 + SLOT_HEADER_BYTES + JOB_HEADER_BYTES;
    this.u8.copyWithin((r + E_NAME) * 4, nameAt, nameAt + kept);
    Atomics.store(i32, r + E_STATE, 1);
    if (timeout > 0) {
      Atomics.store(i32, pb + P_EXCL_SEQ, pos);
      Atomics.store(i32, pb + P_EXCL, others ? EXCL_HELD : EXCL_RUNNING);
    }
    const won = Atomics.compareExchange(i32, first + S_STATE, pos, ~pos) === pos;
    let job: TakenJob | typeof SKIPPED = SKIPPED;
    if (won) {
      const name = this.text(pos, JOB_HEADER_BYTES, nameLen);
      const ref: { loop: number; slot: number; generation: number; peer?: string } = { loop, slot, generation };
      if (peerLen > 0) ref.peer = this.text(pos, JOB_HEADER_BYTES + nameLen, peerLen);
      job = { seq: pos, ref, name, timeout, reply, payload: undefined };
      const at = JOB_HEADER_BYTES + nameLen + peerLen;
      try {
        if (kind === KIND_BYTES) job.payload = this.copyOut(pos, at, len, false);
        else if (kind === KIND_V8) job.payload = deserialize(this.copyOut(pos, at, len, true));
        else {
          const [u8, off] = this.contiguous(pos, at, len);
          job.payload = this.decoder.decode(u8, off);
        }
      } catch (err) {
        job.error = err;
      }
    }
    for (let i = 0; i < k; i++) {
      const q = (pos + i) | 0;
      Atomics.store(i32, this.slot(q) + S_SEQ, (q + this.slots) | 0);
    }
    if (!won) this.finish(p, e, timeout);
    return job;
  }

  /** Pump `p`: its held timed job may run now, unless its reactor cancelled it meanwhile. */
  startHeld(p: number): boolean {
    return Atomics.compareExchange(this.i32, this.pump(p) + P_EXCL, EXCL_HELD, EXCL_RUNNING) === EXCL_HELD;
  }

  /** Pump `p`: the job in record `e` is done (`timeout`: the job's). */
  finish(p: number, e: number, timeout: number): void {
    const i32 = this.i32;
    const pb = this.pump(p);
    Atomics.store(i32, this.entry(p, e) + E_STATE, 0);
    if (timeout > 0) Atomics.store(i32, pb + P_EXCL, EXCL_NONE);
    Atomics.sub(i32, pb + P_BUSY, 1);
  }

  /**
   * Pump `p`, with nothing to take: parks until a producer signals, or `ms` pass. Returns false if
   * the time passed and there is still nothing to do (the pump may give its thread back).
   */
  park(p: number, ms: number): boolean {
    const seen = this.parking(p);
    const timedOut = this.idle() && (ms <= 0 || Atomics.wait(this.i32, H_SIGNAL, seen, ms) === 'timed-out');
    return this.parked(p, timedOut);
  }

  /** As `park`, without blocking the thread (jobs that await keep running); also ends when `other` settles. */
  async parkAsync(p: number, ms: number, other: Promise<unknown> | undefined): Promise<boolean> {
    const seen = this.parking(p);
    let timedOut = false;
    if (this.idle()) {
      if (ms <= 0 && !other) timedOut = true;
      else {
        const w = Atomics.waitAsync(this.i32, H_SIGNAL, seen, ms > 0 ? ms : other ? Infinity : 0);
        const v = w.async ? await (other ? Promise.race([w.value, other]) : w.value) : w.value;
        timedOut = v === 'timed-out';
      }
    }
    return this.parked(p, timedOut);
  }

  /** Counts pump `p` as parked (producers then signal it); returns the signal word it waits on. */
  private parking(p: number): number {
    Atomics.add(this.i32, H_WAITERS, 1);
    Atomics.store(this.i32, this.pump(p) + P_WAITING, 1);
    return Atomics.load(this.i32, H_SIGNAL);
  }

  /** Pump `p` woke up: whether there may be work (false: it timed out with none). */
  private parked(p: number, timedOut: boolean): boolean {
    Atomics.store(this.i32, this.pump(p) + P_WAITING, 0);
    Atomics.sub(this.i32, H_WAITERS, 1);
    return !(timedOut && this.idle());
  }

  /** Nothing queued, and no reason to stop waiting (closing, yield requests). */
  private idle(): boolean {
    const i32 = this.i32;
    return Atomics.load(i32, H_QUEUED) === 0 && Atomics.load(i32, H_CLOSED) === 0 && Atomics.load(i32, H_YIELD) <= 0;
  }

  // ---- the engine's thread ----

  /** Engine: the futex word producers and pumps wake the engine's thread with. */
  get mainWord(): number {
    return H_MAIN;
  }

  /** Engine: takes the "more pumps wanted" flag. */
  takeRequest(): boolean {
    return Atomics.exchange(this.i32, H_REQUEST, 0) !== 0;
  }

  /** Engine: takes the "some pump must die" flag. */
  takeKills(): boolean {
    return Atomics.exchange(this.i32, H_KILL, 0) !== 0;
  }

  /** Engine: the timed job pump `p` must be terminated for, if that job still runs there. */
  killRequest(p: number): number | undefined {
    const i32 = this.i32;
    const b = this.pump(p);
    if (Atomics.exchange(i32, b + P_KILL, 0) === 0) return undefined;
    const seq = Atomics.load(i32, b + P_KILL_SEQ);
    if (Atomics.load(i32, b + P_EXCL) !== EXCL_RUNNING || Atomics.load(i32, b + P_EXCL_SEQ) !== seq) return undefined;
    return seq;
  }

  /** Engine: how many pumps to start now (jobs waiting beyond the parked pumps, up to maxThreads). */
  wanted(): number {
    const i32 = this.i32;
    const room = this.maxThreads - Atomics.load(i32, H_PUMPS);
    const waiting = Atomics.load(i32, H_QUEUED) - Atomics.load(i32, H_WAITERS);
    return Math.max(0, Math.min(room, waiting));
  }

  /** Engine: pump `p` is about to start (counted in before its thread runs it). */
  pumpStarting(p: number): void {
    const i32 = this.i32;
    const b = this.pump(p);
    i32.fill(0, b, b + this.pumpInts);
    Atomics.store(i32, b + P_THREAD, -1);
    Atomics.add(i32, H_PUMPS, 1);
  }

  /** Engine: the worker threadId pump `p` runs on (-1 until it started). */
  pumpThread(p: number): number {
    return Atomics.load(this.i32, this.pump(p) + P_THREAD);
  }

  /**
   * Engine: pump `p`'s thread is gone without leaving the loop. Undoes its counts and returns the
   * jobs it was running (their refs, names, timeouts and positions), so they can be failed.
   */
  pumpDied(p: number): LostJob[] {
    const i32 = this.i32;
    const b = this.pump(p);
    const jobs: LostJob[] = [];
    for (let e = 0; e < this.entries; e++) {
      const r = this.entry(p, e);
      if (Atomics.load(i32, r + E_STATE) === 0) continue;
      const n = i32[r + E_NAME_LEN]!;
      jobs.push({
        seq: i32[r + E_SEQ]!,
        ref: { loop: i32[r + E_LOOP]!, slot: i32[r + E_SLOT]!, generation: i32[r + E_GEN]! },
        name: decoder.decode(this.u8.slice((r + E_NAME) * 4, (r + E_NAME) * 4 + n)),
        timeout: i32[r + E_TIMEOUT]!,
        reply: i32[r + E_REPLY]!,
      });
    }
    if (Atomics.load(i32, b + P_WAITING) !== 0) Atomics.sub(i32, H_WAITERS, 1);
    if (Atomics.load(i32, b + P_EXITED) === 0) Atomics.sub(i32, H_PUMPS, 1);
    i32.fill(0, b, b + this.pumpInts);
    return jobs;
  }

  /** Engine: asks `n` pumps to give their threads back (piscina has other tasks waiting). */
  requestYield(n: number): void {
    Atomics.store(this.i32, H_YIELD, n);
    if (n > 0) this.wakeAll();
  }

  /** Engine: position the next job will get (a drain waits for the jobs before it). */
  get tail(): number {
    return Atomics.load(this.i32, H_TAIL);
  }

  /** Engine: whether every job put before position `mark` has been taken and finished. */
  drained(mark: number): boolean {
    const i32 = this.i32;
    if (((Atomics.load(i32, H_HEAD) - mark) | 0) < 0) return false;
    for (let p = 0; p < this.maxThreads; p++) {
      const busy = Atomics.load(i32, this.pump(p) + P_BUSY);
      if (busy <= 0) continue;
      let seen = 0;
      for (let e = 0; e < this.entries; e++) {
        const r = this.entry(p, e);
        if (Atomics.load(i32, r + E_STATE) === 0) continue;
        seen++;
        if (((Atomics.load(i32, r + E_SEQ) - mark) | 0) < 0) return false;
      }
      if (seen < busy) return false; // a job between its claim and its record
    }
    return true;
  }

  /** Engine: no more jobs run; parked pumps wake up and leave. */
  close(): void {
    Atomics.store(this.i32, H_CLOSED, 1);
    this.wakeAll();
  }

  private wakeAll(): void {
    Atomics.add(this.i32, H_SIGNAL, 1);
    Atomics.notify(this.i32, H_SIGNAL);
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
  private readonly q: JobQueue;

  constructor(
    sab: SharedArrayBuffer,
    private readonly fallback: (jobs: JobRequest[]) => void,
    private readonly failed: (ref: ConnRef, err: Error, reply: number) => void,
  ) {
    this.q = new JobQueue(sab);
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

  /** Puts one job (call `signal` once the batch is in); `reply` as for JobQueue.put. */
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
