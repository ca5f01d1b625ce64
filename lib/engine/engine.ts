/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The engine: the acceptor on the calling thread and N reactors. `serve()` builds one.
 *
 * Accepted fds are handed round-robin to the reactors through their inboxes (the disruptor) with
 * one coalesced wake-up per reactor per accept batch. From then on the reactor owns the fd.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { Disruptor } from '../channel/disruptor.js';
import { native, type NativeAcceptor } from '../channel/native.js';
import { parseAddress, resolveAddress, formatAddress, type ListenAddress } from './address.js';
import { resolveOptions, type ServeOptions, type ResolvedOptions } from './options.js';
import { resolveHandlerUrl } from './handler_loader.js';
import { fromNative } from '../errors.js';
import { Remote, type EngineHandle } from '../channel/remote.js';
import type { ReactorHost, HostEvents } from './reactor_host.js';
import { ReactorLifecycle, startHosts, type HostFactory } from './reactor_lifecycle.js';
import type { EventHandler } from '../handler.js';
import { CONN_TABLE_SLOTS } from '../reactor/reactor.js';
import type { ConnRef, Delivery } from '../conn.js';
import * as L from '../channel/layout.js';
import { Handout } from './handout.js';
import { prepareUnixPath } from './unix_path.js';
import { openOwned, handOwned, type OwnedAddress } from './owned_sockets.js';
import type { WriteAck } from '../channel/acks.js';
import { createInboxes, releaseInboxes } from './inboxes.js';
import { stopAll, type StopParts } from './stop.js';
import { Pool, type JobRequest, type PoolOptions } from '../pool/pool.js';

/** See `Engine.stats()`. */
export interface EngineStats {
  connections: number;
  refused: number;
  datagramsReceived: number;
  datagramsSent: number;
  datagramsDropped: number;
  datagramsTruncated: number;
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
export class Engine extends EventEmitter {
  /** Bound listen addresses, port 0 resolved (e.g. `tcp://127.0.0.1:40123`). */
  readonly addrs: readonly string[];
  /** Number of reactors. */
  readonly loops: number;
  /** Resolves once the engine has stopped, whoever stopped it (stop(), Action.Shutdown). */
  readonly done: Promise<void>;
  /** Structured-cloneable handle for thread-safe operations from other threads (see `connect`). */
  readonly handle: EngineHandle;

  private readonly inboxes: Disruptor[];
  private readonly reactors: ReactorLifecycle;
  private readonly remote: Remote;
  private readonly opts: ResolvedOptions;
  /** The worker pool, when serve's `pool` option is set. Its `piscina` is the underlying pool. */
  readonly pool: Pool | undefined;
  private readonly handout: Handout;
  /** What `stop` ends and releases. */
  private readonly owns: StopParts;
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;
  /** Messages posted by handlers before `serve` resolved (from onInitComplete): delivered once listeners can exist. */
  private early: [unknown, number][] | undefined = [];

