/**
 * Channel wing: plain data, safe on any thread.
 *
 * A codec's options (lib/codec.ts) checked and turned into the spec the native reactor reads
 * (native/codec_binding.cc): the engine checks the serve options with it, a reactor the codec a
 * handler names. A contract between the two wings, so it lives here.
 */
import { Buffer } from 'node:buffer';
import type { CodecOptions } from '../codec.js';

/** What native/codec_binding.cc reads (codec.h's Spec). */
export interface NativeCodecSpec {
  type: number;
  maxFrame?: number;
  delimiter?: Uint8Array;
  size?: number;
  fieldOffset?: number;
  fieldLength?: number;
  adjustment?: number;
  strip?: number;
  littleEndian?: boolean;
  maxArgs?: number;
  maxBulk?: number;
  maxHeaderBytes?: number;
  maxHeaders?: number;
  maxBodyBytes?: number;
}

/** codec.h's type numbers. */
export const CODEC_TYPES = { line: 1, delimiter: 2, fixed: 3, 'length-field': 4, http1: 5, resp: 6 } as const;

const MAX_I32 = 2 ** 31 - 1;

function num(where: string, name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${where}: ${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * The native spec of `o`, or null for none (`undefined`, `false`, `null`). Throws a TypeError or
 * RangeError naming the bad field; `where` says which option it came from.
 */
export function codecSpec(o: CodecOptions | false | null | undefined, where = 'codec'): NativeCodecSpec | null {
  if (o === undefined || o === null || o === false) return null;
  if (typeof o !== 'object') throw new TypeError(`${where} must be an object like { type: 'line' }, got ${String(o)}`);
  const r = o as Record<string, unknown>;
  const t = r.type;
  if (typeof t !== 'string' || !Object.hasOwn(CODEC_TYPES, t)) {
    throw new TypeError(`${where}: type must be one of ${Object.keys(CODEC_TYPES).join(', ')}, got ${String(t)}`);
  }
  const type = CODEC_TYPES[t as keyof typeof CODEC_TYPES];
  const maxFrame = (): number => num(where, 'maxFrame', r.maxFrame, 1, MAX_I32, 64 * 1024);
  switch (t) {
    case 'line':
      return { type, maxFrame: maxFrame() };
    case 'delimiter': {
      const d = r.delimiter;
      const bytes = typeof d === 'string' ? Buffer.from(d, 'latin1') : d instanceof Uint8Array ? Uint8Array.from(d) : null;
      if (!bytes || bytes.length < 1 || bytes.length > 16) throw new RangeError(`${where}: delimiter must be 1 to 16 bytes (a string or Uint8Array)`);
      return { type, maxFrame: maxFrame(), delimiter: bytes };
    }
    case 'fixed':
      return { type, size: num(where, 'size', r.size, 1, MAX_I32, 0) || failSize(where) };
    case 'length-field': {
      const fieldOffset = num(where, 'fieldOffset', r.fieldOffset, 0, 1 << 16, 0);
      const fieldLength = num(where, 'fieldLength', r.fieldLength, 1, 8, 4);
      if (![1, 2, 3, 4, 8].includes(fieldLength)) throw new RangeError(`${where}: fieldLength must be 1, 2, 3, 4 or 8, got ${fieldLength}`);
      if (r.littleEndian !== undefined && typeof r.littleEndian !== 'boolean') throw new TypeError(`${where}: littleEndian must be a boolean`);
      return {
        type,
        fieldOffset,
        fieldLength,
        adjustment: num(where, 'adjustment', r.adjustment, -MAX_I32, MAX_I32, 0),
        strip: num(where, 'strip', r.strip, 0, MAX_I32, fieldOffset + fieldLength),
        littleEndian: Boolean(r.littleEndian),
        maxFrame: maxFrame(),
      };
    }
    case 'http1':
      return {
        type,
        maxHeaderBytes: num(where, 'maxHeaderBytes', r.maxHeaderBytes, 16, MAX_I32, 8 * 1024),
        maxHeaders: num(where, 'maxHeaders', r.maxHeaders, 1, 4096, 100),
        maxBodyBytes: num(where, 'maxBodyBytes', r.maxBodyBytes, 0, MAX_I32, 1024 * 1024),
      };
    default:
      return {
        type,
        maxArgs: num(where, 'maxArgs', r.maxArgs, 1, MAX_I32, 1024 * 1024),
        maxBulk: num(where, 'maxBulk', r.maxBulk, 1, MAX_I32, 32 * 1024 * 1024),
      };
  }
}

function failSize(where: string): never {
  throw new RangeError(`${where}: a fixed codec needs size (an integer >= 1)`);
}
