/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * How a job's payload travels through the job channel (queue.ts): a compact encoding for the
 * values payloads are usually made of, in JS, because V8's serializer costs several microseconds
 * per job here (a native object per call, a JS callback per typed array, and a small typed array
 * made on the JS heap must first be moved off it to be serialized).
 *
 * Encoded: undefined, null, booleans, numbers, strings, Uint8Array and Buffer (as a Uint8Array
 * holding a copy of its bytes), dense arrays and plain objects (own enumerable string keys, as
 * structured clone copies them) of those, nested up to 32 levels. Anything else (other typed
 * arrays, Date, Map, BigInt, a class instance, a cycle...) makes `encode` return null, and the
 * caller uses `v8.serialize` instead.
 *
 * Format: one tag byte per value, little-endian lengths and numbers. Loop-only: each thread keeps
 * its own Encoder and Decoder.
 */
import { Buffer } from 'node:buffer';

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT = 4; // int32
const T_DOUBLE = 5; // float64
const T_STRING = 6; // u32 byte length, UTF-8
const T_BYTES = 7; // u32 byte length, bytes -> Uint8Array
const T_ARRAY = 8; // u32 length, values
const T_OBJECT = 9; // u32 count, (string, value) pairs

const MAX_DEPTH = 32;

export class Encoder {
  private buf: Buffer;
  private dv: DataView;
  private pos = 0;

  constructor(private readonly limit: number) {
    this.buf = Buffer.allocUnsafeSlow(1024);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /**
   * Encodes `v`; returns a view of the bytes (valid until the next call), or null when `v` holds
   * something this encoding does not cover or needs more than `limit` bytes.
   */
  encode(v: unknown): Uint8Array | null {
    this.pos = 0;
    if (!this.value(v, 0)) return null;
    return this.buf.subarray(0, this.pos);
  }

  private room(n: number): boolean {
    const need = this.pos + n;
    if (need <= this.buf.byteLength) return true;
    if (need > this.limit) return false;
    const next = Buffer.allocUnsafeSlow(Math.min(Math.max(need, this.buf.byteLength * 2), this.limit));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
    return true;
  }

  private tag(t: number): boolean {
    if (!this.room(1)) return false;
    this.buf[this.pos++] = t;
    return true;
  }

  private u32(t: number, n: number): boolean {
    if (!this.room(5)) return false;
    this.buf[this.pos] = t;
    this.dv.setUint32(this.pos + 1, n, true);
    this.pos += 5;
    return true;
  }

  private string(s: string): boolean {
    // At most 3 bytes per UTF-16 unit; the exact length is written once known.
    if (!this.room(5 + 3 * s.length)) {
      const n = Buffer.byteLength(s);
      if (!this.room(5 + n)) return false;
    }
    const at = this.pos;
    const n = this.buf.write(s, at + 5, 'utf8');
    this.buf[at] = T_STRING;
    this.dv.setUint32(at + 1, n, true);
    this.pos = at + 5 + n;
    return true;
  }

  private value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'undefined':
        return this.tag(T_UNDEFINED);
      case 'boolean':
        return this.tag(v ? T_TRUE : T_FALSE);
      case 'number':
        if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
          if (!this.room(5)) return false;
          this.buf[this.pos] = T_INT;
          this.dv.setInt32(this.pos + 1, v, true);
          this.pos += 5;
        } else {
          if (!this.room(9)) return false;
          this.buf[this.pos] = T_DOUBLE;
          this.dv.setFloat64(this.pos + 1, v, true);
          this.pos += 9;
        }
        return true;
      case 'string':
        return this.string(v);
      case 'object': {
        if (v === null) return this.tag(T_NULL);
        if (depth >= MAX_DEPTH) return false;
        if (v instanceof Uint8Array) {
          if (v.constructor !== Uint8Array && !Buffer.isBuffer(v)) return false;
          const n = v.byteLength;
          if (!this.u32(T_BYTES, n) || !this.room(n)) return false;
          this.buf.set(v, this.pos);
          this.pos += n;
          return true;
        }
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) return false;
          const n = v.length;
          if (!this.u32(T_ARRAY, n)) return false;
          for (let i = 0; i < n; i++) {
            const e: unknown = v[i];
            if (e === undefined && !(i in v)) return false; // a hole: structured clone keeps it
            if (!this.value(e, depth + 1)) return false;
          }
          return true;
        }
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) return false;
        const keys = Object.keys(v);
        if (!this.u32(T_OBJECT, keys.length)) return false;
        for (const k of keys) {
          if (!this.string(k) || !this.value((v as Record<string, unknown>)[k], depth + 1)) return false;
        }
        return true;
      }
      default:
        return false;
    }
  }
}

/** Reads what Encoder wrote, from any bytes (the ring itself: strings and bytes are copied out). */
export class Decoder {
  private buf!: Buffer;
  private u8!: Uint8Array;
  private dv!: DataView;
  private pos = 0;

  /** Decodes the value at `start` of `u8` (a Uint8Array over the whole buffer it lives in). */
  decode(u8: Uint8Array, start: number): unknown {
    if (u8 !== this.u8) {
      this.u8 = u8;
      this.buf = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
      this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    }
    this.pos = start;
    return this.value();
  }

  private len(): number {
    const n = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return n;
  }

  private value(): unknown {
    const t = this.u8[this.pos++];
    switch (t) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT: {
        const v = this.dv.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_DOUBLE: {
        const v = this.dv.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_STRING: {
        const n = this.len();
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case T_BYTES: {
        const n = this.len();
        const b = this.u8.slice(this.pos, this.pos + n);
        this.pos += n;
        return b;
      }
      case T_ARRAY: {
        const n = this.len();
        const a: unknown[] = new Array<unknown>(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case T_OBJECT: {
        const n = this.len();
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.value() as string;
          const v = this.value();
          // An own "__proto__" key (structured clone keeps it as data, never as the prototype).
          if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
          else o[k] = v;
        }
        return o;
      }
      default:
        throw new Error(`job channel: bad payload tag ${String(t)}`);
    }
  }
}
