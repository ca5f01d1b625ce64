/**
 * What every command of the RESP example works with: the reply writer and argument accessors
 * (`Ctx`, one per reactor, reused for every command), the replies and errors several command
 * families share, and redis's number formats (string2ll-style integers, string2d-style doubles
 * in, `%.17g` doubles out), so that replies match redis 7.0's byte for byte.
 */
import { Buffer } from 'node:buffer';
import type { Conn } from '../../lib/index.js';
import { parseInt64, type RespArgs } from './resp.js';
import type { Collection, Meter, Store, Value } from './store.js';
import type { PubSub, Subscriptions } from './pubsub.js';

/** Per-connection state the commands can see. */
export interface Session {
  readonly id: number;
  name: Uint8Array | null;
  /** Set by QUIT: close once the reply is out. */
  quit: boolean;
  /** Its channels and patterns, once it subscribed to any (pubsub.ts). */
  subs: Subscriptions | null;
}

/** Bytes of a latin1 string (one byte per char): the form keys and members take. */
export const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// Replies and errors as bytes, written as they are (redis's shared.ok, shared.wrongtypeerr, ...).
/** `+OK`. */
export const R_OK = enc('+OK\r\n');
/** The RESP2 null bulk string: a missing value. */
export const R_NIL = enc('$-1\r\n');
/** The RESP2 null array: what LPOP with a count answers for a missing key. */
export const R_NIL_ARRAY = enc('*-1\r\n');
/** An empty array: a missing key's empty list, set or range. */
export const R_EMPTY_ARRAY = enc('*0\r\n');
/** The end of a bulk string. */
export const CRLF = enc('\r\n');
/** An argument that is not a 64-bit integer. */
export const E_NOT_INT = enc('-ERR value is not an integer or out of range\r\n');
/** Options that do not parse. */
export const E_SYNTAX = enc('-ERR syntax error\r\n');
/** A key holding another type than the command's. */
export const E_WRONGTYPE = enc('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
/** A count (LPOP, SPOP, ZPOPMIN) that is negative or not an integer: redis words both alike. */
export const E_NOT_POSITIVE = enc('-ERR value is out of range, must be positive\r\n');
/** A score that is not a double as string2d reads one. */
export const E_NOT_FLOAT = enc('-ERR value is not a valid float\r\n');
/** What redis answers a command that may grow memory while it is over `maxmemory` (noeviction). */
export const E_OOM = enc("-OOM command not allowed when used memory > 'maxmemory'.\r\n");

const SMALL = 1024;
const INT_REPLY: Uint8Array[] = [];
const BULK_HEAD: Uint8Array[] = [];
const ARRAY_HEAD: Uint8Array[] = [];
for (let i = 0; i < SMALL; i++) {
  INT_REPLY.push(enc(`:${i}\r\n`));
  BULK_HEAD.push(enc(`$${i}\r\n`));
  ARRAY_HEAD.push(enc(`*${i}\r\n`));
}

/** Size of the scratch buffer `Ctx.bulks` keeps between replies. */
const SCRATCH_KEEP = 64 * 1024;

/**
 * Keys seen lately, by a hash of their bytes (direct-mapped). A key sent again gets the same JS
 * string back, whose hash V8 has already computed: making the string (a latin1 slice, a call into
 * C++) and hashing it for the keyspace's Map were ~8% of a pipelined INCR server's samples. A miss
 * costs the hash of the bytes and a pointer store; only keys up to KEY_CACHE_LEN bytes are kept,
 * so the cache holds at most KEY_CACHE short strings.
 */
const KEY_CACHE = 1024;
const KEY_CACHE_LEN = 64;
/** Room for ':' , a sign, 16 digits and CRLF: every safe integer's reply. */
const NUM_ROOM = 24;

/** The reply writer and argument accessors for the command being run. One per reactor, reused. */
export class Ctx {
  c!: Conn;
  p!: RespArgs;
  session!: Session;
  now = 0;
  private view: Buffer = Buffer.alloc(0);
  private viewOf: ArrayBufferLike | undefined;
  private other: Buffer = Buffer.alloc(0);
  private otherOf: ArrayBufferLike | undefined;
  private base = 0;
  /** The source view `view` and `base` were set for. */
  private src: Uint8Array | undefined;
  private scratch: Buffer = Buffer.allocUnsafe(SCRATCH_KEEP);
  private readonly keys: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE).fill(undefined);
  /** An integer reply is formatted backwards into `num`; `numAt[i]` is its view from byte i (made once). */
  private readonly num = new Uint8Array(NUM_ROOM);
  private readonly numAt: Uint8Array[] = Array.from({ length: NUM_ROOM }, (_, i) => this.num.subarray(i));

  constructor(
    readonly store: Store,
    readonly pubsub: PubSub,
  ) {}

  /** Prepares for the command just parsed by `p`. */
  load(c: Conn, p: RespArgs, session: Session, now: number): void {
    this.c = c;
    this.p = p;
    this.session = session;
    this.now = now;
    const src = p.src;
    // The commands of one read share their source view: its buffer (a call into V8's C++ each
    // time it is asked for) is looked at once per view, not once per command.
    if (src === this.src) return;
    this.src = src;
    this.base = src.byteOffset;
    if (src.buffer !== this.viewOf) {
      // Two cached views: the read arena and the inline scratch buffer alternate in mixed pipelines.
      const prev = this.view;
      const prevOf = this.viewOf;
      if (src.buffer === this.otherOf) {
        this.view = this.other;
      } else {
        this.view = Buffer.from(src.buffer);
      }
      this.viewOf = src.buffer;
      this.other = prev;
      this.otherOf = prevOf;
    }
  }

  get argc(): number {
    return this.p.argc;
  }

  /** Argument `i` as a latin1 string (one char per byte): the form keys take. */
  str(i: number): string {
    const n = this.p.argLen[i]!;
    const s = this.base + this.p.argOff[i]!;
    if (n > KEY_CACHE_LEN) return this.view.toString('latin1', s, s + n);
    const b = this.view;
    // The slot comes from the length and four sampled bytes (keys like "user:1234" differ at the
    // end, "1234:user" at the start): a collision only costs a miss, since the compare below reads
    // every byte.
    if (n === 0) return '';
    const h = Math.imul(
      Math.imul(Math.imul(n ^ b[s]!, 0x9e3779b1) ^ b[s + (n >> 1)]!, 0x85ebca77) ^ (b[s + n - 1]! | (b[s + ((n * 3) >> 2)]! << 8)),
      0xc2b2ae3d,
    );
    const at = (h ^ (h >>> 16)) & (KEY_CACHE - 1);
    const k = this.keys[at];
    if (k !== undefined && k.length === n) {
      let j = 0;
      while (j < n && k.charCodeAt(j) === b[s + j]) j++;
      if (j === n) return k;
    }
    const str = b.toString('latin1', s, s + n);
    this.keys[at] = str;
    return str;
  }

  /** A copy of argument `i` (to keep). */
  copy(i: number): Uint8Array {
    const s = this.p.argOff[i]!;
    return this.p.src.slice(s, s + this.p.argLen[i]!);
  }

  /** Stores argument `i` under `key` as a byte string (see `Store.setFrom`). */
  storeArg(key: string, i: number, expireAt?: number): void {
    const s = this.p.argOff[i]!;
    this.store.setFrom(key, this.p.src, s, s + this.p.argLen[i]!, expireAt);
  }

  /** A view of argument `i`, valid during this command only. */
  bytes(i: number): Uint8Array {
    const s = this.p.argOff[i]!;
    return this.p.src.subarray(s, s + this.p.argLen[i]!);
  }

  /** The byte length of argument `i`. */
  argLength(i: number): number {
    return this.p.argLen[i]!;
  }

  /**
   * Argument `i` as a bulk string (`$<len>\r\n<bytes>\r\n`) written into `dst` at `at` (the caller
   * made room: its length plus 16); returns the offset after it. No view or string is made.
   */
  bulkInto(i: number, dst: Uint8Array, at: number): number {
    const n = this.p.argLen[i]!;
    const s = this.p.argOff[i]!;
    const src = this.p.src;
    dst[at] = 36; // '$'
    let o = at + 1 + digitCount(n);
    writeDigits(dst, o, n);
    dst[o++] = 13;
    dst[o++] = 10;
    if (n <= 64) for (let j = 0; j < n; j++) dst[o + j] = src[s + j]!;
    else dst.set(src.subarray(s, s + n), o);
    o += n;
    dst[o++] = 13;
    dst[o++] = 10;
    return o;
  }

  /** Whether argument `i` equals the lowercase ASCII `lit`, ignoring case. */
  is(i: number, lit: Uint8Array): boolean {
    return eqLower(this.p.src, this.p.argOff[i]!, this.p.argLen[i]!, lit);
  }

  /** Argument `i` as a signed 64-bit integer (number when safe), or null. */
  int(i: number): number | bigint | null {
    const s = this.p.argOff[i]!;
    return parseInt64(this.p.src, s, s + this.p.argLen[i]!);
  }

  /**
   * Argument `i` as an index or count (redis's `long`): a number, exact within ±2^53 and rounded
   * beyond (no list is that long, so ranges come out the same), or null with `ERR value is not an
   * integer or out of range` answered.
   */
  long(i: number): number | null {
    const v = this.int(i);
    if (v === null) {
      this.raw(E_NOT_INT);
      return null;
    }
    return Number(v);
  }

  /**
   * Argument `i` as a count of at least 0 (redis's getPositiveLongFromObjectOrReply), or null with
   * `ERR value is out of range, must be positive` answered, for a negative count and for one that
   * is not an integer alike (as redis words both).
   */
  count(i: number): number | null {
    const v = this.int(i);
    if (v === null || v < 0) {
      this.raw(E_NOT_POSITIVE);
      return null;
    }
    return Number(v);
  }

  /** Argument `i` as a double as redis reads one (see `parseDouble`), or null with `ERR value is not a valid float` answered. */
  double(i: number): number | null {
    const s = this.p.argOff[i]!;
    const v = parseDouble(this.p.src, s, s + this.p.argLen[i]!);
    if (v === null) this.raw(E_NOT_FLOAT);
    return v;
  }

  ok(): void {
    this.c.write(R_OK);
  }
  nil(): void {
    this.c.write(R_NIL);
  }
  integer(n: number | bigint): void {
    if (typeof n !== 'number') return void this.c.write(`:${n}\r\n`);
    if (n >= 0 && n < SMALL) return void this.c.write(INT_REPLY[n]!);
    this.c.write(this.numAt[this.formatInt(n)]!);
  }
  /**
   * The integer reply of `n` (a safe integer), and its digits copied into `into`, which is exactly
   * as long as they are: INCR's new value and its reply from one formatting.
   */
  integerInto(n: number, into: Uint8Array): void {
    const at = this.formatInt(n);
    const b = this.num;
    for (let i = 0; i < into.length; i++) into[i] = b[at + 1 + i]!;
    this.c.write(n >= 0 && n < SMALL ? INT_REPLY[n]! : this.numAt[at]!);
  }
  /** `:n\r\n` by hand at the end of `num` (no string to encode, no allocation); returns where it starts. */
  private formatInt(n: number): number {
    const b = this.num;
    let at = NUM_ROOM;
    b[--at] = 10;
    b[--at] = 13;
    at = writeDigits(b, at, n);
    b[--at] = 58; // ':'
    return at;
  }
  bulk(v: Uint8Array): void {
    const n = v.length;
    this.c.write(n < SMALL ? BULK_HEAD[n]! : `$${n}\r\n`);
    this.c.write(v);
    this.c.write(CRLF);
  }
  /** A bulk string from a latin1 string (one byte per char). */
  bulkString(s: string): void {
    this.bulk(enc(s));
  }
  /** A double as a bulk string, formatted as redis 7.0 does in RESP2 (`%.17g`, `inf`, `-inf`). */
  bulkDouble(d: number): void {
    this.bulkString(formatDouble(d));
  }
  array(n: number): void {
    this.c.write(n < SMALL ? ARRAY_HEAD[n]! : `*${n}\r\n`);
  }
  /**
   * An array of `n` bulk strings, element `i` being `at(i)`, assembled in one scratch buffer and
   * written at once (the reactor copies it into its out arena): one write for LRANGE's 600
   * elements instead of three each.
   */
  bulks(n: number, at: (i: number) => Uint8Array): void {
    // At most 16 bytes of framing per element ($, 10 digits, CRLF, CRLF) and for the array.
    let size = 16;
    for (let i = 0; i < n; i++) size += at(i).length + 16;
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    const out = this.scratch;
    const top = n < SMALL ? ARRAY_HEAD[n]! : enc(`*${n}\r\n`);
    out.set(top, 0);
    let w = top.length;
    for (let i = 0; i < n; i++) {
      const v = at(i);
      const head = v.length < SMALL ? BULK_HEAD[v.length]! : enc(`$${v.length}\r\n`);
      out.set(head, w);
      w += head.length;
      out.set(v, w);
      w += v.length;
      out[w++] = 13;
      out[w++] = 10;
    }
    this.c.write(out.subarray(0, w));
    // A one-off large reply does not keep its scratch.
    if (out.length > SCRATCH_KEEP) this.scratch = Buffer.allocUnsafe(SCRATCH_KEEP);
  }
  raw(bytes: Uint8Array): void {
    this.c.write(bytes);
  }
  /** An error reply; `msg` starts with its code (`ERR ...`). CR and LF become spaces, as in redis. */
  error(msg: string): void {
    this.c.write(`-${msg.replace(/[\r\n]/g, ' ')}\r\n`);
  }
}

