/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * What `serve()` does, in order: resolve its options and addresses, bind, create the inboxes and
 * the pool, start the reactors and wait until they are ready, build the engine, then go live (the
 * reactors get their addresses and sockets, the acceptor starts). Any failure on the way undoes
 * everything made so far. The engine class is passed in (`build`) rather than imported, so this
 * file and engine.ts, which exports `serve`, do not import each other.
 */
import type { ListenerProxy } from '../reactor/config.js';
import fs from 'node:fs';
import type { Disruptor } from '../channel/disruptor.js';
import { native, type NativeAcceptor } from '../channel/native.js';
import type { EngineHandle } from '../channel/remote.js';
import type { EventHandler } from '../handler.js';
import { Pool, type PoolOptions } from '../pool/pool.js';
import type { JobRequest } from '../pool/tasks.js';
import { CONN_TABLE_SLOTS } from '../reactor/reactor.js';
import { parseAddress, resolveAddress, type ListenAddress } from './address.js';
import { planTls, releaseAll, type ListenSpec, type TlsListenerPlan } from './tls_options.js';
import { resolveHandlerUrl } from './handler_loader.js';
import { createInboxes, releaseInboxes } from './inboxes.js';
import { boundSockets, closeUnowned, handOver, listenAll } from './listeners.js';
import { resolveOptions, type ResolvedOptions, type ServeOptions } from './options.js';
import type { OwnedAddress } from './owned_sockets.js';
import { startHosts, type HostFactory } from './reactor_lifecycle.js';
import type { HostEvents, ReactorHost } from './reactor_host.js';

/** Everything serve made that the engine runs with (the Engine constructor's argument). */
export interface EngineParts {
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
  /** Per listener, its TLS plan (null: plain); the contexts are released at stop. */
  tls: (TlsListenerPlan | null)[];
}

/** Per listener, its PROXY-protocol mode (null: none), from the address objects. */
function planProxy(list: readonly (string | ListenSpec)[]): (ListenerProxy | null)[] {
  return list.map((spec) => {
    if (typeof spec !== 'object' || spec === null || !spec.proxyProtocol) return null;
    const t = spec.proxyHeaderTimeout ?? 10_000;
    if (spec.proxyProtocol !== true && spec.proxyProtocol !== 'optional') {
      throw new TypeError(`proxyProtocol must be true, false or 'optional' (got ${String(spec.proxyProtocol)})`);
    }
    if (!(t >= 0 && t <= 0x7fffffff)) throw new RangeError('proxyHeaderTimeout must be 0..2^31-1 ms');
    return { required: spec.proxyProtocol === true, headerTimeout: Math.floor(t) };
  });
}

/** What the startup calls on the engine it built: where the acceptor and the reactors report. */
export interface EngineSink {
  /** The acceptor accepted `n` connections (triples in the accept buffer). */
  onAccept(n: number): void;
  /** Where the reactors' reports go once the engine exists. */
  readonly hostEvents: HostEvents;
  /** A reactor's batch of offloaded jobs (only wired with a pool). */
  runJobs(jobs: JobRequest[]): void;
  /** serve() is about to resolve with this engine. */
  started(): void;
}

/** `serve()`'s whole sequence; `build` makes the engine from its parts once the reactors are ready. */
export async function startUp<E extends EngineSink>(
  handler: string | URL | EventHandler,
  addr: string | ListenSpec | readonly (string | ListenSpec)[],
  options: ServeOptions,
  build: (parts: EngineParts) => E,
): Promise<E> {
  const opts = resolveOptions(options);
  const list: (string | ListenSpec)[] = Array.isArray(addr) ? [...(addr as readonly (string | ListenSpec)[])] : [addr as string | ListenSpec];
  if (list.length === 0) throw new TypeError('serve needs at least one listen address');
  const parsed: ListenAddress[] = [];
  for (const a of list) {
    const s = typeof a === 'object' && a !== null ? a.addr : a;
    parsed.push(await resolveAddress(parseAddress(s)));
  }
  const local = typeof handler === 'object' && handler !== null && !(handler instanceof URL);
  if (local && opts.loops !== 1) {
    throw new TypeError(
      `a handler object runs on the calling thread and needs numEventLoop: 1 (got ${opts.loops}); pass a module path for several reactors`,
    );
  }
  const handlerUrl = local ? '' : resolveHandlerUrl(handler as string | URL);
  const proxy = planProxy(list);
  const tls = planTls(list, parsed, options.tls);

  const inboxes: Disruptor[] = [];
  const wakeFds: number[] = [];
  const hosts: ReactorHost[] = [];
  const sockets = boundSockets();
  const acceptOut = new Int32Array(3 * 256);
  let engine: E | undefined;
  const acceptor = new native.Acceptor(
    acceptOut,
    { ...opts.socket, hashPeers: opts.loadBalancing === 'source-addr-hash' },
    (n) => engine?.onAccept(n),
  );
  let pool: Pool | undefined;
  const cleanup = async (): Promise<void> => {
    closeUnowned(sockets);
    acceptor.close();
    await pool?.destroy().catch(() => undefined);
    await Promise.all(hosts.map((h) => h.terminate().catch(() => undefined)));
    releaseInboxes(inboxes, wakeFds);
    for (const p of sockets.unixPaths) fs.rmSync(p, { force: true });
    releaseAll(tls);
  };

  try {
    const bound = await listenAll(parsed, opts, acceptor, sockets);
    const handle = createInboxes(opts, inboxes, wakeFds);
    if (options.pool) {
      if (options.pool === true && local) throw new TypeError('pool: true uses the handler module as the pool module; pass pool.filename with a handler object');
      const po: PoolOptions = options.pool === true ? { filename: new URL(handlerUrl) } : options.pool;
      // Failures of channel jobs (threw, timed out running, thread died) go to the owning reactor.
      pool = new Pool(po, handle, (ref, err) => hosts[ref.loop]?.jobError(ref, err));
    }
    // Until the engine exists, reactors report here; messages posted meanwhile (from onInitComplete) wait.
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
      { handler, local, handlerUrl, opts, handle, poolQueue: pool ? pool.queue.sab : null, events, bound, connTables, tls, proxy },
      hosts,
    );
    engine = build({
      addrs: bound,
      opts,
      inboxes,
      wakeFds,
      hosts,
      makeHost,
      owned: sockets.owned,
      acceptor,
      acceptOut,
      unixPaths: sockets.unixPaths,
      pool,
      handle,
      connTables,
      tls,
    });
    for (const [m, l] of early) engine.hostEvents.message(m, l);
    await Promise.all(hosts.map((h) => h.init(bound)));
    handOver(sockets, inboxes); // the reactors own their sockets now
    acceptor.resume();
    engine.started();
    return engine;
  } catch (e) {
    await cleanup();
    throw e;
  }
}
