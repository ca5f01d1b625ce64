/**
 * An HTTP/1.1 server on ringloop: `GET /` (and HEAD) answers `Hello World!`, `POST /echo` echoes the
 * request body, other paths are 404, other methods on those paths 405.
 *
 * Run it with `npm run example -- http [--addr tcp://127.0.0.1:8080] [--loops N]`; every reactor
 * serves its own connections independently (no shared state), so any number of loops works.
 *
 * - Keep-alive: HTTP/1.1 keeps the connection unless the request says `Connection: close`;
 *   HTTP/1.0 closes unless it says `Connection: keep-alive`.
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
 * Hot path: fixed responses are preformatted bytes (rebuilt once per second for `Date`), copied
 * into the out arena; the echo body is written from the read arena without a copy.
 */
import { Action, defineHandler, type Conn, type EventHandler, type InitInfo } from '../../lib/index.js';
import { HttpParser, Method, NEED_MORE, type ParserLimits } from './parser.js';
import { CONTINUE, Kind, Mode, OCTET_STREAM, Responses } from './responses.js';

const SLASH = 47;
const ECHO_PATH = Buffer.from('/echo', 'latin1');

const LINGER_QUIET_MS = 100;
const LINGER_MAX_MS = 2000;
const LINGER_MAX_BYTES = 16 * 1024 * 1024;

/** Per-connection state. */
class HttpConn {
  readonly parser: HttpParser;
  /** Set once an error was answered: input is dropped until the connection closes. */
  lingering = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  lingerSince = 0;
  lingerBytes = 0;
  /** Whether input arrived since the last linger check. */
  heard = false;
  /** The linger is over: the next `react` closes. */
  closeNow = false;

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

function limitsFrom(options: unknown): ParserLimits {
  const o = (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
  return { maxHeaderBytes: num(o.maxHeaderBytes), maxBodyBytes: num(o.maxBodyBytes), maxHeaders: num(o.maxHeaders) };
}

export default defineHandler((info: InitInfo): EventHandler => {
  const limits = limitsFrom(info.options);
  const responses = new Responses();

  /** Writes the response to the request `p` just parsed from `buf`. Returns false to close after it. */
  function respond(c: Conn, buf: Uint8Array, p: HttpParser): boolean {
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

  function echo(c: Conn, buf: Uint8Array, p: HttpParser, mode: Mode): void {
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
    onOpened(c) {
      c.context = new HttpConn(limits);
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
      const buf = c.peek();
      if (buf === null || buf.length === 0) return;
      responses.refresh(Date.now());
      let off = 0;
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
          hc.startLinger(c);
          return;
        }
      }
      c.discard(off);
    },
  };
});

function isEcho(buf: Uint8Array, s: number): boolean {
  for (let i = 0; i < 5; i++) if (buf[s + i] !== ECHO_PATH[i]) return false;
  return true;
}