/** Decimal digits of `n`'s magnitude, sign first, written backwards into b[..end); returns where they start. */
export function writeDigits(b: Uint8Array, end: number, n: number): number {
  let at = end;
  let v = n < 0 ? -n : n;
  // Doubles while above int32 (exact for safe integers), then int32 division, which is cheaper.
  while (v > 0x7fffffff) {
    const q = Math.floor(v / 10);
    b[--at] = 48 + (v - q * 10);
    v = q;
  }
  let w = v | 0;
  do {
    const q = (w / 10) | 0;
    b[--at] = 48 + (w - q * 10);
    w = q;
  } while (w > 0);
  if (n < 0) b[--at] = 45; // '-'
  return at;
}

/** How many bytes `n` (a safe integer) takes in decimal, sign included. */
export function digitCount(n: number): number {
  const v = n < 0 ? -n : n;
  let d = n < 0 ? 2 : 1;
  for (let p = 10; p <= v; p *= 10) d++;
  return d;
}

/** A command of the example: how the dispatcher finds, checks and runs it. */
export interface Command {
  /** Lowercase name, as redis reports it. */
  readonly name: string;
  /** redis arity: N exactly N arguments (the name included), -N at least N. */
  readonly arity: number;
  /**
   * redis's `denyoom` flag: the command may add to memory, so it is refused with `-OOM` while the
   * store is over its `maxMemory` (reads, deletes and pops still run: they are how memory comes back).
   */
  readonly denyoom?: boolean;
  /** Allowed in the subscribed context (RESP2: only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET). */
  readonly pubsub?: boolean;
  run(x: Ctx): void;
}

