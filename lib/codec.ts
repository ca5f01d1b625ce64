/**
 * Frame codecs: what a listener may ask the native reactor to frame before the JS call
 * (`serve(..., { codec })`, an address object's `codec`, or a handler's own `codec` for the
 * listeners that set none). The reactor applies it between read (and TLS decryption) and the
 * batch, so `react` finds whole frames, and for http1/resp the offsets of their parts, in
 * `c.frames`, and walks no bytes to find them. Types and helpers here are thread-safe (plain
 * data); a `Frames` view is loop-only and valid during the event that delivered it.
 */
import { Buffer } from 'node:buffer';
import type { Conn } from './conn.js';

/**
 * A codec and its limits. Frames longer than a limit are an error (see `Frames.status`): where
 * the handler does not consume past the bad bytes, the reactor closes the connection and
 * `onClosed` hears `ERR_FRAME_TOO_LARGE` (or `ERR_FRAME_PROTOCOL` for a malformed frame).
 *
 * - `line`: frames end with `\n`; the payload leaves out the `\n` and a `\r` before it.
 * - `delimiter`: frames end with `delimiter` (1-16 bytes, a string is taken as latin1); the
 *   payload leaves it out.
 * - `fixed`: every frame is `size` bytes.
 * - `length-field` (Netty's LengthFieldBasedFrameDecoder, gnet v1's): the frame's length is the
 *   unsigned value of `fieldLength` bytes (1, 2, 3, 4 or 8; default 4) at `fieldOffset`
 *   (default 0), big-endian unless `littleEndian`; the frame is `fieldOffset + fieldLength +
 *   value + adjustment` bytes, and its payload starts `strip` bytes into it (default
 *   `fieldOffset + fieldLength`: the header is left out). See `LengthFieldEncoder` for writes.
 * - `http1`: HTTP/1.1 requests, head and Content-Length body (RFC 9112 strictness); chunked
 *   bodies and `Expect: 100-continue` with the body still to come are left to the handler
 *   (status `Fallback`).
 * - `resp`: RESP2 commands, arrays of bulk strings and inline commands; inline commands with
 *   quotes or control bytes are left to the handler (status `Fallback`).
 */
export type CodecOptions =
  | { type: 'line'; maxFrame?: number }
  | { type: 'delimiter'; delimiter: string | Uint8Array; maxFrame?: number }
  | { type: 'fixed'; size: number }
  | {
      type: 'length-field';
      fieldOffset?: number;
      fieldLength?: 1 | 2 | 3 | 4 | 8;
      adjustment?: number;
      strip?: number;
      littleEndian?: boolean;
      maxFrame?: number;
    }
  | { type: 'http1'; maxHeaderBytes?: number; maxHeaders?: number; maxBodyBytes?: number }
  | { type: 'resp'; maxArgs?: number; maxBulk?: number };