  /** @internal Use `serve`. */
  constructor(parts: {
    addrs: string[];
    opts: ResolvedOptions;
    inboxes: Disruptor[];
    wakeFds: number[];
    hosts: ReactorHost[];
    makeHost: HostFactory | undefined;
    owned: OwnedAddress[];
    acceptor: NativeAcceptor;
    acceptOut: Int32Array;
    unixPaths: string[];
    pool: Pool | undefined;
    handle: EngineHandle;
    connTables: SharedArrayBuffer[];
  }) {
    super();
    this.addrs = Object.freeze(parts.addrs);
    this.opts = parts.opts;
    this.loops = parts.opts.loops;
    this.inboxes = parts.inboxes;
    this.pool = parts.pool;
    this.handout = new Handout(parts.acceptor, parts.acceptOut, parts.inboxes, parts.opts.loadBalancing, parts.opts.maxConnections);
    this.handle = parts.handle;
    this.remote = new Remote(this.handle);
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
   * Runs a pool job for a connection from this thread (as `c.offload` does from a reactor) and
   * returns the job function's result. A failure rejects here and is not reported to the reactor.
   */
  offload(ref: ConnRef, payload: unknown, options: { name?: string; timeout?: number } = {}): Promise<unknown> {
    if (!this.pool) return Promise.reject(new Error('ringloop: offload needs the pool option on serve()'));
    return this.pool.offload({ ref, payload, name: options.name ?? 'default', timeout: options.timeout ?? 0 });
  }

  /**
   * Counters: open connections, connections refused because of `maxConnections`, and datagrams
   * (UDP): received, sent, dropped on send (the socket buffer was full, the peer unreachable, or a
   * ref named a closed socket) and dropped on receive because they exceeded `maxDatagramSize`.
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
    };
  }

  /** Open connections over all reactors. Thread-safe counters, read without a round trip. */
  countConnections(): number {
    let n = 0;
    for (const d of this.inboxes) n += d.connections;
    return n;
  }

  /** Open connections per reactor. */
  connectionsPerLoop(): number[] {
    return this.inboxes.map((d) => d.connections);
  }

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

  /**
   * Stops gracefully: stops accepting, lets every reactor flush pending output and close its
   * connections (each gets `onClosed`), then ends the reactor threads and releases every fd.
   * Connections still flushing after `timeout` ms are closed with ECANCELED. Idempotent.
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
export async function serve(
  handler: string | URL | EventHandler,
  addr: string | readonly string[],
  options: ServeOptions = {},
): Promise<Engine> {
  const opts = resolveOptions(options);
  const list = typeof addr === 'string' ? [addr] : [...addr];
  if (list.length === 0) throw new TypeError('serve needs at least one listen address');
  const parsed: ListenAddress[] = [];
  for (const a of list) parsed.push(await resolveAddress(parseAddress(a)));
  const local = typeof handler === 'object' && handler !== null && !(handler instanceof URL);
  if (local && opts.loops !== 1) {
    throw new TypeError(
      `a handler object runs on the calling thread and needs numEventLoop: 1 (got ${opts.loops}); pass a module path for several reactors`,
    );
  }
  const handlerUrl = local ? '' : resolveHandlerUrl(handler as string | URL);

  const inboxes: Disruptor[] = [];
  const wakeFds: number[] = [];
  const hosts: ReactorHost[] = [];
  const unixPaths: string[] = [];
  const acceptOut = new Int32Array(3 * 256);
  let engine: Engine | undefined;
  const acceptor = new native.Acceptor(
    acceptOut,
    { ...opts.socket, hashPeers: opts.loadBalancing === 'source-addr-hash' },
    (n) => engine?.onAccept(n),
  );
  let pool: Pool | undefined;
  // Addresses whose sockets the reactors own, and per reactor its sockets until handed over.
  const owned: OwnedAddress[] = [];
  const ownedFds: number[][] = [];
  const cleanup = async (): Promise<void> => {
    for (const fds of ownedFds) for (const fd of fds) native.closeFd(fd);
    acceptor.close();
    await pool?.destroy().catch(() => undefined);
    await Promise.all(hosts.map((h) => h.terminate().catch(() => undefined)));
    releaseInboxes(inboxes, wakeFds);
    for (const p of unixPaths) fs.rmSync(p, { force: true });
  };

  try {
    const bound: string[] = [];
    for (const a of parsed) if (a.family === 0) await prepareUnixPath(a.host, a.input);
    parsed.forEach((a, i) => {
      let r: { fd: number; port: number };
      try {
        if (a.family !== 0 && (a.dgram || opts.reusePort)) {
          // UDP always, TCP in reusePort mode: one socket per reactor, the first resolving port 0.
          const plan = { listener: i, family: a.family, host: a.host, dgram: a.dgram, share: !a.dgram || opts.loops > 1 || opts.reusePort };
          r = openOwned(plan, a.port, opts);
          owned.push({ ...plan, port: r.port });
          for (let k = 0; k < opts.loops; k++) {
            ownedFds[k] ??= [];
            ownedFds[k]!.push(k === 0 ? r.fd : openOwned(plan, r.port, opts).fd);
          }
        } else {
          r = acceptor.listen(a.family, a.host, a.port, opts.backlog, opts.reusePort, i, opts.reuseAddr);
        }
      } catch (e) {
        throw fromNative(e, `cannot listen on ${a.input}`);
      }
      if (a.family === 0) unixPaths.push(a.host);
      bound.push(formatAddress(a, r.port));
    });
    const handle = createInboxes(opts, inboxes, wakeFds);
    if (options.pool) {
      if (options.pool === true && local) throw new TypeError('pool: true uses the handler module as the pool module; pass pool.filename with a handler object');
      const po: PoolOptions = options.pool === true ? { filename: new URL(handlerUrl) } : options.pool;
      // Failures of channel jobs (threw, timed out running, thread died) go to the owning reactor.
      pool = new Pool(po, handle, (ref, err) => hosts[ref.loop]?.jobError(ref, err));
    }
    const early: [unknown, number][] = [];
    const events: HostEvents = {
      message: (m, l) => (engine ? engine.hostEvents.message(m, l) : early.push([m, l])),
      shutdown: () => engine?.hostEvents.shutdown(),
      handlerError: (e, ev, l) => engine?.hostEvents.handlerError(e, ev, l),
      died: (e, l) => engine?.hostEvents.died(e, l),
      offload: pool ? (jobs) => engine?.runJobs(jobs) : null,
    };
    const connTables = inboxes.map(() => new SharedArrayBuffer(8 * CONN_TABLE_SLOTS));
    const makeHost = await startHosts(
      { handler, local, handlerUrl, opts, handle, poolQueue: pool ? pool.queue.sab : null, events, bound, connTables },
      hosts,
    );
    engine = new Engine({
      addrs: bound,
      opts,
      inboxes,
      wakeFds,
      hosts,
      makeHost,
      owned,
      acceptor,
      acceptOut,
      unixPaths,
      pool,
      handle,
      connTables,
    });
    for (const [m, l] of early) engine.hostEvents.message(m, l);
    await Promise.all(hosts.map((h) => h.init(bound)));
    ownedFds.forEach((fds, k) => handOwned(inboxes[k]!, owned, fds));
    ownedFds.length = 0; // the reactors own them now
    acceptor.resume();
    engine.started();
    return engine;
  } catch (e) {
    await cleanup();
    throw e;
  }
}
