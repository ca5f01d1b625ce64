/**
 * A pure, incremental HTTP/1.1 request parser (RFC 9112). No I/O, no timers, no allocation per
 * request on the common path: it reads a `Uint8Array` and records offsets.
 *
 * Usage: one parser per connection. `parse(buf, off)` looks at the bytes `buf[off..]` and returns
 *   - `> 0`: a whole request (head and body) was parsed; the value is how many bytes it used,
 *     starting at `off`. Its fields are readable until the next `parse` call; every offset is
 *     relative to `base` (which is `off`), so `buf[p.base + p.pathStart]` is the first path byte.
 *   - `NEED_MORE` (0): the request is incomplete. Call again with the same bytes at the same
 *     relative place plus what arrived since (in a ringloop handler: leave the bytes unconsumed,
 *     the next `react` sees them again followed by the new ones). The parser remembers how far it
 *     got and does not rescan complete lines.
 *   - `< 0`: the request is malformed or over a limit; the value is minus the HTTP status to answer
 *     (400, 413, 431, 501, 505) and `error` says why. The parser stays in that state (every later
 *     call returns the same) until `reset()`; the connection is meant to be closed.
 *
 * The whole request, body included, must be buffered before it is returned (bodies are bounded by
 * `maxBodyBytes`); a chunked body is returned as segments (`segs`, `segCount`) that point at the
 * chunk data inside `buf`, so it can be written back without a copy.
 *
 * Strictness: lines end with CRLF (a bare LF or CR is a 400); no obsolete line folding; no
 * whitespace between a field name and its colon; field values without control characters; one
 * Host header, required in HTTP/1.1; Content-Length digits only (duplicates must agree); a request
 * with both Content-Length and Transfer-Encoding is a 400 (request smuggling); Transfer-Encoding
 * other than exactly `chunked` is a 501; HTTP versions other than 1.0 and 1.1 are a 505; chunk
 * extensions follow RFC 9112's grammar (`;name`, `;name=token`, `;name="quoted"`, with optional
 * whitespace around `;` and `=`) or the request is a 400, and are otherwise ignored. Empty lines
 * before a request line are skipped.
 *
 * Limits: `maxHeaderBytes` (default 8 KiB) bounds the request line plus header fields (431 when
 * over, also for trailers), `maxHeaders` (default 100) the number of fields (431),
 * `maxBodyBytes` (default 1 MiB) the decoded body (413). A chunked body's framing may use at most
 * `maxBodyBytes + 64 KiB` bytes beyond its data (413 when over) and a chunk-size line at most
 * 4 KiB (400), so tiny chunks cannot make a request unbounded.
 */
import { Buffer } from 'node:buffer';

/** `parse` result: the request is not complete yet. */
export const NEED_MORE = 0;

/** HTTP methods the parser recognises (others are valid tokens: `Method.Other`). */
export const Method = {
  Other: 0,
  GET: 1,
  HEAD: 2,
  POST: 3,
  PUT: 4,
  DELETE: 5,
  OPTIONS: 6,
  PATCH: 7,
  CONNECT: 8,
  TRACE: 9,
} as const;
export type Method = (typeof Method)[keyof typeof Method];

export interface ParserLimits {
  /** Request line + header fields, in bytes (default 8192). */
  maxHeaderBytes?: number;
  /** Decoded body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Header fields (and trailer fields), in number (default 100). */
  maxHeaders?: number;
}

export const DEFAULT_LIMITS: Required<ParserLimits> = {
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxHeaders: 100,
};

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;
const COLON = 58;
const SLASH = 47;
const QMARK = 63;
const SEMI = 59;
const EQUALS = 61;
const DQUOTE = 34;
const BACKSLASH = 92;

const MAX_CHUNK_LINE = 4096;
const CHUNK_FRAMING_SLACK = 64 * 1024;

