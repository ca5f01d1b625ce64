/**
 * An HTTP/1.1 server on ringloop: `GET /` (and HEAD) answers `Hello World!`, `POST /echo` echoes the
 * request body, other paths are 404, other methods on those paths 405.
 *
 * Run it with `npm run example -- http [--addr tcp://127.0.0.1:8080] [--loops N]`; every reactor
 * serves its own connections independently (no shared state), so any number of loops works.
 *
 * - Keep-alive: HTTP/1.1 keeps the connection unless the request says `Connection: close`;
 *   HTTP/1.0 closes unless it says `Connection: keep-alive`.
 * - Framing: the listener's `http1` codec (this handler's `codec`, with its limits) frames requests
 *   in the native reactor, so `react` gets each request's method, path, headers and body offsets in
 *   `c.frames` and walks no bytes. What the codec leaves to the handler (chunked bodies, a
 *   100-continue whose body is still to come, and the wording of errors) and a listener served with
 *   `codec: false` go through the JS parser (parser.ts), which the codec's fuzz test holds it to.
 * - Pipelining: every request complete in what arrived is answered, in order, in this one `react`;
 *   the responses land one after the other in the reactor's out arena and leave in one write.
 * - Partial requests stay unconsumed (buffered by the reactor) until the rest arrives; the
 *   per-connection parser resumes where it stopped. Bodies: Content-Length and chunked (trailers
 *   accepted and ignored), `100 Continue` sent when asked for.
 * - Errors answer and close: 400 malformed, 431 header block over `maxHeaderBytes` (8 KiB),
 *   413 body over `maxBodyBytes` (1 MiB), 501 unknown transfer coding, 505 other HTTP versions.
 *   The limits can be changed with `serve(..., { handlerOptions: { maxHeaderBytes, maxBodyBytes } })`.
 *   After an error response the connection lingers: input is read and dropped until the client has
 *   been quiet for 100 ms (at most 2 s or 16 MiB), then it is closed. Closing at once with request
 *   bytes still unread makes the kernel reset the connection, and a client still sending (a body
 *   over the limit) would get ECONNRESET/EPIPE instead of its 413.
 *
 * - Deadlines (config.ts has the reasons for the defaults): a request head must be complete
 *   `headerTimeout` ms (default 10 s) after the connection opened or, for later requests, after
 *   its first byte arrived; a body `bodyTimeout` ms (default 60 s) after its head; otherwise the
 *   connection is closed (ETIMEDOUT), however many bytes trickled in meanwhile. Between requests
 *   the engine's `idleTimeout` applies (examples/run.ts sets 60 s). Set the two in
 *   `handlerOptions: { headerTimeout, bodyTimeout }` (ms, 0 = off).
 *
 * Hot path: fixed responses are preformatted bytes (rebuilt once per second for `Date`), copied
 * into the out arena; the echo body is written from the read arena without a copy. The deadlines
 * cost nothing there: they are the reactor's per-connection read deadline (one timing wheel per
 * reactor, no timer per connection), and it is only moved when a request is left incomplete at
 * the end of a read, or completed after such a read.
 */
import { Buffer } from 'node:buffer';
import { Action, FrameStatus, defineHandler, loopNow, type Conn, type EventHandler, type InitInfo } from '../../lib/index.js';
import { HttpParser, Method, NEED_MORE, type ParserLimits } from './parser.js';
import { CONTINUE, Kind, Mode, OCTET_STREAM, Responses } from './responses.js';
import { DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT } from './config.js';
import { FrameRequest, type Request } from './frame_request.js';

const SLASH = 47;
const ECHO_PATH = Buffer.from('/echo', 'latin1');

const LINGER_QUIET_MS = 100;
const LINGER_MAX_MS = 2000;
const LINGER_MAX_BYTES = 16 * 1024 * 1024;

/** The read deadline a connection has armed: none, its request head's, or its request body's. */
const DL_NONE = 0;
const DL_HEAD = 1;
const DL_BODY = 2;
type Armed = typeof DL_NONE | typeof DL_HEAD | typeof DL_BODY;

/** The deadlines in ms (0 = off). */
interface Timeouts {
  readonly head: number;
  readonly body: number;
}

