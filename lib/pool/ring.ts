/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * The job channel's ring (queue.ts): a bounded multi-producer, multi-consumer queue of jobs,
 * each spanning one or more slots (words in layout.ts).
 *
 * Protocol (Vyukov's bounded MPMC queue, extended to jobs spanning several slots): slot `i`
 * starts with sequence `i`. A producer claims `k` consecutive positions `pos..pos+k-1` by checking
 * each slot's sequence equals its position (free for this lap) and then compare-exchanging TAIL
 * from `pos` to `pos + k`; it fills them and publishes the later slots, then the first (sequence
 * `position + 1`). A consumer claims a published first slot with a compare-exchange on HEAD (by
 * the job's slot count), copies the job out and frees each slot (sequence `position + slots`).
 * A full ring is refused up front (`put` returns false, nothing claimed): the caller falls back to
 * the engine's piscina queue, which is unbounded unless `maxQueue` says otherwise.
 *
 * State word: a job's first slot also holds its position while queued. Whoever flips it first
 * (`settle`) decides the job's fate: the pump taking it runs it, or its reactor's timer cancelling
 * it (producer.ts) means it never runs.
 *
 * Thread-safety: every method is safe from any thread holding a JobRing over the same buffer.
 */
import { Buffer } from 'node:buffer';
import { Decoder } from './codec.js';
import { PayloadEncoder, deserialize } from './payload.js';
import * as L from './layout.js';
import type { ConnRef } from '../conn.js';
import { wallClockMs } from './stats.js';

/** A job as its header and its pump's record know it. */
export interface JobInfo {
  seq: number;
  ref: ConnRef;
  name: string;
  /** Effective timeout in ms (0: none). */
  timeout: number;
  /** The engine's thread waits for the result under this id (engine.offload), or 0. */
  reply: number;
}

/** A job as a pump takes it. */
export interface TakenJob extends JobInfo {
  payload: unknown;
  /** Set when the payload could not be read back (the job fails with it). */
  error?: unknown;
  /** When it was queued (ms since the epoch, as `wallClockMs`). */
  queuedAt?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NO_BYTES = new Uint8Array(0);

export class JobRing {
  readonly layout: L.JobLayout;
  /** Position of the last job `put` published. */
  lastSeq = 0;
  /** Encoded job names (few, reused). */
  private readonly names = new Map<string, Uint8Array>();
  private readonly payloads: PayloadEncoder;
  private readonly decoder = new Decoder();
  /** The whole buffer as a Buffer, for reading strings without a view per string. */
  private readonly buf: Buffer;
  /** The same buffer as Float64s: each job's queued-at time. */
  private readonly f64: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    const l = (this.layout = new L.JobLayout(sab));
    this.payloads = new PayloadEncoder(l.maxJobSlots * l.chunk);
    this.buf = Buffer.from(sab);
    this.f64 = new Float64Array(sab, 0, Math.floor(sab.byteLength / 8));
  }

  /** Jobs published and not yet taken. */
  get queued(): number {
    return Atomics.load(this.layout.i32, L.H_QUEUED);
  }

  /**
   * Producer: queues one job. Returns false, having queued nothing, when the ring is full or the
   * payload cannot travel through it; `lastSeq` names the job. `reply`: the id the pump posts the
   * job's result with (0: nobody waits for it).
   */
  put(ref: ConnRef, name: string, payload: unknown, timeout: number, reply = 0): boolean {
    const l = this.layout;
    const bytes = this.payloads.encode(payload);
    if (bytes === null) return false;
    const kind = this.payloads.kind;
    let nameBytes = this.names.get(name);
    if (nameBytes === undefined) {
      nameBytes = encoder.encode(name);
      if (this.names.size < 256) this.names.set(name, nameBytes);
    }
    const peerBytes = ref.peer === undefined ? NO_BYTES : encoder.encode(ref.peer);
    const total = L.JOB_HEADER_BYTES + nameBytes.byteLength + peerBytes.byteLength + bytes.byteLength;
    const k = Math.ceil(total / l.chunk);
    if (k > l.maxJobSlots) return false;
    const i32 = l.i32;
    let pos = Atomics.load(i32, L.H_TAIL);
    claim: for (;;) {
      for (let i = 0; i < k; i++) {
        const p = (pos + i) | 0;
        const dif = (Atomics.load(i32, l.slot(p) + L.S_SEQ) - p) | 0;
        if (dif < 0) return false; // not yet freed from the previous lap: full
        if (dif > 0) {
          pos = Atomics.load(i32, L.H_TAIL); // another producer got there first
          continue claim;
        }
      }
      const got = Atomics.compareExchange(i32, L.H_TAIL, pos, (pos + k) | 0);
      if (got === pos) break;
      pos = got;
    }
    const first = l.slot(pos);
    const h = l.job(pos);
    i32[h + L.J_COUNT] = k;
    i32[h + L.J_LOOP] = ref.loop;
    i32[h + L.J_SLOT] = ref.slot;
    i32[h + L.J_GEN] = ref.generation;
    i32[h + L.J_TIMEOUT] = timeout;
    i32[h + L.J_KIND] = kind;
    i32[h + L.J_NAME_LEN] = nameBytes.byteLength;
    i32[h + L.J_PEER_LEN] = peerBytes.byteLength;
    i32[h + L.J_LEN] = bytes.byteLength;
    i32[h + L.J_REPLY] = reply;
    this.f64[(h + L.J_QUEUED_AT) >> 1] = wallClockMs();
    let at = L.JOB_HEADER_BYTES;
    at = this.copyIn(pos, at, nameBytes);
    at = this.copyIn(pos, at, peerBytes);
    this.copyIn(pos, at, bytes);
    for (let i = 1; i < k; i++) {
      const p = (pos + i) | 0;
      const s = l.slot(p);
      i32[s + L.S_STATE] = pos; // never equal to p: only the first slot's state means anything
      Atomics.store(i32, s + L.S_SEQ, (p + 1) | 0);
    }
    i32[first + L.S_STATE] = pos;
    // The release: a consumer that sees this sequence sees the whole job.
    Atomics.store(i32, first + L.S_SEQ, (pos + 1) | 0);
    Atomics.add(i32, L.H_QUEUED, 1);
    this.lastSeq = pos;
    return true;
  }

  /**
   * Consumer: claims the oldest published job; its position, or null when none is published.
   * The job's slots stay the caller's until `release`.
   */
  claim(): number | null {
    const l = this.layout;
    const i32 = l.i32;
    let pos = Atomics.load(i32, L.H_HEAD);
    for (;;) {
      const dif = (Atomics.load(i32, l.slot(pos) + L.S_SEQ) - ((pos + 1) | 0)) | 0;
      if (dif < 0) return null;
      if (dif > 0) {
        pos = Atomics.load(i32, L.H_HEAD);
        continue;
      }
      // May be torn if another consumer took it meanwhile; then the exchange below fails.
      const k = i32[l.job(pos) + L.J_COUNT]!;
      if (k < 1 || k > l.maxJobSlots) {
        pos = Atomics.load(i32, L.H_HEAD);
        continue;
      }
      const got = Atomics.compareExchange(i32, L.H_HEAD, pos, (pos + k) | 0);
      if (got === pos) break;
      pos = got;
    }
    Atomics.sub(i32, L.H_QUEUED, 1);
    return pos;
  }

  /**
   * Flips the state word of the job put at `pos`: true for the first caller only (its pump about
   * to run it, or its reactor cancelling it), false for the other and once its slots are reused.
   */
  settle(pos: number): boolean {
    return Atomics.compareExchange(this.layout.i32, this.layout.slot(pos) + L.S_STATE, pos, ~pos) === pos;
  }

  /** Consumer: copies out the job it claimed at `pos` (a payload that cannot be read back sets `error`). */
  read(pos: number): TakenJob {
    const i32 = this.layout.i32;
    const h = this.layout.job(pos);
    const kind = i32[h + L.J_KIND]!;
    const nameLen = i32[h + L.J_NAME_LEN]!;
    const peerLen = i32[h + L.J_PEER_LEN]!;
    const len = i32[h + L.J_LEN]!;
    const name = this.text(pos, L.JOB_HEADER_BYTES, nameLen);
    const ref: { loop: number; slot: number; generation: number; peer?: string } = {
      loop: i32[h + L.J_LOOP]!,
      slot: i32[h + L.J_SLOT]!,
      generation: i32[h + L.J_GEN]!,
    };
    if (peerLen > 0) ref.peer = this.text(pos, L.JOB_HEADER_BYTES + nameLen, peerLen);
    const job: TakenJob = { seq: pos, ref, name, timeout: i32[h + L.J_TIMEOUT]!, reply: i32[h + L.J_REPLY]!, payload: undefined };
    job.queuedAt = this.f64[(h + L.J_QUEUED_AT) >> 1]!;
    const at = L.JOB_HEADER_BYTES + nameLen + peerLen;
    try {
      if (kind === L.KIND_BYTES) job.payload = this.copyOut(pos, at, len, false);
      else if (kind === L.KIND_V8) job.payload = deserialize(this.copyOut(pos, at, len, true));
      else {
        const [u8, off] = this.contiguous(pos, at, len);
        job.payload = this.decoder.decode(u8, off);
      }
    } catch (err) {
      job.error = err;
    }
    return job;
  }

  /** Consumer: frees the slots of the job it claimed at `pos` for the next lap. */
  release(pos: number): void {
    const l = this.layout;
    const i32 = l.i32;
    const k = i32[l.job(pos) + L.J_COUNT]!;
    for (let i = 0; i < k; i++) {
      const q = (pos + i) | 0;
      Atomics.store(i32, l.slot(q) + L.S_SEQ, (q + l.slots) | 0);
    }
  }

  /** Copies `src` into the job at `pos`, starting `at` bytes into its data; returns the new offset. */
  private copyIn(pos: number, at: number, src: Uint8Array): number {
    const chunk = this.layout.chunk;
    let done = 0;
    const n = src.byteLength;
    while (done < n) {
      const len = Math.min(n - done, chunk - (at % chunk));
      this.layout.u8.set(len === n ? src : src.subarray(done, done + len), this.layout.data(pos, at));
      done += len;
      at += len;
    }
    return at;
  }

  /** Copies `n` bytes of the job at `pos` from `at` bytes into its data: a view when they are contiguous. */
  private copyOut(pos: number, at: number, n: number, view: boolean): Uint8Array {
    const { chunk, u8 } = this.layout;
    if (this.inOneSlot(at, n)) {
      const byte = this.layout.data(pos, at);
      return view ? new Uint8Array(this.layout.sab, byte, n) : u8.slice(byte, byte + n);
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const len = Math.min(n - done, chunk - (at % chunk));
      const byte = this.layout.data(pos, at);
      out.set(u8.subarray(byte, byte + len), done);
      done += len;
      at += len;
    }
    return out;
  }

  /** A string of the job at `pos`, `at` bytes into its data. */
  private text(pos: number, at: number, n: number): string {
    const [u8, off] = this.contiguous(pos, at, n);
    return u8 === this.layout.u8 ? this.buf.toString('utf8', off, off + n) : decoder.decode(u8);
  }

  /** Bytes of the job at `pos` as (array, offset): the ring itself when they are contiguous, else a copy. */
  private contiguous(pos: number, at: number, n: number): [Uint8Array, number] {
    if (this.inOneSlot(at, n)) return [this.layout.u8, this.layout.data(pos, at)];
    return [this.copyOut(pos, at, n, false), 0];
  }

  /** Whether `n` bytes from `at` bytes into a job's data lie in one slot. */
  private inOneSlot(at: number, n: number): boolean {
    return (at % this.layout.chunk) + n <= this.layout.chunk;
  }
}