/** tchar (RFC 9110 5.6.2). */
const TOKEN = new Uint8Array(256);
/** field-vchar, SP, HTAB, obs-text. */
const VALUE = new Uint8Array(256);
/** Bytes allowed in a request-target (visible ASCII). */
const TARGET = new Uint8Array(256);
/** qdtext (RFC 9110 5.6.4): HTAB, SP, visible ASCII but DQUOTE and backslash, obs-text. */
const QDTEXT = new Uint8Array(256);
/** What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
const QPAIR = new Uint8Array(256);
/** Hex digit values, -1 for others. */
const HEX = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  const ch = String.fromCharCode(b);
  if (/[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(ch)) TOKEN[b] = 1;
  if (b === HT || (b >= 0x20 && b <= 0x7e) || b >= 0x80) VALUE[b] = 1;
  if (b >= 0x21 && b <= 0x7e) TARGET[b] = 1;
  if (b === HT || b === SP || (b >= 0x21 && b <= 0x7e) || b >= 0x80) QPAIR[b] = 1;
  if (QPAIR[b] && b !== DQUOTE && b !== BACKSLASH) QDTEXT[b] = 1;
  if (b >= 48 && b <= 57) HEX[b] = b - 48;
  else if (b >= 97 && b <= 102) HEX[b] = b - 87;
  else if (b >= 65 && b <= 70) HEX[b] = b - 55;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const L_HOST = ascii('host');
const L_EXPECT = ascii('expect');
const L_CONNECTION = ascii('connection');
const L_CONTENT_TYPE = ascii('content-type');
const L_CONTENT_LENGTH = ascii('content-length');
const L_TRANSFER_ENCODING = ascii('transfer-encoding');
const L_CHUNKED = ascii('chunked');
const L_CLOSE = ascii('close');
const L_KEEP_ALIVE = ascii('keep-alive');
const L_100_CONTINUE = ascii('100-continue');
const L_HTTP = ascii('http://');
const L_HTTPS = ascii('https://');
const HTTP_SLASH = ascii('HTTP/');

/** Case-insensitive compare of buf[s..e) with a lowercase ASCII literal (letters, digits, '-', ':', '/'). */
function eqLower(buf: Uint8Array, s: number, e: number, lit: Uint8Array): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    const b = buf[s + i]!;
    // Lowercase ASCII letters only; other bytes compare as they are.
    if ((b >= 65 && b <= 90 ? b | 0x20 : b) !== lit[i]) return false;
  }
  return true;
}

function startsLower(buf: Uint8Array, s: number, e: number, lit: Uint8Array): boolean {
  return e - s >= lit.length && eqLower(buf, s, s + lit.length, lit);
}

