/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The reactor's one record writer: what JS asks the native loop to do (write these bytes, keep
 * this leftover, close, send this datagram) as fixed-size int records, plus an out arena for bytes
 * that are not already in the read arena. Records written during a round (the native loop's batch
 * call) go back with its return value and are applied with writev at once; records written
 * outside a round (timers, messages, microtasks) queue one microtask flush that commits them. The
 * preWrite hook runs here because it belongs to the moment bytes are handed over. Stream writes
 * and datagram sends place their bytes through the public fields below (see streams.ts and
 * dgram_host.ts): the writer is passed state, not a layer of calls per message.
 */
import { Buffer } from 'node:buffer';
import type { Conn } from '../conn.js';
import type { EventHandler } from '../handler.js';
import type { NativeLoop } from '../channel/native.js';
import { asError } from '../errors.js';
import type { ReactorHooks } from './config.js';
import * as L from '../channel/layout.js';

/** Records one batch can hold; a full buffer is flushed (committed) early. */
export const OUT_CAP = 8192;
const OUT_ARENA_BYTES = 1 << 20;

/** What a record names: a stream connection's or a datagram socket's slot and generation. */
export interface Slotted {
  readonly slot: number;
  readonly gen: number;
}

/** A stream connection as the writer sees it: `dirty` marks it for one preWrite before its bytes go. */
export interface WriteTarget extends Conn, Slotted {
  dirty: boolean;
}

/** The out-records and out arena shared with the native loop, and the round they belong to. */
export class OutRecords {
  /** L.OUT_RECORD_INTS ints per record (layout in L.OUT_*), read by the native loop. */
  readonly out = new Int32Array(OUT_CAP * L.OUT_RECORD_INTS);
  /** Records queued so far (since the round began or the last flush). */
  nOut = 0;
  /** Bytes that records point at when they are not in the read arena. */
  readonly outArena: Uint8Array;
  /** The same memory as `outArena`, so strings are encoded straight into it. */
  readonly outBuf: Buffer;
  /** First free byte of `outArena`. */
  outPos = 0;
  /** Whether a round is running: its records return with it, nothing needs flushing. */
  inRound = false;
  /** The read arena of the latest round: bytes still in it are written from there, not copied. */
  readBuf: ArrayBuffer | undefined;
  /**
   * The read-arena view a stream connection handed out last in this round (peek, next): writing
   * it back (echo, a proxy's forward) is recognised by identity, where asking any typed array for
   * its `buffer` is a call into V8's C++ (~25 ns, and a materialised ArrayBuffer for small ones).
   */
  lastView: Uint8Array | null = null;
  private loop: NativeLoop | undefined;
  private flushQueued = false;
  /**
   * Connections written to since the last pre-write pass, each once: the first `nDirty` entries.
   * A count, not `length = 0`, empties it: that frees V8's backing store, and every round's first
   * write would allocate a new one.
   */
  private readonly dirty: (WriteTarget | undefined)[] = [];
  private nDirty = 0;

  constructor(
    private readonly handler: EventHandler,
    private readonly hooks: ReactorHooks,
  ) {
    const ab = new ArrayBuffer(OUT_ARENA_BYTES);
    this.outArena = new Uint8Array(ab);
    this.outBuf = Buffer.from(ab);
  }

  /** The native loop that applies the records (it is built from `out` and `outArena`, so after this). */
  attach(loop: NativeLoop): void {
    this.loop = loop;
  }

  /** The native loop is going away: from now on a flush does nothing. */
  detach(): void {
    this.loop = undefined;
  }

  /** A round begins: its records start from zero. */
  begin(): void {
    this.inRound = true;
    this.lastView = null;
    this.nOut = 0;
    this.outPos = 0;
  }

  /**
   * The round's record count, for the native side to apply as soon as the batch call returns,
   * before any other JS runs: the counters start again from zero for whatever is written outside
   * a round (timers, messages).
   */
  take(): number {
    const records = this.nOut;
    this.nOut = 0;
    this.outPos = 0;
    return records;
  }

  /** A write record for `c`, merged into the previous record when it continues the same bytes. */
  record(c: WriteTarget, src: number, off: number, len: number): void {
    const o = this.out;
    if (this.nOut > 0) {
      const p = (this.nOut - 1) * L.OUT_RECORD_INTS;
      if (o[p] === L.OUT_WRITE && o[p + 1] === c.slot && o[p + 2] === c.gen && o[p + 5] === src && o[p + 3]! + o[p + 4]! === off) {
        o[p + 4] = o[p + 4]! + len;
        if (!this.inRound) this.queueFlush();
        return;
      }
    }
    this.push(L.OUT_WRITE, c, off, len, src);
    if (!c.dirty) {
      c.dirty = true;
      this.dirty[this.nDirty++] = c;
    }
    if (!this.inRound) this.queueFlush();
  }

  /** One record as is (flushing first if the buffer is full); the caller sees to the flush. */
  push(op: number, c: Slotted, off: number, len: number, x: number): void {
    if (this.nOut >= OUT_CAP) this.flush();
    const p = this.nOut++ * L.OUT_RECORD_INTS;
    const o = this.out;
    o[p] = op;
    o[p + 1] = c.slot;
    o[p + 2] = c.gen;
    o[p + 3] = off;
    o[p + 4] = len;
    o[p + 5] = x;
  }

  /** One record, committed by a queued flush when written outside a round. */
  emit(op: number, c: Slotted, off: number, len: number, x: number): void {
    this.push(op, c, off, len, x);
    if (!this.inRound) this.queueFlush();
  }

  /** The handler's preWrite for `c`; what it throws is reported, the write goes ahead. */
  preWrite(c: Conn): void {
    if (!this.handler.preWrite) return;
    try {
      this.handler.preWrite(c);
    } catch (e) {
      this.hooks.handlerError(asError(e), 'preWrite');
    }
  }

  /** preWrite once for every connection written to since the last pass. */
  runPreWrites(): void {
    const d = this.dirty;
    // The count is read again each turn: a preWrite that writes to another connection adds it to
    // this pass. `dirty` is cleared after the call, so one that writes to its own adds nothing.
    for (let i = 0; i < this.nDirty; i++) {
      const c = d[i]!;
      d[i] = undefined; // no closed connection stays reachable from here
      this.preWrite(c);
      c.dirty = false;
    }
    this.nDirty = 0;
  }

  /** Hands everything queued so far to the native loop now. */
  flush(): void {
    const loop = this.loop;
    if (!loop) return;
    this.runPreWrites();
    if (this.nOut > 0) loop.commit(this.nOut);
    this.nOut = 0;
    this.outPos = 0;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (!this.inRound) this.flush();
    });
  }
}