/** What stands at `Frames.consumed`, after the complete frames. */
export const FrameStatus = {
  /** Nothing, or a frame not complete yet (its bytes stay buffered until the rest arrives). */
  Ok: 0,
  /** The round's frame table filled up: the rest is framed in the next round, without new input. */
  Stopped: 1,
  /** A frame the codec leaves to the handler (http1: chunked body, pending 100-continue; resp: quoted inline command). */
  Fallback: 2,
  /** Malformed or over a limit; `detail` says which (http1: the HTTP status to answer: 400, 413, 431, 505). */
  Error: 3,
} as const;
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** `Frames.detail` of an Error (besides http1's HTTP statuses). */
export const FrameError = {
  TooLarge: 1,
  Protocol: 2,
  TooManyArgs: 3,
} as const;

/**
 * The frames of one delivery (`c.frames`), loop-only, valid during the event. Offsets are
 * relative to the first byte `c.peek()` returned at the start of the event. Frame records sit
 * in `table` from `first` on, one after the other:
 * - line / delimiter / fixed / length-field: `[payloadStart, payloadEnd]` (2 ints; `start(i)`/`end(i)`).
 * - resp: `[argc, start0, len0, start1, len1, ...]`.
 * - http1: `[end, method, flags, version, methodStart, methodEnd, targetStart, targetEnd,
 *   pathStart, pathEnd, bodyStart, bodyLength, contentTypeIndex, headerCount,
 *   (nameStart, nameEnd, valueStart, valueEnd) x headerCount]` (method: 1 GET, 2 HEAD, 3 POST,
 *   4 PUT, 5 DELETE, 6 OPTIONS, 7 PATCH, 8 CONNECT, 9 TRACE, 0 other; flags bit 0: keep-alive;
 *   version 10 or 11; path is the target's path without the query).
 */
export interface Frames {
  /** Complete frames. */
  readonly count: number;
  /** Bytes the complete frames span (from the window's first byte). */
  readonly consumed: number;
  readonly status: FrameStatus;
  /** Status Ok: 1 a request head incomplete, 2 a body awaited (http1); Error: what (FrameError, or an HTTP status). */
  readonly detail: number;
  readonly table: Int32Array;
  /** Index in `table` of the first frame's record. */
  readonly first: number;
  /** Fixed-size records (line, delimiter, fixed, length-field): frame i's payload start / end. */
  start(i: number): number;
  end(i: number): number;
  /**
   * The bytes the offsets index, with no view made for the delivery: byte `off` of the window
   * is `source[base + off]`, what `c.peek()![off]` reads. It is the reactor's read arena, the
   * same object for every connection of a round, so a handler that reads frames from it
   * allocates nothing per read (`peek` makes a view each time). Valid during this event only,
   * like a view from `peek`: in debug mode it is a copy of the window (`base` 0), detached when
   * the event returns. Bytes outside the window belong to other connections.
   */
  readonly source: Uint8Array;
  /** Where the window's first byte is in `source`. */
  readonly base: number;
}

/** Record sizes in ints (see `Frames`). */
export const HTTP1_FIXED_INTS = 14;

/** The ints of the resp record at `at` in `table`. */
export function respRecordInts(table: Int32Array, at: number): number {
  return 1 + 2 * table[at]!;
}

/** The ints of the http1 record at `at` in `table`. */
export function http1RecordInts(table: Int32Array, at: number): number {
  return HTTP1_FIXED_INTS + 4 * table[at + 13]!;
}

/**
 * Writes length-prefixed frames, the write side of the `length-field` codec: `write(c, payload)`
 * queues the header (the value the decoder with the same options and the default `strip` reads
 * back as this payload's length) and the payload. Thread-safe to construct; `write` is loop-only like `c.write`.
 */
export class LengthFieldEncoder {
  private readonly head: Uint8Array;
  private readonly fieldOffset: number;
  private readonly fieldLength: number;
  private readonly adjustment: number;
  private readonly littleEndian: boolean;

  constructor(o: { fieldOffset?: number; fieldLength?: 1 | 2 | 3 | 4 | 8; adjustment?: number; littleEndian?: boolean } = {}) {
    this.fieldOffset = o.fieldOffset ?? 0;
    this.fieldLength = o.fieldLength ?? 4;
    this.adjustment = o.adjustment ?? 0;
    this.littleEndian = o.littleEndian ?? false;
    if (![1, 2, 3, 4, 8].includes(this.fieldLength)) throw new RangeError(`fieldLength must be 1, 2, 3, 4 or 8, got ${this.fieldLength}`);
    if (!Number.isInteger(this.fieldOffset) || this.fieldOffset < 0) throw new RangeError('fieldOffset must be a non-negative integer');
    this.head = new Uint8Array(this.fieldOffset + this.fieldLength);
  }

  /**
   * The header for a payload of `n` bytes: the value is what the decoder adds back, `n -
   * adjustment` (so a frame is `header + n` bytes); bytes before the field are zero.
   * The returned view is reused by the next call.
   */
  header(n: number): Uint8Array {
    const v = n - this.adjustment;
    const max = this.fieldLength === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * this.fieldLength) - 1;
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`a ${n}-byte payload does not fit a ${this.fieldLength}-byte length field`);
    const h = this.head;
    let x = v;
    for (let i = 0; i < this.fieldLength; i++) {
      const b = x % 256;
      x = Math.floor(x / 256);
      h[this.fieldOffset + (this.littleEndian ? i : this.fieldLength - 1 - i)] = b;
    }
    return h;
  }

  /** Queues one frame on `c`: header then payload. Returns the bytes queued. */
  write(c: Conn, payload: Uint8Array | string): number {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return c.write(this.header(bytes.byteLength)) + c.write(bytes);
  }
}
