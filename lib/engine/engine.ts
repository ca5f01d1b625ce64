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
import { Disruptor } from '../channel/disruptor.js';
import { native, type NativeAcceptor } from '../channel/native.js';
import { parseAddress, resolveAddress, formatAddress, type ListenAddress } from './address.js';
import { resolveOptions, type ServeOptions, type ResolvedOptions } from './options.js';
import { resolveHandlerUrl, buildHandler } from './handler_loader.js';
import { fromNative } from '../errors.js';
import { Remote, type EngineHandle } from '../channel/remote.js';
import { WorkerHost, LocalHost, type ReactorHost, type HostEvents } from './reactor_host.js';
import type { EventHandler } from '../handler.js';
import { CONN_TABLE_SLOTS, type ReactorConfig } from '../reactor/reactor.js';
import type { ConnRef, Delivery } from '../conn.js';
import * as L from '../channel/layout.js';
import { Balancer } from './balancer.js';
import { prepareUnixPath } from './unix_path.js';
import { openOwned, handOwned, type OwnedAddress } from './owned_sockets.js';
import { AckTable, type WriteAck } from '../channel/acks.js';
import { Pool, type JobRequest, type PoolOptions } from '../pool/pool.js';

/**
 * A restarted reactor's slot generations start this far past its predecessor's: a stale ref could
 * only match again after one slot was reused 16 million times.
 */