function methodCode(buf: Uint8Array, s: number, e: number): Method {
  const n = e - s;
  const c0 = buf[s];
  switch (n) {
    case 3:
      if (c0 === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return Method.GET;
      if (c0 === 80 && buf[s + 1] === 85 && buf[s + 2] === 84) return Method.PUT;
      break;
    case 4:
      if (c0 === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) return Method.POST;
      if (c0 === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) return Method.HEAD;
      break;
    default:
      return matchLong(buf, s, n);
  }
  return Method.Other;
}

const LONG_METHODS: [Uint8Array, Method][] = [
  [ascii('DELETE'), Method.DELETE],
  [ascii('OPTIONS'), Method.OPTIONS],
  [ascii('PATCH'), Method.PATCH],
  [ascii('CONNECT'), Method.CONNECT],
  [ascii('TRACE'), Method.TRACE],
];

function matchLong(buf: Uint8Array, s: number, n: number): Method {
  outer: for (const [lit, m] of LONG_METHODS) {
    if (lit.length !== n) continue;
    for (let i = 0; i < n; i++) if (buf[s + i] !== lit[i]) continue outer;
    return m;
  }
  return Method.Other;
}

/** Skips BWS (optional spaces and tabs) from `i`. */
function skipBws(buf: Uint8Array, i: number, le: number): number {
  while (i < le && (buf[i] === SP || buf[i] === HT)) i++;
  return i;
}

/**
 * Whether buf[i..le) is a well-formed chunk-ext (RFC 9112 7.1.1):
 * `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`. Nothing may follow the last
 * extension, not even whitespace: a chunk-size line is not a place for leniency, because a
 * front end that reads it differently would frame the body differently (request smuggling).
 */
function chunkExtensions(buf: Uint8Array, i: number, le: number): boolean {
  while (i < le) {
    i = skipBws(buf, i, le);
    if (i === le || buf[i] !== SEMI) return false;
    i = skipBws(buf, i + 1, le);
    const name = i;
    while (i < le && TOKEN[buf[i]!]) i++;
    if (i === name) return false;
    const eq = skipBws(buf, i, le);
    if (eq === le || buf[eq] !== EQUALS) continue;
    i = skipBws(buf, eq + 1, le);
    if (i < le && buf[i] === DQUOTE) {
      i = quotedStringEnd(buf, i + 1, le);
      if (i < 0) return false;
    } else {
      const value = i;
      while (i < le && TOKEN[buf[i]!]) i++;
      if (i === value) return false;
    }
  }
  return true;
}

/** The index after the closing DQUOTE of a quoted-string whose content starts at `i`, or -1. */
function quotedStringEnd(buf: Uint8Array, i: number, le: number): number {
  while (i < le) {
    const b = buf[i]!;
    if (b === DQUOTE) return i + 1;
    if (b === BACKSLASH) {
      if (i + 1 === le || !QPAIR[buf[i + 1]!]) return -1;
      i += 2;
    } else if (QDTEXT[b]) {
      i++;
    } else {
      return -1;
    }
  }
  return -1;
}

const PH_LINE = 0;
const PH_HEADERS = 1;
const PH_BODY = 2;
const PH_CHUNK = 3;
const PH_TRAILERS = 4;
const PH_DONE = 5;
const PH_ERROR = 6;

export class HttpParser {
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly maxHeaders: number;

  // ---- The parsed request: valid after parse() > 0, until the next parse() or reset(). ----
  /** Offset of the request in the buffer given to the last successful `parse` (its `off`). */
  base = 0;
  /** Bytes the request used (the value `parse` returned). */
  length = 0;
  method: Method = Method.Other;
  methodStart = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  /** The path part of the target (origin-form; for absolute-form the path after the authority, maybe empty); no query. */
  pathStart = 0;
  pathEnd = 0;
  /** 10 (HTTP/1.0) or 11 (HTTP/1.1). */
  version = 11;
  /** Whether the connection stays open after this request (version default, `Connection` header). */
  keepAlive = true;
  /** Header fields then trailer fields, 4 ints each: name start, name end, value start, value end. */
  readonly headers: Int32Array;
  headerCount = 0;
  trailerCount = 0;
  /** Index (in `headers`) of the Content-Type field, -1 if absent. */
  contentType = -1;
  /** Declared Content-Length, -1 if absent. */
  contentLength = -1;
  chunked = false;
  /** Whether the client sent `Expect: 100-continue` (HTTP/1.1 only). */
  expectContinue = false;
  /** Decoded body length. */
  bodyLength = 0;
  /** Body segments, 2 ints each: start, end (one for Content-Length, one per chunk when chunked). */
  segs: Int32Array = new Int32Array(16);
  segCount = 0;

  /** Why the last parse failed. */
  error = '';
  /** The status of the last failure (400, 413, 431, 501, 505), 0 if none. */
  status = 0;

  // ---- Progress of the request being parsed (relative offsets) ----
  private phase = PH_LINE;
  private pos = 0;
  private bodyStart = 0;
  private trailerStart = 0;
  private hostCount = 0;
  private teCount = 0;
  private teChunked = false;
  private connClose = false;
  private connKeepAlive = false;
  private continueSent = false;

  constructor(limits: ParserLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes;
    this.maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_LIMITS.maxHeaders;
    this.headers = new Int32Array(this.maxHeaders * 4);
  }

  /** Forgets everything, including a failure: ready for a new request. */
  reset(): void {
    this.phase = PH_LINE;
    this.pos = 0;
    this.error = '';
    this.status = 0;
    this.clearRequest();
  }

  private clearRequest(): void {
    this.headerCount = 0;
    this.trailerCount = 0;
    this.contentType = -1;
    this.contentLength = -1;
    this.chunked = false;
    this.expectContinue = false;
    this.bodyLength = 0;
    this.segCount = 0;
    this.hostCount = 0;
    this.teCount = 0;
    this.teChunked = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.continueSent = false;
    this.version = 11;
    this.keepAlive = true;
    this.method = Method.Other;
  }

  /** True between the end of the header block and the end of the body (the body is awaited). */
  get awaitingBody(): boolean {
    return this.phase === PH_BODY || this.phase === PH_CHUNK || this.phase === PH_TRAILERS;
  }

  /**
   * True once per request when the client asked for `100 Continue` and its body has not fully
   * arrived: the caller should send `HTTP/1.1 100 Continue\r\n\r\n` now.
   */
  wantsContinue(): boolean {
    if (!this.expectContinue || this.continueSent || !this.awaitingBody) return false;
    this.continueSent = true;
    return true;
  }

  private fail(status: number, why: string): number {
    this.phase = PH_ERROR;
    this.status = status;
    this.error = why;
    return -status;
  }

  /** Parses the request starting at `buf[off]`; see the module comment for the result. */
  parse(buf: Uint8Array, off = 0): number {
    if (this.phase === PH_ERROR) return -this.status;
    if (this.phase === PH_DONE) {
      this.phase = PH_LINE;
      this.pos = 0;
      this.clearRequest();
    }
    const end = buf.length;
    let p = off + this.pos;
    const maxHead = off + this.maxHeaderBytes;

    // Request line (after any empty lines).
    while (this.phase === PH_LINE) {
      const nl = buf.indexOf(LF, p);
      if (nl < 0) {
        if (end > maxHead) return this.fail(431, 'request line too long');
        this.pos = p - off;
        return NEED_MORE;
      }
      if (nl + 1 > maxHead) return this.fail(431, 'request line too long');
      if (nl === p || buf[nl - 1] !== CR) return this.fail(400, 'bare LF in the request line');
      const le = nl - 1;
      if (le > p) {
        const r = this.requestLine(buf, p, le, off);
        if (r < 0) return r;
        this.phase = PH_HEADERS;
      }
      p = nl + 1;
    }

    // Header fields.
    while (this.phase === PH_HEADERS) {
      const nl = buf.indexOf(LF, p);
      if (nl < 0) {
        if (end > maxHead) return this.fail(431, 'header block too large');
        this.pos = p - off;
        return NEED_MORE;
      }
      if (nl + 1 > maxHead) return this.fail(431, 'header block too large');
      if (nl === p || buf[nl - 1] !== CR) return this.fail(400, 'bare LF in the header block');
      const le = nl - 1;
      if (le === p) {
        p = nl + 1;
        const r = this.endOfHead(p - off);
        if (r < 0) return r;
      } else {
        const r = this.field(buf, p, le, off, false);
        if (r < 0) return r;
        p = nl + 1;
      }
    }

    if (this.phase === PH_BODY) {
      const bodyEnd = off + this.bodyStart + this.contentLength;
      if (end < bodyEnd) {
        this.pos = p - off;
        return NEED_MORE;
      }
      this.segs[0] = this.bodyStart;
      this.segs[1] = this.bodyStart + this.contentLength;
      this.segCount = 1;
      this.bodyLength = this.contentLength;
      p = bodyEnd;
      this.phase = PH_DONE;
    }

    while (this.phase === PH_CHUNK) {
      const nl = buf.indexOf(LF, p);
      if (nl < 0 || nl - p > MAX_CHUNK_LINE) {
        if (end - p > MAX_CHUNK_LINE) return this.fail(400, 'chunk-size line too long');
        this.pos = p - off;
        return NEED_MORE;
      }
      if (nl === p || buf[nl - 1] !== CR) return this.fail(400, 'bare LF in a chunk-size line');
      const le = nl - 1;
      let i = p;
      let size = 0;
      const room = this.maxBodyBytes - this.bodyLength;
      while (i < le) {
        const d = HEX[buf[i]!]!;
        if (d < 0) break;
        size = size * 16 + d;
        if (size > room) return this.fail(413, 'chunked body too large');
        i++;
      }
      if (i === p) return this.fail(400, 'invalid chunk size');
      // Extensions are checked against the grammar, then ignored (none is defined that a server must act on).
      if (i < le && !chunkExtensions(buf, i, le)) return this.fail(400, 'invalid chunk extension');
      const ds = nl + 1;
      if (size === 0) {
        p = ds;
        this.trailerStart = p - off;
        this.phase = PH_TRAILERS;
        break;
      }
      const de = ds + size;
      if (de + 2 > end) {
        this.pos = p - off;
        return NEED_MORE;
      }
      if (buf[de] !== CR || buf[de + 1] !== LF) return this.fail(400, 'chunk data not followed by CRLF');
      this.pushSeg(ds - off, de - off);
      this.bodyLength += size;
      p = de + 2;
      if (p - off - this.bodyStart - this.bodyLength > CHUNK_FRAMING_SLACK + this.maxBodyBytes) {
        return this.fail(413, 'chunked body framing too large');
      }
    }

    while (this.phase === PH_TRAILERS) {
      const maxTrailer = off + this.trailerStart + this.maxHeaderBytes;
      const nl = buf.indexOf(LF, p);
      if (nl < 0) {
        if (end > maxTrailer) return this.fail(431, 'trailer block too large');
        this.pos = p - off;
        return NEED_MORE;
      }
      if (nl + 1 > maxTrailer) return this.fail(431, 'trailer block too large');
      if (nl === p || buf[nl - 1] !== CR) return this.fail(400, 'bare LF in the trailer block');
      const le = nl - 1;
      if (le === p) {
        p = nl + 1;
        this.phase = PH_DONE;
        break;
      }
      const r = this.field(buf, p, le, off, true);
      if (r < 0) return r;
      p = nl + 1;
    }

    // PH_DONE
    this.base = off;
    this.length = p - off;
    this.pos = 0;
    return this.length;
  }

  private pushSeg(s: number, e: number): void {
    const k = this.segCount * 2;
    if (k + 2 > this.segs.length) {
      const grown = new Int32Array(this.segs.length * 2);
      grown.set(this.segs);
      this.segs = grown;
    }
    this.segs[k] = s;
    this.segs[k + 1] = e;
    this.segCount++;
  }

  /** Parses `method SP target SP HTTP/x.y` in buf[s..le) (le = the CR). */
  private requestLine(buf: Uint8Array, s: number, le: number, off: number): number {
    let i = s;
    while (i < le && TOKEN[buf[i]!]) i++;
    if (i === s || i === le || buf[i] !== SP) return this.fail(400, 'invalid method');
    this.method = methodCode(buf, s, i);
    this.methodStart = s - off;
    this.methodEnd = i - off;
    const ts = ++i;
    while (i < le && TARGET[buf[i]!]) i++;
    if (i === ts || i === le || buf[i] !== SP) return this.fail(400, 'invalid request target');
    const te = i;
    this.targetStart = ts - off;
    this.targetEnd = te - off;
    const v = i + 1;
    if (le - v !== 8) return this.fail(400, 'invalid HTTP version');
    for (let k = 0; k < 5; k++) if (buf[v + k] !== HTTP_SLASH[k]) return this.fail(400, 'invalid HTTP version');
    const major = buf[v + 5]! - 48;
    const minor = buf[v + 7]! - 48;
    if (major < 0 || major > 9 || minor < 0 || minor > 9 || buf[v + 6] !== 46) return this.fail(400, 'invalid HTTP version');
    if (major !== 1 || minor > 1) return this.fail(505, 'HTTP version not supported');
    this.version = minor === 1 ? 11 : 10;

    // The path: origin-form starts with '/'; absolute-form has it after the authority.
    let ps = ts;
    if (buf[ts] !== SLASH) {
      const skip = startsLower(buf, ts, te, L_HTTP) ? 7 : startsLower(buf, ts, te, L_HTTPS) ? 8 : -1;
      if (skip > 0) {
        ps = ts + skip;
        while (ps < te && buf[ps] !== SLASH && buf[ps] !== QMARK) ps++;
      }
    }
    let pe = ps;
    while (pe < te && buf[pe] !== QMARK) pe++;
    this.pathStart = ps - off;
    this.pathEnd = pe - off;
    return 0;
  }

  /** Parses one field line buf[s..le) (le = the CR) into `headers`. */
  private field(buf: Uint8Array, s: number, le: number, off: number, trailer: boolean): number {
    const c0 = buf[s];
    if (c0 === SP || c0 === HT) return this.fail(400, 'obsolete line folding');
    let i = s;
    while (i < le && TOKEN[buf[i]!]) i++;
    if (i === s || i === le || buf[i] !== COLON) return this.fail(400, 'invalid field name');
    const ne = i;
    let vs = i + 1;
    while (vs < le && (buf[vs] === SP || buf[vs] === HT)) vs++;
    let ve = le;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    for (let k = vs; k < ve; k++) if (!VALUE[buf[k]!]) return this.fail(400, 'invalid field value');
    const idx = this.headerCount + this.trailerCount;
    if (idx >= this.maxHeaders) return this.fail(431, 'too many fields');
    const h = this.headers;
    const o = idx * 4;
    h[o] = s - off;
    h[o + 1] = ne - off;
    h[o + 2] = vs - off;
    h[o + 3] = ve - off;
    if (trailer) {
      this.trailerCount++;
      return 0;
    }
    this.headerCount++;
    switch (ne - s) {
      case 4:
        if (eqLower(buf, s, ne, L_HOST)) this.hostCount++;
        break;
      case 6:
        if (eqLower(buf, s, ne, L_EXPECT) && eqLower(buf, vs, ve, L_100_CONTINUE)) this.expectContinue = true;
        break;
      case 10:
        if (eqLower(buf, s, ne, L_CONNECTION)) this.connectionTokens(buf, vs, ve);
        break;
      case 12:
        if (eqLower(buf, s, ne, L_CONTENT_TYPE)) this.contentType = idx;
        break;
      case 14:
        if (eqLower(buf, s, ne, L_CONTENT_LENGTH)) return this.contentLengthValue(buf, vs, ve);
        break;
      case 17:
        if (eqLower(buf, s, ne, L_TRANSFER_ENCODING)) {
          this.teCount++;
          this.teChunked = eqLower(buf, vs, ve, L_CHUNKED);
        }
        break;
    }
    return 0;
  }

  private connectionTokens(buf: Uint8Array, vs: number, ve: number): void {
    let i = vs;
    while (i < ve) {
      while (i < ve && (buf[i] === SP || buf[i] === HT || buf[i] === 44)) i++;
      const ts = i;
      while (i < ve && buf[i] !== 44) i++;
      let te = i;
      while (te > ts && (buf[te - 1] === SP || buf[te - 1] === HT)) te--;
      if (eqLower(buf, ts, te, L_CLOSE)) this.connClose = true;
      else if (eqLower(buf, ts, te, L_KEEP_ALIVE)) this.connKeepAlive = true;
    }
  }

  private contentLengthValue(buf: Uint8Array, vs: number, ve: number): number {
    if (vs === ve) return this.fail(400, 'empty Content-Length');
    let n = 0;
    for (let k = vs; k < ve; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) return this.fail(400, 'invalid Content-Length');
      // Saturate: anything this large is over every limit anyway.
      n = n > 1e15 ? n : n * 10 + d;
    }
    if (this.contentLength >= 0 && this.contentLength !== n) return this.fail(400, 'conflicting Content-Length fields');
    this.contentLength = n;
    return 0;
  }

  /** The empty line after the header fields: decides the body. `rel` is where the body starts. */
  private endOfHead(rel: number): number {
    if (this.hostCount > 1) return this.fail(400, 'more than one Host field');
    if (this.version === 11 && this.hostCount === 0) return this.fail(400, 'missing Host field');
    this.keepAlive = this.version === 11 ? !this.connClose : this.connKeepAlive && !this.connClose;
    if (this.version === 10) this.expectContinue = false;
    this.bodyStart = rel;
    if (this.teCount > 0) {
      if (this.contentLength >= 0) return this.fail(400, 'both Content-Length and Transfer-Encoding');
      if (this.version === 10) return this.fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
      if (this.teCount > 1 || !this.teChunked) return this.fail(501, 'unsupported transfer coding');
      this.chunked = true;
      this.phase = PH_CHUNK;
      return 0;
    }
    if (this.contentLength > this.maxBodyBytes) return this.fail(413, 'body too large');
    this.phase = this.contentLength > 0 ? PH_BODY : PH_DONE;
    if (this.phase === PH_DONE) this.segCount = 0;
    return 0;
  }
}

