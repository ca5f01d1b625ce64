/**
 * The event handler contract: what a user's handler module exports and what each event may return.
 *
 * A handler runs inside a reactor (a worker thread, or the calling thread for a single in-thread
 * reactor). Every method here is called on that reactor's loop only; none is called concurrently.
 *
 * @example
 * ```ts
 * // echo.ts — loaded by every reactor
 * import { defineHandler } from 'ringloop';
 * export default defineHandler({
 *   react(c) { return c.next(); },       // write back everything that arrived
 * });
 * ```
 */
import type { Conn, ConnRef } from './conn.js';
import type { EngineHandle, Remote } from './channel/remote.js';
import type { DialOptions } from './dial.js';
import type { CodecOptions } from './codec.js';
import type { CloseError, JobError } from './error_types.js';
import type { TypedHandler, TypedHandlerExport, TypedHandlerFactory } from './typed_handler.js';

/** What the reactor does after an event. */
export const Action = {
  /** Keep going. */
  None: 0,
  /** Close this connection once its pending output has been flushed. */
  Close: 1,
  /** Stop the whole engine gracefully (as `engine.stop()`). */
  Shutdown: 2,
} as const;
export type Action = (typeof Action)[keyof typeof Action];

/** Bytes a handler may hand back: a view, a string (UTF-8), or several chunks written in order. */
export type Output = Uint8Array | string | readonly (Uint8Array | string)[];

/**
 * What `onOpened` and `react` may return: nothing, an Action, bytes to write, or both.
 * Returned bytes are written after anything written with `c.write` during the same call.
 */
export type ReactResult = void | undefined | null | Action | Output | { out?: Output; action?: Action };

/** What `tick` returns: the delay in ms before the next tick, and an optional Action. */
export type TickResult = void | undefined | number | { delay?: number; action?: Action };

/** Given to `onInitComplete`. */
export interface InitInfo {
  /** Index of the reactor this handler instance runs in (0-based). */
  readonly loop: number;
  /** Number of reactors in the engine. */
  readonly loops: number;
  /** The bound listen addresses, with port 0 resolved, e.g. `tcp://127.0.0.1:40123`. */
  readonly addrs: readonly string[];
  /** `handlerOptions` from `serve()`, structured-cloned into each reactor. */
  readonly options: unknown;
  /**
   * This reactor's own thread-safe face of the engine (as `connect(engine.handle)`): write to,
   * wake or close any connection by ref, on any reactor, with no main-thread hop
   * (`info.remote.asyncWrite(ref, bytes)`), publish and broadcast. Keep it for later events.
   */
  readonly remote: Remote;
  /** The engine's handle (structured-cloneable: give it to a worker of your own, for `connect`). */
  readonly handle: EngineHandle;
  /**
   * Loop-only: dials from this reactor, as `c.dial` does (keep it for timers). Given to
   * `onInitComplete` on a reactor; absent in the info a handler factory receives.
   */
  readonly dial?: (addr: string, options?: DialOptions) => ConnRef;
}

/**
 * The events of a ringloop server. All are optional.
 * Every event is loop-only: it runs on the reactor that owns the connection.
 */
export interface EventHandler {
  /**
   * The frame codec for the listeners that name none in serve's options (`codec: false` there
   * keeps one raw): the reactor frames their input natively and `react` reads `c.frames`.
   */
  codec?: CodecOptions;
  /** Once per reactor, after the whole engine is bound and every reactor is ready. */
  onInitComplete?(info: InitInfo): Action | void;
  /** A connection opened. Returned bytes are sent first (a greeting); `Action.Close` refuses it. */
  onOpened?(c: Conn): ReactResult;
  /**
   * The connection closed: exactly once per opened connection. `err` is set when the close was
   * abnormal (reset by the peer, a socket error, a buffer cap exceeded, a handler that threw).
   */
  onClosed?(c: Conn, err?: CloseError): Action | void;
  /**
   * Data arrived (or the connection was woken with `wake`). Read it with `c.peek/next/discard`;
   * bytes not consumed stay buffered for the next call. Views are valid only during this call.
   */
  react?(c: Conn): ReactResult;
  /**
   * Engine-wide timer (runs on reactor 0 when the `ticker` option is on): called once serving
   * starts, then again after each returned delay (default 1000 ms).
   */
  tick?(): TickResult;
  /** Called just before the reactor hands this connection's output of the current batch to the socket. */
  preWrite?(c: Conn): void;
  /**
   * A job this connection offloaded failed (`err.code`: EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL).
   * Without this event the connection is closed with `err`.
   */
  onJobError?(c: Conn, err: JobError): Action | void;
  /**
   * The peer half-closed (sent FIN): nothing more will be read, writing still works; close with
   * `c.close()` or `c.closeWrite()` when done. Defining this event turns half-close on for every
   * connection of the engine; without it, EOF flushes the pending output and closes (the default).
   */
  onReadClosed?(c: Conn): ReactResult;
}

/**
 * A handler module's default export: the handler itself, or a factory called once per reactor
 * (useful for per-reactor state built from `handlerOptions`).
 */
export type HandlerExport = EventHandler | ((info: InitInfo) => EventHandler | Promise<EventHandler>);

/**
 * Identity helper that gives TypeScript users checked handler modules: unknown event names do not
 * compile, `c.context` is `Context`, and with `Jobs` (the pool module's `typeof import(...)`)
 * `c.offload` accepts only its job names and payloads. See lib/typed_handler.ts.
 */
export function defineHandler<Context = unknown, Jobs = unknown>(handler: TypedHandler<Context, Jobs>): TypedHandler<Context, Jobs>;
export function defineHandler<Context = unknown, Jobs = unknown>(factory: TypedHandlerFactory<Context, Jobs>): TypedHandlerFactory<Context, Jobs>;
export function defineHandler<Context, Jobs>(handler: TypedHandlerExport<Context, Jobs>): TypedHandlerExport<Context, Jobs> {
  return handler;
}