/** Per-connection state. */
class HttpConn {
  readonly parser: HttpParser;
  /** Which read deadline is set on the connection (the reactor holds its time). */
  armed: Armed = DL_NONE;
  /** Set once an error was answered: input is dropped until the connection closes. */
  lingering = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  lingerSince = 0;
  lingerBytes = 0;
  /** Whether input arrived since the last linger check. */
  heard = false;
  /** The linger is over: the next `react` closes. */
  closeNow = false;
  /**
   * The JS parser stopped inside a request (it keeps its progress, and whether 100 Continue was
   * sent): the next read goes on with it, not with the codec's frames, until the request is done.
   */
  inParser = false;

  constructor(limits: ParserLimits) {
    this.parser = new HttpParser(limits);
  }

  /**
   * Starts the lingering close of `c` (see the module comment). The timer does not close the
   * connection itself: it wakes it, and `react` closes, so the one place that decides to close
   * also sees (and discards) whatever input arrived since the last check.
   */
  startLinger(c: Conn): void {
    this.lingering = true;
    this.lingerSince = Date.now();
    this.heard = false;
    this.timer = setInterval(() => {
      if (this.closeNow || !this.heard || Date.now() - this.lingerSince > LINGER_MAX_MS) {
        this.closeNow = true;
        const d = c.wake();
        // 'full': the inbox is busy, try again at the next tick; 'stopped': the engine closes it.
        if (d !== 'full') this.stopLinger();
      }
      this.heard = false;
    }, LINGER_QUIET_MS);
    this.timer.unref();
  }