const GENERATIONS_PER_INCARNATION = 1 << 24;

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
  private readonly wakeFds: number[];
  private readonly hosts: ReactorHost[];
  private readonly makeHost: ((loop: number, incarnation: number) => ReactorHost) | undefined;
  /** Sockets each reactor owns (UDP, reusePort): reopened for a restarted reactor. */
  private readonly owned: OwnedAddress[];
  /** Restarts per reactor: a fresh reactor's generations start past its predecessors'. */
  private readonly incarnations: number[];
  private readonly connTables: Int32Array[];
  private readonly acceptor: NativeAcceptor;
  private readonly acceptOut: Int32Array;
  private readonly remote: Remote;
  private readonly unixPaths: string[];
  private readonly opts: ResolvedOptions;
  /** The worker pool, when serve's `pool` option is set. Its `piscina` is the underlying pool. */
  readonly pool: Pool | undefined;
  private pending: [number, number, number][] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly balancer: Balancer;
  /** ACCEPT messages published per reactor (compared with what each consumed: hand-overs in flight). */
  private readonly published: number[];
  private refused = 0;
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
    makeHost: ((loop: number, incarnation: number) => ReactorHost) | undefined;
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
    this.wakeFds = parts.wakeFds;
    this.hosts = parts.hosts;
    this.makeHost = parts.makeHost;
    this.owned = parts.owned;
    this.incarnations = parts.inboxes.map(() => 0);
    this.connTables = parts.connTables.map((b) => new Int32Array(b));
    this.acceptor = parts.acceptor;
    this.acceptOut = parts.acceptOut;
    this.unixPaths = parts.unixPaths;
    this.pool = parts.pool;
    this.balancer = new Balancer(parts.opts.loadBalancing, this.inboxes);
    this.published = this.inboxes.map(() => 0);
    this.handle = parts.handle;
    this.remote = new Remote(this.handle);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** @internal Called by the acceptor with `n` (fd, listener, peer hash) triples: hand them out. */
  onAccept = (n: number): void => {
    const out = this.acceptOut;
    const woke = new Set<number>();
    for (let i = 0; i < n; i++) this.handOut(out[3 * i]!, out[3 * i + 1]!, out[3 * i + 2]!, woke);
    for (const k of woke) this.inboxes[k]!.wakeIfParked();
  };

  private handOut(fd: number, listener: number, hash: number, woke: Set<number>): void {
    if (this.opts.maxConnections > 0 && this.load() >= this.opts.maxConnections) {
      // Refuse politely: close at once, the client sees the connection end instead of hanging.
      native.closeFd(fd);
      this.refused++;
      return;
    }
    if (this.pending.length > 0) {
      this.pending.push([fd, listener, hash]);
      return;
    }
    const k = this.balancer.pick(hash);
    if (k < 0) {
      native.closeFd(fd); // no reactor alive
      this.refused++;
      return;
    }
    if (this.inboxes[k]!.tryPublish(L.MSG_ACCEPT, fd, listener, 0)) {
      this.published[k]!++;
      woke.add(k);
      return;
    }
    // That reactor's inbox is full: stop accepting (the kernel backlog holds new clients) and
    // retry shortly, keeping the fds already accepted. Never drop one.
    this.pending.push([fd, listener, hash]);
    this.acceptor.pause();
    this.retryTimer ??= setTimeout(this.retryPending, 1);
  }

  private retryPending = (): void => {
    this.retryTimer = undefined;
    if (this.stopping) return;
    const woke = new Set<number>();
    while (this.pending.length > 0) {
      const [fd, listener, hash] = this.pending[0]!;
      const k = this.balancer.pick(hash);
      if (k < 0) {
        native.closeFd(fd);
        this.refused++;
        this.pending.shift();
        continue;
      }
      if (!this.inboxes[k]!.tryPublish(L.MSG_ACCEPT, fd, listener, 0)) break;
      this.published[k]!++;
      woke.add(k);
      this.pending.shift();
    }
    for (const k of woke) this.inboxes[k]!.wakeIfParked();
    if (this.pending.length > 0) this.retryTimer = setTimeout(this.retryPending, 1);
    else this.acceptor.resume();
  };

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
   * A reactor thread died (an uncaught error in handler code outside the events, or it exited).
   * Its descriptors were closed by its teardown; its connections are lost. New connections go to
   * the other reactors; with `restartReactors` a fresh one takes its place.
   */
  private reactorDied(err: Error, loop: number): void {
    if (this.stopping) return;
    const d = this.inboxes[loop]!;
    // Its teardown counts its connections down as it closes them, concurrently with this event:
    // its conn table (written only by its handler thread, which is gone) still names them.
    const table = this.connTables[loop]!;
    let named = 0;
    for (let slot = 0; slot < CONN_TABLE_SLOTS; slot++) if (Atomics.load(table, 2 * slot) === 1) named++;
    const lost = Math.max(d.connections, named);
    this.balancer.alive[loop] = false;
    d.setState(L.STATE_STOPPED); // asyncWrite & co. answer 'stopped' meanwhile
    if (this.listenerCount('reactorError') > 0) this.emit('reactorError', err, loop, lost);
    else console.error(`ringloop: reactor ${loop} died (${lost} connections lost):`, err);
    // Once its thread is gone (its teardown closes its fds), the engine reclaims what the dead
    // consumer never took, closing handed-over fds, and resets its counters.
    void this.hosts[loop]!.stopped.then(() => {
      // The onClosed its handler can no longer run: one 'connectionLost' per connection it held.
      const table = this.connTables[loop]!;
      for (let slot = 0; slot < CONN_TABLE_SLOTS; slot++) {
        if (Atomics.load(table, 2 * slot) !== 1) continue;
        Atomics.store(table, 2 * slot, 0);
        this.emit('connectionLost', Object.freeze({ loop, slot, generation: table[2 * slot + 1]! }), err);
      }
      native.inboxDiscard(d.i32);
      Atomics.store(d.i32, L.CONNS, 0);
      Atomics.store(d.i32, L.ACCEPTED, this.published[loop]!);
      if (this.opts.restartReactors && this.makeHost && !this.stopping) void this.restart(loop);
    });
  }

  private async restart(loop: number): Promise<void> {
    const host = this.makeHost!(loop, ++this.incarnations[loop]!);
    const fds: number[] = [];
    try {
      await host.ready;
      await host.init(this.addrs);
      // The dead reactor's own sockets closed with it: the new one gets fresh ones on the same ports.
      for (const a of this.owned) fds.push(openOwned(a, a.port, this.opts).fd);
    } catch (e) {
      for (const fd of fds) native.closeFd(fd);
      await host.terminate().catch(() => undefined);
      this.emit('reactorError', e instanceof Error ? e : new Error(String(e)), loop, 0);
      return;
    }
    if (this.stopping) {
      for (const fd of fds) native.closeFd(fd);
      await host.terminate();
      return;
    }
    handOwned(this.inboxes[loop]!, this.owned, fds);
    this.hosts[loop] = host;
    this.inboxes[loop]!.setState(L.STATE_RUNNING);
    this.balancer.alive[loop] = true;
    this.emit('reactorRestarted', loop);
  }

  /** Open connections plus hand-overs not yet taken by their reactor, plus fds waiting here. */
  private load(): number {
    let n = this.pending.length;
    this.inboxes.forEach((d, k) => (n += d.connections + (this.published[k]! - d.accepted)));
    return n;
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
      refused: this.refused,
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
    this.acceptor.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const [fd] of this.pending) native.closeFd(fd);
    this.pending = [];
    // Jobs in flight may still answer their connections: let them, within the timeout.
    if (this.pool) await this.pool.drain(timeout);
    await Promise.all(
      this.inboxes.map(async (d) => {
        if (d.state === L.STATE_RUNNING) await d.publishWait(L.MSG_STOP, 0, 0, 0, undefined, timeout + 1000);
      }),
    );
    const force = setTimeout(() => {
      for (const h of this.hosts) h.forceClose();
    }, timeout);
    await Promise.all(this.hosts.map((h) => h.stopped));
    clearTimeout(force);
    await Promise.all(this.hosts.map((h) => h.terminate()));
    if (this.pool) await this.pool.destroy();
    releaseInboxes(this.inboxes, this.wakeFds);
    new AckTable(this.handle.acks).cancelPending();
    for (const p of this.unixPaths) fs.rmSync(p, { force: true });
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
      died: (err, loop) => this.reactorDied(err, loop),
      offload: (jobs) => this.runJobs(jobs),
  };
}