/** A parsed request as plain values (strings and a Buffer copy): for tests and debugging, not the hot path. */
export interface RequestInfo {
  method: string;
  target: string;
  path: string;
  version: string;
  keepAlive: boolean;
  headers: [string, string][];
  trailers: [string, string][];
  body: Buffer;
  chunked: boolean;
  length: number;
}

/** Copies the request `p` just parsed from `buf` out as plain values. */
export function describe(p: HttpParser, buf: Uint8Array): RequestInfo {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const at = p.base;
  const str = (s: number, e: number): string => b.toString('latin1', at + s, at + e);
  const fields = (from: number, n: number): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = from; i < from + n; i++) {
      const o = i * 4;
      out.push([str(p.headers[o]!, p.headers[o + 1]!), str(p.headers[o + 2]!, p.headers[o + 3]!)]);
    }
    return out;
  };
  const parts: Buffer[] = [];
  for (let i = 0; i < p.segCount; i++) parts.push(Buffer.from(b.subarray(at + p.segs[2 * i]!, at + p.segs[2 * i + 1]!)));
  return {
    method: str(p.methodStart, p.methodEnd),
    target: str(p.targetStart, p.targetEnd),
    path: str(p.pathStart, p.pathEnd),
    version: p.version === 11 ? 'HTTP/1.1' : 'HTTP/1.0',
    keepAlive: p.keepAlive,
    headers: fields(0, p.headerCount),
    trailers: fields(p.headerCount, p.trailerCount),
    body: Buffer.concat(parts),
    chunked: p.chunked,
    length: p.length,
  };
}
