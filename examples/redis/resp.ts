/**
 * A pure, incremental RESP2 request parser: arrays of bulk strings (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`)
 * and inline commands (`PING\r\n`, `SET k "a b"\n`), as redis reads them. No I/O.
 *
 * Usage: one parser per connection. `parse(buf, off)` reads the command starting at `buf[off]`:
 *   - `> 0`: a whole command was parsed; the value is how many bytes it used. Its arguments are
 *     `argc` byte ranges of `src`: `src[argOff[i] .. argOff[i] + argLen[i])`. `src` is `buf` for
 *     arrays (no copy) and a parser-owned scratch buffer for inline commands (quotes and escapes
 *     decoded). They are valid until the next `parse` call. `argc` may be 0 (an empty inline line,
 *     `*0` or `*-1`): nothing to run, as in redis.
 *   - `NEED_MORE` (0): incomplete. Call again with the same bytes at the same relative place plus
 *     what arrived since; the parser keeps the arguments already read and does not rescan them.
 *   - `PROTOCOL_ERROR` (-1): `error` holds the message redis would give after `-ERR Protocol error: `;
 *     the caller answers and closes. Later calls return the same until `reset()`.
 *
 * Limits (redis's own unless noted): an array holds at most `maxArgs` (default 1024 * 1024)
 * elements; a bulk string is at most `maxBulk` bytes (default 32 MiB: smaller than redis's 512 MiB
 * because a command is held whole in the reactor's read buffer, whose default cap is 64 MiB);
 * a `*`/`$` header line or an inline command may not exceed 64 KiB without its newline.
 */

export const NEED_MORE = 0;
export const PROTOCOL_ERROR = -1;

export interface RespLimits {
  maxArgs?: number;
  maxBulk?: number;
}

export const DEFAULT_RESP_LIMITS: Required<RespLimits> = {
  maxArgs: 1024 * 1024,
  maxBulk: 32 * 1024 * 1024,
};

const LF = 10;
const CR = 13;
const STAR = 42;
const DOLLAR = 36;
/** Longest `*n` / `$n` line or inline command without a newline (redis PROTO_INLINE_MAX_SIZE). */
const MAX_LINE = 64 * 1024;

const PH_IDLE = 0;
const PH_ARRAY = 1;
const PH_ERROR = 2;

/** isspace() of C: SP \t \n \v \f \r. */
function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