/** Option names, lowercase, for `Ctx.is`. */
export const L = {
  nx: enc('nx'),
  xx: enc('xx'),
  gt: enc('gt'),
  lt: enc('lt'),
  ch: enc('ch'),
  incr: enc('incr'),
  ex: enc('ex'),
  px: enc('px'),
  exat: enc('exat'),
  pxat: enc('pxat'),
  keepttl: enc('keepttl'),
  get: enc('get'),
  set: enc('set'),
  docs: enc('docs'),
  count: enc('count'),
  info: enc('info'),
  list: enc('list'),
  setname: enc('setname'),
  getname: enc('getname'),
  setinfo: enc('setinfo'),
  id: enc('id'),
  resetstat: enc('resetstat'),
  async: enc('async'),
  sync: enc('sync'),
};

/** Whether buf[s..s+n) equals the lowercase ASCII `lit`, ignoring the case of letters. */
export function eqLower(buf: Uint8Array, s: number, n: number, lit: Uint8Array): boolean {
  if (n !== lit.length) return false;
  for (let i = 0; i < n; i++) {
    const b = buf[s + i]!;
    if ((b >= 65 && b <= 90 ? b | 0x20 : b) !== lit[i]) return false;
  }
  return true;
}

/**
 * The value of type `type` at argv[1]: undefined if the key is missing, null (with WRONGTYPE
 * answered) if it holds another type. Every command that reads or changes one type starts here.
 */
