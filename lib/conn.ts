/**
 * The connection as a handler sees it.
 *
 * Unless a method says "thread-safe", it is loop-only: call it from the handler's events (or code
 * running on the same reactor thread). Views returned by read methods point into the reactor's
 * read arena and are valid only until the event returns; copy them (`Uint8Array.prototype.slice`)
 * to keep bytes.
 */
import type { Frames } from './codec.js';

/**
 * Names one connection across threads. The generation is bumped whenever the slot is reused, so a
 * stale ref (a late asyncWrite, close or wake) is detected and dropped instead of reaching a newer
 * connection that got the same fd or slot.
 */
import type { DialOptions, ProxyInfo } from './dial.js';

export interface ConnRef {
  readonly loop: number;
  readonly slot: number;
  readonly generation: number;
  /**
   * UDP only: the peer ("host:port", "[v6]:port") writes through this ref go to, as datagrams from
   * the socket named by loop/slot/generation. A datagram's `c.ref` carries its sender; spread it
   * with another `peer` to write to anyone.
   */
  readonly peer?: string;
}

/** A connection socket's options (seconds and bytes; 0 = off / system default). */
export interface SocketOptions {
  noDelay: boolean;
  keepAliveIdle: number;
  keepAliveInterval: number;
  keepAliveCount: number;
  recvBuf: number;
  sendBuf: number;
}

