/**
 * A request the native `http1` codec framed (lib/codec.ts), read from its frame table record with
 * the fields the handler answers from, as HttpParser has them after a parse: no bytes walked.
 * Offsets are relative to the delivered window, which starts at `base` in the bytes the handler
 * reads them in (the codec's `Frames.source`).
 */
import { HTTP1_FIXED_INTS } from '../../lib/index.js';
import type { Method } from './parser.js';

/** What the handler reads of a parsed request: a HttpParser after `parse() > 0`, or a FrameRequest. */
export interface Request {
  readonly base: number;
  readonly method: Method;
  readonly version: number;
  readonly keepAlive: boolean;
  readonly pathStart: number;
  readonly pathEnd: number;
  /** Index (in `headers`) of the Content-Type field, -1 if absent. */
  readonly contentType: number;
  readonly headers: Int32Array;
  readonly bodyLength: number;
  readonly segs: Int32Array;
  readonly segCount: number;
}

/** One reusable request view per handler (loop-only). */
export class FrameRequest implements Request {
  /** Where the window starts in the bytes the offsets index (the codec's `Frames.base`). */
  base = 0;
  method: Method = 0;
  version = 11;
  keepAlive = true;
  pathStart = 0;
  pathEnd = 0;
  contentType = -1;
  /** Only the Content-Type field, when there is one (index 0). */
  readonly headers = new Int32Array(4);
  bodyLength = 0;
  readonly segs = new Int32Array(2);
  segCount = 0;

  /** Loads the record at `t[at]`; returns the index after it. */
  load(t: Int32Array, at: number): number {
    this.method = t[at + 1]! as Method;
    this.keepAlive = (t[at + 2]! & 1) !== 0;
    this.version = t[at + 3]!;
    this.pathStart = t[at + 8]!;
    this.pathEnd = t[at + 9]!;
    const bodyStart = t[at + 10]!;
    const bodyLength = t[at + 11]!;
    this.bodyLength = bodyLength;
    this.segs[0] = bodyStart;
    this.segs[1] = bodyStart + bodyLength;
    this.segCount = bodyLength > 0 ? 1 : 0;
    const ct = t[at + 12]!;
    if (ct >= 0) {
      const h = at + HTTP1_FIXED_INTS + 4 * ct;
      this.headers[0] = t[h]!;
      this.headers[1] = t[h + 1]!;
      this.headers[2] = t[h + 2]!;
      this.headers[3] = t[h + 3]!;
      this.contentType = 0;
    } else {
      this.contentType = -1;
    }
    return at + HTTP1_FIXED_INTS + 4 * t[at + 13]!;
  }
}