function hexVal(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

export class RespParser {
  readonly maxArgs: number;
  readonly maxBulk: number;

  /** Where the arguments of the last command live: the parsed buffer or the inline scratch. */
  src: Uint8Array = new Uint8Array(0);
  argc = 0;
  argOff: Int32Array = new Int32Array(16);
  argLen: Int32Array = new Int32Array(16);
  /** The message of the last protocol error (without `ERR Protocol error: `). */
  error = '';

  private phase = PH_IDLE;
  /** Elements announced by the array header. */
  private want = 0;
  /** Progress, relative to the command's start. */
  private pos = 0;
  private scratch = new Uint8Array(256);

  constructor(limits: RespLimits = {}) {
    this.maxArgs = limits.maxArgs ?? DEFAULT_RESP_LIMITS.maxArgs;
    this.maxBulk = limits.maxBulk ?? DEFAULT_RESP_LIMITS.maxBulk;
  }

  reset(): void {
    this.phase = PH_IDLE;
    this.pos = 0;
    this.argc = 0;
    this.error = '';
  }

  private fail(msg: string): number {
    this.phase = PH_ERROR;
    this.error = msg;
    this.argc = 0;
    return PROTOCOL_ERROR;
  }

  /** Parses one command starting at `buf[off]`; see the module comment for the result. */
  parse(buf: Uint8Array, off = 0): number {
    if (this.phase === PH_ERROR) return PROTOCOL_ERROR;
    const end = buf.length;
    if (this.phase === PH_IDLE) {
      if (off >= end) return NEED_MORE;
      if (buf[off] !== STAR) return this.inline(buf, off, end);
      const nl = this.lineEnd(buf, off + 1, end, 'too big mbulk count string');
      if (nl <= 0) return nl;
      const n = parseInteger(buf, off + 1, nl - 1);
      if (n === null || n > this.maxArgs) return this.fail('invalid multibulk length');
      if (n <= 0) {
        this.argc = 0;
        this.src = buf;
        return nl + 1 - off;
      }
      this.want = n;
      this.argc = 0;
      this.pos = nl + 1 - off;
      this.phase = PH_ARRAY;
      if (this.argOff.length < Math.min(n, 4096)) this.grow(Math.min(n, 4096));
    }
    // PH_ARRAY: bulk strings, resuming after the last complete one.
    let p = off + this.pos;
    while (this.argc < this.want) {
      if (p >= end) break;
      if (buf[p] !== DOLLAR) return this.fail(`expected '$', got '${String.fromCharCode(buf[p]!)}'`);
      const nl = this.lineEnd(buf, p + 1, end, 'too big bulk count string');
      if (nl < 0) return nl;
      if (nl === 0) break;
      const len = parseInteger(buf, p + 1, nl - 1);
      if (len === null || len < 0 || len > this.maxBulk) return this.fail('invalid bulk length');
      const ds = nl + 1;
      if (ds + len + 2 > end) break;
      if (buf[ds + len] !== CR || buf[ds + len + 1] !== LF) return this.fail('expected CRLF after a bulk string');
      if (this.argc === this.argOff.length) this.grow(this.argc * 2);
      this.argOff[this.argc] = ds - off;
      this.argLen[this.argc] = len;
      this.argc++;
      p = ds + len + 2;
    }
    this.pos = p - off;
    if (this.argc < this.want) return NEED_MORE;
    for (let i = 0; i < this.argc; i++) this.argOff[i]! += off;
    this.src = buf;
    this.phase = PH_IDLE;
    this.pos = 0;
    return p - off;
  }

  /**
   * Finds the CRLF of a header line starting at `s`. Returns the index of its LF; 0 when more bytes
   * are needed; PROTOCOL_ERROR when the line is too long or a CR is not followed by LF.
   */
  private lineEnd(buf: Uint8Array, s: number, end: number, tooBig: string): number {
    const cr = buf.indexOf(CR, s);
    if (cr < 0 || cr - s > MAX_LINE) {
      if (end - s > MAX_LINE) return this.fail(tooBig);
      return NEED_MORE;
    }
    if (cr + 1 >= end) return NEED_MORE;
    if (buf[cr + 1] !== LF) return this.fail('expected LF after CR');
    return cr + 1;
  }

  private grow(n: number): void {
    const off = new Int32Array(n);
    const len = new Int32Array(n);
    off.set(this.argOff.subarray(0, Math.min(this.argc, n)));
    len.set(this.argLen.subarray(0, Math.min(this.argc, n)));
    this.argOff = off;
    this.argLen = len;
  }

  /** An inline command: one line split like redis's sdssplitargs (quotes, escapes). */
  private inline(buf: Uint8Array, off: number, end: number): number {
    const nl = buf.indexOf(LF, off);
    if (nl < 0 || nl - off > MAX_LINE) {
      if (end - off > MAX_LINE) return this.fail('too big inline request');
      return NEED_MORE;
    }
    let le = nl;
    if (le > off && buf[le - 1] === CR) le--;
    if (this.scratch.length < le - off) this.scratch = new Uint8Array(Math.max(le - off, this.scratch.length * 2));
    const out = this.scratch;
    let w = 0;
    let argc = 0;
    let p = off;
    for (;;) {
      while (p < le && isSpace(buf[p]!)) p++;
      if (p >= le) break;
      const start = w;
      let inq = false;
      let insq = false;
      let done = false;
      while (!done) {
        const b = p < le ? buf[p]! : -1;
        if (inq) {
          if (b === 92 && p + 3 < le && buf[p + 1] === 120 && hexVal(buf[p + 2]!) >= 0 && hexVal(buf[p + 3]!) >= 0) {
            out[w++] = hexVal(buf[p + 2]!) * 16 + hexVal(buf[p + 3]!);
            p += 3;
          } else if (b === 92 && p + 1 < le) {
            p++;
            const e = buf[p]!;
            out[w++] = e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e;
          } else if (b === 34) {
            // A closing quote must be followed by a space or the end of the line.
            if (p + 1 < le && !isSpace(buf[p + 1]!)) return this.fail('unbalanced quotes in request');
            done = true;
          } else if (b < 0) {
            return this.fail('unbalanced quotes in request');
          } else {
            out[w++] = b;
          }
        } else if (insq) {
          if (b === 92 && p + 1 < le && buf[p + 1] === 39) {
            p++;
            out[w++] = 39;
          } else if (b === 39) {
            if (p + 1 < le && !isSpace(buf[p + 1]!)) return this.fail('unbalanced quotes in request');
            done = true;
          } else if (b < 0) {
            return this.fail('unbalanced quotes in request');
          } else {
            out[w++] = b;
          }
        } else if (b < 0 || b === 32 || b === 10 || b === 13 || b === 9 || b === 0) {
          done = true;
        } else if (b === 34) {
          inq = true;
        } else if (b === 39) {
          insq = true;
        } else {
          out[w++] = b;
        }
        if (p < le) p++;
      }
      if (argc === this.argOff.length) this.grow(argc * 2);
      this.argOff[argc] = start;
      this.argLen[argc] = w - start;
      argc++;
    }
    this.argc = argc;
    this.src = out;
    return nl + 1 - off;
  }
}

/**
 * redis's string2ll on buf[s..e): optional '-', no '+', no leading zeros, no spaces, at most 20
 * bytes. Returns null when invalid; values beyond 2^53 lose precision (callers that need the
 * exact 64-bit range use `parseInt64`).
 */
export function parseInteger(buf: Uint8Array, s: number, e: number): number | null {
  const n = e - s;
  if (n <= 0 || n > 20) return null;
  let i = s;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === e) return null;
  }
  if (buf[i] === 48) return i + 1 === e && !neg ? 0 : null;
  let v = 0;
  for (; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/**
 * string2ll with the exact signed 64-bit range: a number when it is a safe integer, a bigint
 * otherwise, null when invalid or out of range.
 */
export function parseInt64(buf: Uint8Array, s: number, e: number): number | bigint | null {
  const n = e - s;
  if (n < 16) return parseInteger(buf, s, e);
  if (parseInteger(buf, s, e) === null) return null;
  let str = '';
  for (let i = s; i < e; i++) str += String.fromCharCode(buf[i]!);
  const big = BigInt(str);
  if (big > I64_MAX || big < I64_MIN) return null;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/**
 * A command's arguments as the command layer reads them (ctx.ts): `argc` byte ranges of `src`,
 * `src[argOff[i] .. argOff[i] + argLen[i])`. A RespParser is one; FrameArgs is the other.
 */
export interface RespArgs {
  readonly src: Uint8Array;
  readonly argc: number;
  readonly argOff: Int32Array;
  readonly argLen: Int32Array;
}

/**
 * The arguments of a command the native `resp` codec framed (lib/codec.ts): copied out of the
 * frame table record at `at` (offsets relative to the window `src`), no bytes walked.
 */
export class FrameArgs implements RespArgs {
  src: Uint8Array = new Uint8Array(0);
  argc = 0;
  argOff: Int32Array = new Int32Array(16);
  argLen: Int32Array = new Int32Array(16);

  /**
   * Loads the record at `t[at]`, whose offsets count from `base` in `src` (the codec's
   * `Frames.source` and `base`); returns the index after it.
   */
  load(src: Uint8Array, base: number, t: Int32Array, at: number): number {
    const n = t[at]!;
    if (n > this.argOff.length) {
      this.argOff = new Int32Array(n);
      this.argLen = new Int32Array(n);
    }
    const off = this.argOff;
    const len = this.argLen;
    let k = at + 1;
    for (let i = 0; i < n; i++, k += 2) {
      off[i] = base + t[k]!;
      len[i] = t[k + 1]!;
    }
    this.src = src;
    this.argc = n;
    return k;
  }
}