/** Result of a thread-safe operation on a ConnRef. */
export const Delivery = {
  /** Queued in the owning reactor's inbox. */
  Queued: 'queued',
  /** The inbox was full: nothing was queued; retry later (or use the `*Wait` variant). */
  Full: 'full',
  /** The engine (or that reactor) is stopped: nothing was queued. */
  Stopped: 'stopped',
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** A certificate as `c.tls.peerCertificate` reports it (the node:tls names, camel-cased). */
export interface TlsCertificate {
  /** Subject fields by short name, e.g. `{ CN: 'client', O: 'Acme' }`. */
  subject: Record<string, string>;
  issuer: Record<string, string>;
  validFrom: string;
  validTo: string;
  /** SHA-256 of the DER, colon-separated hex, as node:tls's `fingerprint256`. */
  fingerprint256: string;
  /** The certificate in DER. */
  raw: Uint8Array;
}

/** What a TLS connection negotiated (`c.tls`). */
export interface TlsInfo {
  /** 'TLSv1.2' or 'TLSv1.3'. */
  protocol: string;
  /** OpenSSL's name of the cipher, e.g. 'TLS_AES_256_GCM_SHA384'. */
  cipher: string | null;
  /** The ALPN protocol chosen, or false. */
  alpnProtocol: string | false;
  /** The server name the client asked for (SNI), or false. */
  servername: string | false;
  /** The client sent a certificate that verified against `tls.ca`. */
  authorized: boolean;
  /** Why the client's certificate did not verify (with `rejectUnauthorized: false`). */
  authorizationError?: string;
  /** The client's certificate when one was asked for and sent, else null. */
  peerCertificate: TlsCertificate | null;
  /** The session was resumed (a ticket from an earlier connection). */
  resumed: boolean;
}

export interface Conn {
  /** Cross-thread name of this connection (loop, slot, generation). */
  readonly ref: ConnRef;
  /** Any value the handler wants to attach to this connection. */
  context: unknown;
  /** Local address as `host:port` (or the socket path for Unix sockets). */
  readonly localAddr: string;
  /** Peer address as `host:port`. */
  readonly remoteAddr: string;
  /** Index of the listen address (in `serve`'s list) this connection was accepted on; -1 for a dialed one. */
  readonly listener: number;
  /** Whether the connection is still open (false after `onClosed` or once a close is requested). */
  readonly open: boolean;
  /**
   * True for a UDP socket's datagram: `react` runs once per datagram, `remoteAddr` is its sender,
   * each `write` (or returned output) is one datagram back to that sender, unbuffered; `close` is a
   * no-op, deadlines and `wake` throw, and `context` is shared by every peer of the socket.
   */
  readonly isDatagram: boolean;
  /**
   * Bytes received on this connection so far (TLS: plaintext), counted as they reach `react`; for
   * a UDP socket, of every datagram it received. Still readable in `onClosed`.
   */
  readonly bytesRead: number;
  /**
   * Bytes this connection's handler wrote on its reactor (`write`, `writev`, returned output,
   * `sendTo`), as node:net counts what was handed to `write`; bytes sent with `asyncWrite` from
   * other threads and pool jobs are not counted here. Still readable in `onClosed`.
   */
  readonly bytesWritten: number;
  /**
   * What TLS negotiated on this connection (read from the native session on each access), or null
   * for a plain connection or once closed. The handler only ever sees plaintext.
   */
  readonly tls: TlsInfo | null;

  /**
   * What the kernel reports for this connection's socket (seconds and bytes; the kernel doubles
   * SO_RCVBUF/SO_SNDBUF values for its bookkeeping), or null once closed. Diagnostics.
   */
  socketOptions(): SocketOptions | null;
  /**
   * The frames the listener's codec found in what `react` was given (see lib/codec.ts), or null
   * when the listener has no codec (and outside `react`). Loop-only, valid during the event.
   */
  readonly frames: Frames | null;
  /** Bytes received and not yet consumed. */
  readonly inboundBuffered: number;
  /** Bytes written by the handler and not yet handed to the kernel (as of the last flush). */
  readonly outboundBuffered: number;
  /** The next `n` buffered bytes without consuming them (all when `n` is omitted); `null` if fewer are buffered. */
  peek(n?: number): Uint8Array | null;
  /** As `peek`, then consumes them. */
  next(n?: number): Uint8Array | null;
  /** Consumes up to `n` buffered bytes (all when omitted); returns how many were discarded. */
  discard(n?: number): number;
  /** All buffered bytes as one view, without consuming (the seed's ReadBytes). */
  readBytes(): Uint8Array;
  /** All buffered bytes as head and tail views (tail is always empty here: the view is contiguous). */
  readPair(): [Uint8Array, Uint8Array];
  /** Discards everything buffered (the seed's ResetBuffer). */
  resetBuffer(): void;

  /**
   * UDP only: one datagram from this socket to `addr` (numeric "host:port" or "[v6]:port"), sent
   * when the batch returns; usable at any time while the socket is open. Throws on a stream
   * connection, a malformed address or a datagram larger than `maxDatagramSize`.
   */
  sendTo(addr: string, data: Uint8Array | string): number;
  /** Queues bytes for this connection; they are sent when the current event returns. Returns the byte count. */
  write(data: Uint8Array | string): number;
  /** Queues several chunks in order (sent with one writev where possible). */
  writev(chunks: readonly (Uint8Array | string)[]): number;
  /** Sends what has been queued now, instead of when the event returns. */
  flush(): void;
  /** Closes the connection after pending output is flushed. `onClosed` follows. */
  close(): void;
  /**
   * Thread-safe: queues bytes through the owning reactor's inbox (copied now). Safe to call from
   * any thread with the ref; see `Engine.asyncWrite`.
   */
  asyncWrite(data: Uint8Array | string): Delivery;
  /** Thread-safe: asks the reactor to call `react` for this connection even with no new data. */
  wake(): Delivery;
  /**
   * Deadlines (absolute: a Date or epoch ms, like Go's net.Conn; 0 or null clears). When the read
   * deadline passes the connection is closed with ETIMEDOUT, whatever trickled in meanwhile (the
   * defence against slowloris clients: set it in onOpened). The write deadline closes it only if
   * output is still pending then. Checked by one timing wheel per reactor (50 ms resolution).
   */
  setDeadline(t: Date | number | null): void;
  setReadDeadline(t: Date | number | null): void;
  setWriteDeadline(t: Date | number | null): void;
  /**
   * Runs the pool module's export `name` (default 'default') with `payload` (copied as structured
   * clone would, a typed array as a copy of just its bytes) in a pool thread, as `(payload, job)`
   * (views into the read arena, at the top level or as properties of a plain object, are copied
   * first; copy deeper ones yourself); the job answers with `job.asyncWrite`. Needs the `pool`
   * option. Loop-only. A batch's jobs go straight to the pool threads through shared memory at
   * the end of the batch. If the job fails (throws, times out
   * after `timeout` ms, or its thread dies), the handler's `onJobError(c, err)` runs, or without
   * one the connection is closed with that error.
   */
  offload(payload: unknown, options?: { name?: string; timeout?: number }): void;

  /**
   * Topics (see `Remote.publish`). Subscribes this connection to `topic` (a string, as UTF-8, or
   * bytes, copied) on its reactor: from when this returns, every publish of the topic from any
   * thread reaches it, written by the reactor straight to the socket (no handler call). Returns
   * false if it already was subscribed. Loop-only; throws on a closed connection or a datagram
   * socket. Subscriptions end when the connection closes.
   */
  subscribe(topic: string | Uint8Array): boolean;
  /** Leaves `topic`: nothing published to it reaches this connection once this returns. False if it was not in it. Loop-only. */
  unsubscribe(topic: string | Uint8Array): boolean;
  /** The topics this connection is subscribed to (bytes topics decoded as UTF-8), in no particular order. Loop-only. */
  readonly topics: string[];
  /**
   * Sends `data` to every other subscriber of `topic` on every reactor (not to this connection,
   * whether or not it is subscribed). Thread-safe in effect (it goes through the inboxes, the own
   * reactor's too, so it arrives after this batch's writes); see `Remote.publish` for the result,
   * order and backpressure.
   */
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult;
  /** True for a connection this reactor dialed (`dial`), false for an accepted one. */
  readonly dialed: boolean;
  /**
   * The PROXY protocol header this connection began with (listeners with `proxyProtocol`), or
   * null. `remoteAddr`/`localAddr` already report its addresses.
   */
  readonly proxy: ProxyInfo | null;
  /**
   * Loop-only. Opens an outbound connection on this connection's reactor: `tcp://host:port`
   * (numeric host or `localhost`), `tcp6://[::1]:port`, `unix:///path`. Returns its ref at once;
   * the connect goes on in the background, then `onOpened` runs for it (with `dialed` true and
   * `options.context` as its context), or `onClosed` with ECONNREFUSED / ETIMEDOUT /
   * EHOSTUNREACH / ... if it never connects. Throws only for a malformed address.
   */
  dial(addr: string, options?: DialOptions): ConnRef;
  /**
   * Loop-only. Half-close: shutdown(SHUT_WR) once the pending output is flushed; the peer reads
   * EOF, and this side can still read. Writing afterwards throws. Once the peer's EOF has also been
   * seen (`onReadClosed`), the connection closes (`onClosed`). On TLS it sends close_notify first.
   */
  closeWrite(): void;
  /** Loop-only. Stops reading this connection (the kernel's buffer, then TCP, holds the peer back). */
  pauseRead(): void;
  /** Loop-only. Reads it again after `pauseRead`. */
  resumeRead(): void;
  /**
   * Loop-only. Forward mode: from now on the bytes read from this connection go straight to
   * `other` (a connection of the same reactor) inside the native loop, with no `react` call:
   * the proxy's hot path. Bytes this connection has buffered go first. `other`'s pending output
   * above writeBufferHighWater stops this side's reads until it drains to half; this side's EOF
   * becomes `other.closeWrite()`; when either closes, the other closes after its pending output.
   * Call it on both for a full-duplex pair. Throws if either is closed or already forwarded into.
   */
  pipe(other: Conn): void;
  /** Loop-only. Ends forward mode: `react` sees this connection's bytes again. */
  unpipe(): void;
}

/** Result of a publish or broadcast: 'queued', 'full' (some reactor's inbox had no room), 'stopped'. */
export type PublishResult = 'queued' | 'full' | 'stopped';
