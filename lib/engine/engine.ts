/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The engine: the acceptor on the calling thread and N reactors. `serve()` builds one.
 *
 * Accepted fds are handed out to the reactors through their inboxes (the disruptor) with one
 * coalesced wake-up per reactor per accept batch. From then on the reactor owns the fd.
 *
 * This file is the engine's public face: the `Engine` class, its option and counter types, and
 * `serve()`. The work is done in files by concern: startup.ts (serve's sequence), listeners.ts
 * (binding), inboxes.ts, handout.ts (accepted fds to reactors), reactor_lifecycle.ts (start, death,
 * restart) and stop.ts.
 */
import type { ListenSpec } from './tls_options.js';
import { EventEmitter } from 'node:events';
import type { Disruptor } from '../channel/disruptor.js';
import { Remote, type EngineHandle } from '../channel/remote.js';
import type { DialOptions } from '../dial.js';
import type { WriteAck } from '../channel/acks.js';
import * as L from '../channel/layout.js';
import type { ConnRef, Delivery, PublishResult } from '../conn.js';
import type { EventHandler } from '../handler.js';
import type { Pool } from '../pool/pool.js';
import type { PoolStats } from '../pool/stats.js';
import type { JobRequest } from '../pool/tasks.js';
import { Handout } from './handout.js';
import type { ResolvedOptions, ServeOptions } from './options.js';
import { ReactorLifecycle } from './reactor_lifecycle.js';
import type { HostEvents } from './reactor_host.js';
import { startUp, type EngineParts } from './startup.js';
import { stopAll, type StopParts } from './stop.js';
import type { EngineEventName, EngineEvents, EngineListener } from '../engine_events.js';

/** See `Engine.stats()`. */
export interface EngineStats {
  connections: number;
  refused: number;
  datagramsReceived: number;
  datagramsSent: number;
  datagramsDropped: number;
  datagramsTruncated: number;
  /**
   * Times an idle TLS connection gave its OpenSSL record buffers (~34 KiB) back: busy connections
   * keep theirs, one idle for a whole second releases them until its next record.
   */
  tlsBuffersReleased: number;
  /** The pool's job counters (see Metrics in the README), when serve's `pool` option is set. */
  pool?: PoolStats;
}

/** Options of `engine.stop()`. */
export interface StopOptions {
  /** Ms to wait for pending output to flush before closing what is left (default: serve's stopTimeout). */
  timeout?: number;
}

/**
 * A running server. Methods are called on the thread that called `serve` unless marked
 * thread-safe (those are also available anywhere through `engine.handle` and `connect`).
 *
 * Events: `message (msg, loop)` from `postToEngine` in handlers; `handlerError (err, event, loop)`
 * when a handler throws (logged to stderr when nobody listens); `reactorError (err, loop, lost)` when
 * a reactor thread dies (`lost`: its connections, closed by its teardown), then one
 * `connectionLost (ref, err)` per connection it held (its onClosed on this thread); `reactorRestarted (loop)`
 * with `restartReactors`; `stopped` once stopped.
 */
// Typed events (lib/engine_events.ts): engine.on('mesage', ...) does not compile, listener arguments are typed.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Engine {
  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  once<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  off<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  addListener<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  removeListener<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  prependListener<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
  prependOnceListener<K extends EngineEventName>(event: K, listener: EngineListener<K>): this;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Engine extends EventEmitter<EngineEvents> {
  /** Bound listen addresses, port 0 resolved (e.g. `tcp://127.0.0.1:40123`). */
  readonly addrs: readonly string[];
  /** Number of reactors. */
  readonly loops: number;
  /** Resolves once the engine has stopped, whoever stopped it (stop(), Action.Shutdown). */
  readonly done: Promise<void>;
  /** Structured-cloneable handle for thread-safe operations from other threads (see `connect`). */
  readonly handle: EngineHandle;
  /** The worker pool, when serve's `pool` option is set. Its `piscina` is the underlying pool. */
  readonly pool: Pool | undefined;

  private readonly inboxes: Disruptor[];
  private readonly opts: ResolvedOptions;
  private readonly remote: Remote;
  private readonly handout: Handout;
  private readonly reactors: ReactorLifecycle;
  /** What `stop` ends and releases. */
  private readonly owns: StopParts;
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;
  /** Messages posted by handlers before `serve` resolved (from onInitComplete): delivered once listeners can exist. */
  private early: [unknown, number][] | undefined = [];

  /** @internal Use `serve`. */
  constructor(parts: EngineParts) {
    super();
    this.addrs = Object.freeze(parts.addrs);
    this.opts = parts.opts;
    this.loops = parts.opts.loops;
    this.inboxes = parts.inboxes;
    this.pool = parts.pool;
    this.handle = parts.handle;
    this.remote = new Remote(this.handle);
    const { loadBalancing, maxConnections } = parts.opts;
    this.handout = new Handout(parts.acceptor, parts.acceptOut, parts.inboxes, loadBalancing, maxConnections);
    this.reactors = new ReactorLifecycle({
      hosts: parts.hosts,
      makeHost: parts.makeHost,
      owned: parts.owned,
      connTables: parts.connTables,
      inboxes: parts.inboxes,
      addrs: this.addrs,
      opts: parts.opts,
      handout: this.handout,
      emitter: this,
      stopping: () => this.stopping !== undefined,
    });
    this.owns = {
      handout: this.handout,
      pool: parts.pool,
      inboxes: parts.inboxes,
      wakeFds: parts.wakeFds,
      hosts: this.reactors.hosts,
      handle: parts.handle,
      unixPaths: parts.unixPaths,
      tls: parts.tls,
    };
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** @internal Called by the acceptor with `n` (fd, listener, peer hash) triples: hand them out. */
  onAccept = (n: number): void => this.handout.onAccept(n);

  /** @internal Runs a reactor's batch of jobs; a failure goes back to the owning reactor. */
  runJobs(jobs: JobRequest[]): void {
    const pool = this.pool;
    if (!pool || this.stopping) return;
    pool.submit(jobs); // failures go to the owning reactor
  }

  /**
   * Engine thread only. Runs a pool job for a connection from this thread (as `c.offload` does from
   * a reactor) and returns the job function's result. A failure rejects here and is not reported to
   * the reactor.
   */
  offload(ref: ConnRef, payload: unknown, options: { name?: string; timeout?: number } = {}): Promise<unknown> {
    if (!this.pool) return Promise.reject(new Error('ringloop: offload needs the pool option on serve()'));
    return this.pool.offload({ ref, payload, name: options.name ?? 'default', timeout: options.timeout ?? 0 });
  }

  /**
   * Engine thread only. Counters: open connections, connections refused (because of
   * `maxConnections`, or with no reactor alive), and datagrams (UDP): received, sent, dropped on send
   * (the socket buffer was full, the peer unreachable, or a ref named a closed socket) and dropped
   * on receive because they exceeded `maxDatagramSize`.
   */
  stats(): EngineStats {
    const sum = (word: number): number => this.inboxes.reduce((n, d) => n + Atomics.load(d.i32, word), 0);
    return {
      connections: this.countConnections(),
      refused: this.handout.refused,
      datagramsReceived: sum(L.DGRAM_IN),
      datagramsSent: sum(L.DGRAM_OUT),
      datagramsDropped: sum(L.DGRAM_DROPPED),
      datagramsTruncated: sum(L.DGRAM_TRUNCATED),
      tlsBuffersReleased: sum(L.TLS_RELEASED),
      ...(this.pool ? { pool: this.pool.stats() } : {}),
    };
  }

  /** Engine thread only. Open connections over all reactors: shared counters, read without a round trip. */
  countConnections(): number {
    let n = 0;
    for (const d of this.inboxes) n += d.connections;
    return n;
  }

  /** Engine thread only. Open connections per reactor (as `countConnections`). */
  connectionsPerLoop(): number[] {
    return this.inboxes.map((d) => d.connections);
  }

  /**
   * Opens an outbound connection on a reactor (`options.loop`, else the next one round-robin):
   * `tcp://host:port` (names are looked up here), `tcp6://[h]:p`, `unix:///path`. Resolves with its
   * ref once the reactor has started the connect; the handler then sees `onOpened` (with
   * `c.dialed` and the structured-cloned `options.context`), or `onClosed` with why it never
   * connected. Rejects for a malformed address, a failed lookup, a full inbox (EAGAIN) or a stopped engine.
   */
  dial(addr: string, options: DialOptions = {}): Promise<ConnRef> {
    const loop = options.loop ?? this.dialNext++ % this.remote.loops;
    return this.remote.dial(loop, addr, options);
  }
  private dialNext = 0;

  /** Thread-safe. Queues bytes for a connection by reference (see `Remote.asyncWrite`). */
  asyncWrite(ref: ConnRef, data: Uint8Array | string): Delivery {
    return this.remote.asyncWrite(ref, data);
  }

  /** Thread-safe. As `asyncWrite`, resolving with the outcome (see `Remote.asyncWriteAck`). */
  asyncWriteAck(ref: ConnRef, data: Uint8Array | string): Promise<WriteAck> {
    return this.remote.asyncWriteAck(ref, data);
  }

  /** Thread-safe. As `asyncWrite`, waiting while the reactor's inbox is full. */
  asyncWriteWait(ref: ConnRef, data: Uint8Array | string, timeoutMs?: number): Promise<Delivery> {
    return this.remote.asyncWriteWait(ref, data, timeoutMs);
  }

  /** Thread-safe. Makes the reactor call `react` for the connection. */
  wake(ref: ConnRef): Delivery {
    return this.remote.wake(ref);
  }

  /** Thread-safe. Closes the connection after flushing its output. */
  close(ref: ConnRef): Delivery {
    return this.remote.close(ref);
  }

  /** Thread-safe. Sends bytes to every subscriber of `topic` on every reactor (see `Remote.publish`). */
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.remote.publish(topic, data);
  }

  /** Thread-safe. Sends bytes to every open connection of every reactor (see `Remote.broadcast`). */
  broadcast(data: Uint8Array | string): PublishResult {
    return this.remote.broadcast(data);
  }

  /** Thread-safe. Subscriptions to `topic` over all reactors (see `Remote.subscribers`). */
  subscribers(topic: string | Uint8Array): number {
    return this.remote.subscribers(topic);
  }

  /**
   * Engine thread only. Stops gracefully: stops accepting, lets every reactor flush pending output
   * and close its connections (each gets `onClosed`), then ends the reactor threads and releases
   * every fd. Connections still flushing after `timeout` ms are closed with ECANCELED. Idempotent.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.timeout ?? this.opts.stopTimeout);
    return this.stopping;
  }

  private async doStop(timeout: number): Promise<void> {
    await stopAll(this.owns, timeout);
    this.resolveDone();
    this.emit('stopped');
  }

  /** @internal Called when serve() resolves: replays early messages after the caller's continuation. */
  started(): void {
    setImmediate(() => {
      const early = this.early ?? [];
      this.early = undefined;
      for (const [msg, loop] of early) this.emit('message', msg, loop);
    });
  }

  /** @internal The hooks reactors report through, built once (they run per message). */
  readonly hostEvents: HostEvents = {
    message: (msg, loop) => {
      if (this.early) this.early.push([msg, loop]);
      else this.emit('message', msg, loop);
    },
    shutdown: () => void this.stop(),
    handlerError: (err, event, loop) => {
      if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err, event, loop);
      else console.error(`ringloop: handler ${event} threw in reactor ${loop}:`, err);
    },
    died: (err, loop) => this.reactors.died(err, loop),
    offload: (jobs) => this.runJobs(jobs),
  };
}

/**
 * Starts a server.
 *
 * @param handler a module path or URL whose default export is the handler (or a factory), loaded by
 *   every reactor; or, with a single loop, a handler object run on this thread.
 * @param addr one listen address or several, e.g. `tcp://127.0.0.1:9000`, `tcp6://[::1]:9000`,
 *   `udp://127.0.0.1:9001` (datagrams: `react` per datagram, replies go to its sender),
 *   `unix:///tmp/s.sock`; all served by the same reactors (`c.listener` tells which).
 * @returns the running engine once every reactor is ready and every address is bound.
 *
 * @example
 * ```ts
 * const engine = await serve(new URL('../echo.js', import.meta.url), 'tcp://127.0.0.1:9000', { multicore: true });
 * console.log('listening', engine.addrs[0]);
 * await engine.stop();
 * ```
 */
export function serve(
  handler: string | URL | EventHandler,
  addr: string | ListenSpec | readonly (string | ListenSpec)[],
  options: ServeOptions = {},
): Promise<Engine> {
  return startUp(handler, addr, options, (parts) => new Engine(parts));
}