/** Marks inboxes stopped, reclaims what was never consumed, and closes the wake fds. */
function releaseInboxes(inboxes: Disruptor[], wakeFds: number[]): void {
  for (const d of inboxes) {
    d.setState(L.STATE_STOPPED);
    native.inboxDiscard(d.i32);
    const fd = d.detachWakeFd();
    if (fd >= 0) native.closeFd(fd);
  }
  wakeFds.length = 0;
}

/**
 * Waits for every reactor to be ready. On the first failure, gives the others a moment to finish
 * loading before the caller terminates them: a worker terminated mid-import leaves the module
 * files it was reading open.
 */
async function allReady(hosts: ReactorHost[]): Promise<void> {
  try {
    await Promise.all(hosts.map((h) => h.ready));
  } catch (e) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(hosts.map((h) => h.ready)),
      new Promise((r) => (timer = setTimeout(r, 5000))),
    ]);
    clearTimeout(timer);
    throw e;
  }
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
    for (let i = 0; i < opts.loops; i++) {
      const d = Disruptor.create({ slots: opts.inboxSlots });
      inboxes.push(d);
      const fd = native.createWakeFd();
      wakeFds.push(fd);
      Atomics.store(d.i32, L.WAKE_FD, fd);
      Atomics.store(d.i32, L.DGRAM_MAX, opts.maxDatagramSize);
    }
    const handle: EngineHandle = Object.freeze({ inboxes: Object.freeze(inboxes.map((d) => d.sab)), acks: AckTable.create() });
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
    const configFor = (i: number, incarnation = 0): ReactorConfig => ({
      // Refs held from a dead reactor must never match a connection of its successor.
      generationBase: (incarnation * GENERATIONS_PER_INCARNATION) >>> 0,
      connTable: connTables[i]!,
      index: i,
      loops: opts.loops,
      handle,
      readBufferCap: opts.readBufferCap,
      writeBufferCap: opts.writeBufferCap,
      ticker: opts.ticker,
      idleTimeout: opts.idleTimeout,
      writeHighWater: opts.writeBufferHighWater,
      socket: opts.socket,
      maxDatagramSize: opts.maxDatagramSize,
    });
    const makeWorkerHost = (i: number, incarnation = 0): ReactorHost =>
      new WorkerHost({ config: configFor(i, incarnation), handlerUrl, handlerOptions: opts.handlerOptions, pool: pool ? pool.queue.sab : null }, events);
    for (let i = 0; i < opts.loops; i++) {
      if (local) {
        const h = await buildHandler(handler, 'the handler object', {
          loop: 0,
          loops: 1,
          addrs: bound,
          options: opts.handlerOptions,
        });
        hosts.push(new LocalHost(configFor(i), h, events, opts.handlerOptions));
      } else {
        hosts.push(makeWorkerHost(i));
      }
    }
    await allReady(hosts);
    engine = new Engine({
      addrs: bound,
      opts,
      inboxes,
      wakeFds,
      hosts,
      makeHost: local ? undefined : makeWorkerHost,
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
