/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * What a job's payload becomes in the ring (ring.ts), and back. A Uint8Array (or Buffer)
 * travels as its bytes; plain objects, arrays, strings, numbers and Uint8Arrays in codec.ts's
 * encoding; anything else as `v8.serialize` output. The job gets what structured clone would give
 * it, except that a typed array arrives as a copy of just its bytes (its own buffer), never a view
 * of the ring. What cannot be serialized (a SharedArrayBuffer, say), needs more than a quarter of
 * the ring, or finds the ring full takes the engine's piscina queue instead.
 */
import { Buffer } from 'node:buffer';
import v8 from 'node:v8';
import { Encoder } from './codec.js';
import { KIND_BYTES, KIND_CODEC, KIND_V8 } from './layout.js';

/** Picks each payload's encoding. Loop-only, as codec's Encoder it keeps. */
export class PayloadEncoder {
  /** The encoding (KIND_*) of the bytes the last `encode` returned. */
  kind = KIND_BYTES;
  /** Made on the first payload that is not plain bytes: consumers never need one. */
  private codec: Encoder | undefined;

  /** @param limit bytes past which codec gives up (the most one job may carry). */
  constructor(private readonly limit: number) {}

  /** The payload's bytes in the encoding `kind` names, or null when it cannot be serialized. */
  encode(payload: unknown): Uint8Array | null {
    if (payload instanceof Uint8Array && (payload.constructor === Uint8Array || Buffer.isBuffer(payload))) {
      this.kind = KIND_BYTES;
      return payload;
    }
    const coded = (this.codec ??= new Encoder(this.limit)).encode(payload);
    if (coded !== null) {
      this.kind = KIND_CODEC;
      return coded;
    }
    let bytes: Uint8Array;
    try {
      bytes = v8.serialize(payload);
    } catch {
      return null;
    }
    this.kind = KIND_V8;
    return bytes;
  }
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

/** A KIND_V8 payload; `bytes` may be a view of the ring, nothing of it is kept. */
export function deserialize(bytes: Uint8Array): unknown {
  const d = new OwningDeserializer(bytes as Buffer);
  d.readHeader();
  return d.readValue();
}