export function valueAt<T extends Value>(x: Ctx, type: abstract new (...args: never[]) => T): T | undefined | null {
  const v = x.store.get(x.str(1), x.now);
  if (v === undefined || v instanceof type) return v as T | undefined;
  x.raw(E_WRONGTYPE);
  return null;
}

/**
 * As `valueAt`, but a missing key gets a new, empty `type` stored under it: what a command that
 * adds elements (LPUSH, SADD, HSET) works on.
 */
export function valueOrNew<T extends Collection>(x: Ctx, type: new (meter: Meter) => T): T | null {
  const v = valueAt(x, type);
  if (v !== undefined) return v;
  const created = new type(x.store);
  x.store.add(x.str(1), created);
  return created;
}

/** LLEN, SCARD, HLEN, ZCARD: the size of the `type` at argv[1], 0 for a missing key. */
export function sizeCommand<T extends Value>(type: abstract new (...args: never[]) => T, size: (v: T) => number): (x: Ctx) => void {
  return (x) => {
    const v = valueAt(x, type);
    if (v !== null) x.integer(v === undefined ? 0 : size(v));
  };
}

/** redis's arity error for command `name` (as redis names it: lowercase, `config|get` for subcommands). */
export function wrongArity(x: Ctx, name: string): void {
  x.error(`ERR wrong number of arguments for '${name}' command`);
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?(?:inf|infinity)$/i;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

/**
 * A double as redis's string2d reads one (C's strtod over the whole argument): decimal with an
 * optional exponent, `inf`/`infinity` in any case, C99 hex floats (`0x1.8p3`); no leading space,
 * nothing after the number, no NaN, and no overflow to infinity or underflow to zero. Null when
 * it is not one.
 */
export function parseDouble(buf: Uint8Array, s: number, e: number): number | null {
  if (e <= s || e - s > 512) return null;
  let str = '';
  for (let i = s; i < e; i++) str += String.fromCharCode(buf[i]!);
  let v: number;
  let mantissaNonZero: boolean;
  if (DECIMAL.test(str)) {
    v = Number(str);
    mantissaNonZero = /[1-9]/.test(str.replace(/[eE].*$/, ''));
  } else if (INFINITY.test(str)) {
    return str[0] === '-' ? -Infinity : Infinity;
  } else {
    const m = HEX.exec(str);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
    const digits = m[2]! + (m[3] ?? '');
    let mant = 0;
    for (const d of digits) mant = mant * 16 + parseInt(d, 16);
    v = mant * 2 ** (Number(m[4] ?? 0) - 4 * (m[3] ?? '').length);
    if (m[1] === '-') v = -v;
    mantissaNonZero = /[1-9a-fA-F]/.test(digits);
  }
  // strtod's ERANGE cases that string2d refuses: overflow, and underflow all the way to zero.
  if (!Number.isFinite(v) || (v === 0 && mantissaNonZero)) return null;
  return v;
}

/** `d` as C's `printf("%.17g")` writes it (what redis 7.0 replies with in RESP2), `inf` and `-inf` for infinities. */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mant, exp] = d.toExponential(16).split('e') as [string, string];
  const x = Number(exp);
  // %g: fixed notation when -4 <= exponent < precision, else exponential; trailing zeros dropped.
  if (x >= -4 && x < 17) return stripZeros(d.toFixed(16 - x));
  return `${stripZeros(mant)}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
