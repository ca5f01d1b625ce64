/**
 * Preformatted responses of the HTTP example. Every fixed response exists as bytes, rebuilt at most
 * once per second (when the `Date` header changes), so answering a request is one copy into the
 * reactor's out arena: nothing is formatted per request.
 */
import { Buffer } from 'node:buffer';

/** How the connection continues after a response: decides the `Connection` header. */
export const Mode = {
  /** HTTP/1.1 default: no Connection header. */
  KeepAlive: 0,
  /** `Connection: close`, then the server closes. */
  Close: 1,
  /** HTTP/1.0 client that asked for keep-alive: `Connection: keep-alive`. */
  KeepAlive10: 2,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** The fixed responses. */
export const Kind = {
  /** 200 `Hello World!` for GET /. */
  Hello: 0,
  /** The same head without the body, for HEAD /. */
  HelloHead: 1,
  NotFound: 2,
  /** 405 for / with a method other than GET or HEAD. */
  RootNotAllowed: 3,
  /** 405 for /echo with a method other than POST. */
  EchoNotAllowed: 4,
  /** The head of an echo response up to the Content-Type value (the caller completes it). */
  EchoHead: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KINDS = 6;
const MODES = 3;

const CONNECTION = ['', 'Connection: close\r\n', 'Connection: keep-alive\r\n'];

export const HELLO_BODY = 'Hello World!';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** `HTTP/1.1 100 Continue`, for clients that sent `Expect: 100-continue`. */
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** The default Content-Type of an echo response when the request had none. */
export const OCTET_STREAM = Buffer.from('application/octet-stream', 'latin1');

export class Responses {
  /** `table[kind * 3 + mode]`. */
  private readonly table: Uint8Array[] = new Array<Uint8Array>(KINDS * MODES);
  /** The same without their bodies, for HEAD requests. */
  private readonly heads: Uint8Array[] = new Array<Uint8Array>(KINDS * MODES);
  /** Error responses (always `Connection: close`) by status. */
  private readonly errors = new Map<number, Uint8Array>();
  private second = -1;
  /** The current `Date` value, e.g. `Fri, 27 Nov 2026 11:01:37 GMT`. */
  date = '';

  constructor(now = Date.now()) {
    this.refresh(now);
  }

  /** Rebuilds the responses if the second changed since the last call. Call once per batch. */
  refresh(now: number): void {
    const s = Math.floor(now / 1000);
    if (s === this.second) return;
    this.second = s;
    this.date = new Date(s * 1000).toUTCString();
    const head = (status: string, mode: number): string =>
      `HTTP/1.1 ${status}\r\nServer: ringloop\r\nDate: ${this.date}\r\n${CONNECTION[mode]}`;
    const set = (kind: Kind, m: number, text: string): void => {
      const full = bytes(text);
      this.table[kind * MODES + m] = full;
      const end = text.indexOf('\r\n\r\n');
      this.heads[kind * MODES + m] = end < 0 ? full : full.subarray(0, end + 4);
    };
    for (let m = 0; m < MODES; m++) {
      const hello = `${head('200 OK', m)}Content-Type: text/plain\r\nContent-Length: ${HELLO_BODY.length}\r\n\r\n`;
      set(Kind.Hello, m, hello + HELLO_BODY);
      set(Kind.HelloHead, m, hello);
      set(Kind.NotFound, m, plain(head('404 Not Found', m), 'Not Found\n'));
      set(Kind.RootNotAllowed, m, plain(`${head('405 Method Not Allowed', m)}Allow: GET, HEAD\r\n`, 'Method Not Allowed\n'));
      set(Kind.EchoNotAllowed, m, plain(`${head('405 Method Not Allowed', m)}Allow: POST\r\n`, 'Method Not Allowed\n'));
      set(Kind.EchoHead, m, `${head('200 OK', m)}Content-Type: `);
    }
    for (const [status, reason] of Object.entries(REASONS)) {
      this.errors.set(Number(status), bytes(plain(head(`${status} ${reason}`, Mode.Close), `${reason}\n`)));
    }
  }

  /** The response `kind` for `mode`; without its body when `headOnly` (the request was HEAD). */
  get(kind: Kind, mode: Mode, headOnly = false): Uint8Array {
    return (headOnly ? this.heads : this.table)[kind * MODES + mode]!;
  }

  /** The response for a parse failure with this status (400 for an unknown one); it closes the connection. */
  error(status: number): Uint8Array {
    return this.errors.get(status) ?? this.errors.get(400)!;
  }
}

function plain(head: string, body: string): string {
  return `${head}Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}