  stopLinger(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function optionsOf(options: unknown): Record<string, unknown> {
  return (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
}

function limitsFrom(options: unknown): ParserLimits {
  const o = optionsOf(options);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
  return { maxHeaderBytes: num(o.maxHeaderBytes), maxBodyBytes: num(o.maxBodyBytes), maxHeaders: num(o.maxHeaders) };
}

function timeoutsFrom(options: unknown): Timeouts {
  const o = optionsOf(options);
  const ms = (v: unknown, seconds: number): number => (typeof v === 'number' && v >= 0 ? v : seconds * 1000);
  return { head: ms(o.headerTimeout, DEFAULT_HEADER_TIMEOUT), body: ms(o.bodyTimeout, DEFAULT_BODY_TIMEOUT) };
}

/**
 * Moves `c`'s read deadline to what it waits for after a read that consumed `off` of `len` bytes:
 * the rest of a request head, the rest of a body, or nothing (then only the engine's idle timeout
 * applies). A deadline belongs to one request, so it is set anew when a request was completed
 * in this read (`off > 0`) and another one is still incomplete; while one request stays
 * incomplete over several reads it keeps the time it got when it started.
 */
function track(c: Conn, hc: HttpConn, off: number, len: number, now: number, t: Timeouts, awaitingBody: boolean): void {
  let want: Armed = DL_NONE;
  let ms = 0;
  if (off < len) {
    if (awaitingBody) {
      want = DL_BODY;
      ms = t.body;
    } else {
      want = DL_HEAD;
      ms = t.head;
    }
    if (ms === 0) want = DL_NONE;
  }
  if (want === hc.armed && (want === DL_NONE || off === 0)) return;
  c.setReadDeadline(want === DL_NONE ? 0 : now + ms);
  hc.armed = want;
}

export default defineHandler((info: InitInfo): EventHandler => {
  const limits = limitsFrom(info.options);
  const timeouts = timeoutsFrom(info.options);
  const responses = new Responses();
  const req = new FrameRequest();

  /** Writes the response to the request `p` just parsed from `buf`. Returns false to close after it. */
  function respond(c: Conn, buf: Uint8Array, p: Request): boolean {
    const mode: Mode = !p.keepAlive ? Mode.Close : p.version === 10 ? Mode.KeepAlive10 : Mode.KeepAlive;
    const at = p.base;
    const ps = at + p.pathStart;
    const len = p.pathEnd - p.pathStart;
    const head = p.method === Method.HEAD;
    if (len === 0 || (len === 1 && buf[ps] === SLASH)) {
      if (p.method === Method.GET) c.write(responses.get(Kind.Hello, mode));
      else if (head) c.write(responses.get(Kind.HelloHead, mode));
      else c.write(responses.get(Kind.RootNotAllowed, mode));
    } else if (len === 5 && isEcho(buf, ps)) {
      if (p.method === Method.POST) echo(c, buf, p, mode);
      else c.write(responses.get(Kind.EchoNotAllowed, mode, head));
    } else {
      c.write(responses.get(Kind.NotFound, mode, head));
    }
    return mode !== Mode.Close;
  }

  function echo(c: Conn, buf: Uint8Array, p: Request, mode: Mode): void {
    const at = p.base;
    c.write(responses.get(Kind.EchoHead, mode));
    if (p.contentType >= 0) {
      const o = p.contentType * 4;
      c.write(buf.subarray(at + p.headers[o + 2]!, at + p.headers[o + 3]!));
    } else {
      c.write(OCTET_STREAM);
    }
    c.write(`\r\nContent-Length: ${p.bodyLength}\r\n\r\n`);
    // The body straight from the read arena: the reactor writes these views without copying.
    const segs = p.segs;
    for (let i = 0; i < p.segCount; i++) c.write(buf.subarray(at + segs[2 * i]!, at + segs[2 * i + 1]!));
  }

  return {
    // Framed natively by the reactor, with the same limits (the JS parser handles what the codec
    // leaves to it: chunked bodies, 100-continue, and the wording of errors).
    codec: { type: 'http1', maxHeaderBytes: limits.maxHeaderBytes, maxHeaders: limits.maxHeaders, maxBodyBytes: limits.maxBodyBytes },
    onOpened(c) {
      const hc = new HttpConn(limits);
      c.context = hc;
      // The first request's head is timed from the open: a client that connects and then says
      // nothing, or too little, holds the connection no longer than that.
      if (timeouts.head > 0) {
        c.setReadDeadline(loopNow() + timeouts.head);
        hc.armed = DL_HEAD;
      }
    },
    onClosed(c) {
      (c.context as HttpConn).stopLinger();
    },
    react(c) {
      const hc = c.context as HttpConn;
      if (hc.lingering) {
        const n = c.discard();
        if (n > 0) {
          hc.heard = true;
          hc.lingerBytes += n;
        }
        if (!hc.closeNow && hc.lingerBytes <= LINGER_MAX_BYTES) return;
        hc.stopLinger();
        return Action.Close;
      }
      const p = hc.parser;
      const len = c.inboundBuffered;
      if (len === 0) return;
      // The round's clock: one read per wake-up, not per connection.
      const now = loopNow();
      responses.refresh(now);
      let off = 0;
      const f = c.frames;
      if (f !== null && !hc.inParser) {
        // Whole requests, framed natively: answer them from their offsets, read in the round's
        // arena itself (no view is made per read).
        const t = f.table;
        const src = f.source;
        req.base = f.base;
        let at = f.first;
        for (let i = 0; i < f.count; i++) {
          at = req.load(t, at);
          if (!respond(c, src, req)) {
            c.discard();
            return Action.Close;
          }
        }
        off = f.consumed;
        const st = f.status;
        if (st === FrameStatus.Stopped) {
          // The rest is framed in the next round: the deadline stays as it is meanwhile.
          c.discard(off);
          return;
        }
        if (st === FrameStatus.Ok || off === len) {
          track(c, hc, off, len, now, timeouts, f.detail === 2);
          c.discard(off);
          return;
        }
        // What the codec leaves to us starts at `off`: the JS parser, from a clean state.
        p.reset();
      }
      const buf = c.peek()!;
      for (;;) {
        const r = p.parse(buf, off);
        if (r > 0) {
          off += r;
          if (!respond(c, buf, p)) {
            c.discard();
            return Action.Close;
          }
          if (off === buf.length) break;
        } else if (r === NEED_MORE) {
          if (p.wantsContinue()) c.write(CONTINUE);
          break;
        } else {
          c.write(responses.error(-r));
          c.discard();
          // The linger has bounds of its own; a request deadline passing now would close the
          // connection with input unread, the reset the linger is there to avoid.
          if (hc.armed !== DL_NONE) {
            c.setReadDeadline(0);
            hc.armed = DL_NONE;
          }
          hc.startLinger(c);
          return;
        }
      }
      hc.inParser = off < buf.length;
      track(c, hc, off, buf.length, now, timeouts, p.awaitingBody);
      c.discard(off);
    },
  };
});

function isEcho(buf: Uint8Array, s: number): boolean {
  for (let i = 0; i < 5; i++) if (buf[s + i] !== ECHO_PATH[i]) return false;
  return true;
}
