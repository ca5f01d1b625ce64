/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The reactors' lifecycle as the engine sees it: starting their hosts (worker threads, or the one
 * local reactor) and waiting until each is ready; and, when a reactor thread dies, naming the
 * connections it lost, reclaiming its inbox and, with `restartReactors`, starting a fresh one in
 * its place. Start and restart share the reactor's configuration, so they live together.
 */
import type { ListenerProxy } from '../reactor/config.js';
import type { TlsListenerPlan } from './tls_options.js';
import type { NativeCodecSpec } from '../channel/codec_spec.js';
import type { EventEmitter } from 'node:events';
import type { Disruptor } from '../channel/disruptor.js';
import { native } from '../channel/native.js';
import * as L from '../channel/layout.js';
import type { EngineHandle } from '../channel/remote.js';
import type { EventHandler } from '../handler.js';
import { CONN_TABLE_SLOTS, type ReactorConfig } from '../reactor/reactor.js';
import { buildHandler } from './handler_loader.js';
import { Remote } from '../channel/remote.js';
import type { Handout } from './handout.js';
import type { ResolvedOptions } from './options.js';
import { openOwned, handOwned, type OwnedAddress } from './owned_sockets.js';
import { WorkerHost, LocalHost, type ReactorHost, type HostEvents } from './reactor_host.js';

/**
 * A restarted reactor's slot generations start this far past its predecessor's: a stale ref could
 * only match again after one slot was reused 16 million times.
 */
const GENERATIONS_PER_INCARNATION = 1 << 24;

/** Starts a reactor host for reactor `loop` in its `incarnation` (0 at serve, +1 per restart). */
export type HostFactory = (loop: number, incarnation: number) => ReactorHost;

/** What `startHosts` needs to start the reactors. */
export interface HostPlan {
  /** The handler module (or, with `local`, the handler object). */
  readonly handler: string | URL | EventHandler;
  /** One reactor on this thread, running the handler object. */
  readonly local: boolean;
  /** The handler module's URL ('' when local). */
  readonly handlerUrl: string;
  readonly opts: ResolvedOptions;
  readonly handle: EngineHandle;
  /** The pool's job queue, shared with every reactor (null without a pool). */
  readonly poolQueue: SharedArrayBuffer | null;
  readonly events: HostEvents;
  /** Bound addresses, for the local handler's init info. */
  readonly bound: readonly string[];
  /** One connection table per reactor (see `ReactorConfig.connTable`). */
  readonly connTables: readonly SharedArrayBuffer[];
  /** Per listener, its TLS plan (null: plain). */
  readonly tls: readonly (TlsListenerPlan | null)[];
  /** Per listener, its PROXY-protocol mode (null: none). */
  readonly proxy?: readonly (ListenerProxy | null)[];
  /** Per listener, its codec from serve's options (false: none; null: the handler's applies). */
  readonly codecs?: readonly (NativeCodecSpec | false | null)[];
}

/**
 * Starts one host per reactor, appending each to `hosts` (so a failure leaves them for the caller
 * to terminate), and waits until every one is ready. Returns how to start a reactor again, which
 * only worker reactors can be (undefined when local).
 */
export async function startHosts(plan: HostPlan, hosts: ReactorHost[]): Promise<HostFactory | undefined> {
  const { opts } = plan;
  const configFor = (i: number, incarnation = 0): ReactorConfig => ({
    // Refs held from a dead reactor must never match a connection of its successor.
    generationBase: (incarnation * GENERATIONS_PER_INCARNATION) >>> 0,
    connTable: plan.connTables[i]!,
    index: i,
    loops: opts.loops,
    handle: plan.handle,
    readBufferCap: opts.readBufferCap,
    writeBufferCap: opts.writeBufferCap,
    ticker: opts.ticker,
    idleTimeout: opts.idleTimeout,
    writeHighWater: opts.writeBufferHighWater,
    socket: opts.socket,
    maxDatagramSize: opts.maxDatagramSize,
    tls: plan.tls,
    proxy: plan.proxy,
    codecs: plan.codecs,
    debug: opts.debug,
  });
  const makeWorkerHost = (i: number, incarnation = 0): ReactorHost =>
    new WorkerHost(
      {
        config: configFor(i, incarnation),
        handlerUrl: plan.handlerUrl,
        handlerOptions: opts.handlerOptions,
        pool: plan.poolQueue,
      },
      plan.events,
    );
  for (let i = 0; i < opts.loops; i++) {
    if (plan.local) {
      const h = await buildHandler(plan.handler, 'the handler object', {
        loop: 0,
        loops: 1,
        addrs: plan.bound,
        options: opts.handlerOptions,
        remote: new Remote(plan.handle),
        handle: plan.handle,
      });
      hosts.push(new LocalHost(configFor(i), h, plan.events, opts.handlerOptions));
    } else {
      hosts.push(makeWorkerHost(i));
    }
  }
  await allReady(hosts);
  return plan.local ? undefined : makeWorkerHost;
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

/** What a running engine's reactors are, for `ReactorLifecycle`. */
export interface LifecycleParts {
  /** The live hosts, one per reactor; a restart replaces its entry in place. */
  readonly hosts: ReactorHost[];
  /** Starts a fresh reactor (undefined: a local reactor, never restarted). */
  readonly makeHost: HostFactory | undefined;
  /** Sockets each reactor owns (UDP, reusePort): reopened for a restarted reactor. */
  readonly owned: readonly OwnedAddress[];
  readonly connTables: readonly SharedArrayBuffer[];
  readonly inboxes: readonly Disruptor[];
  readonly addrs: readonly string[];
  readonly opts: ResolvedOptions;
  readonly handout: Handout;
  /** The engine: emits `reactorError`, `connectionLost` and `reactorRestarted`. */
  readonly emitter: EventEmitter;
  /** Whether the engine is stopping (then a dead reactor is left dead). */
  readonly stopping: () => boolean;
}

/** Handles reactor deaths and restarts for a running engine. */
export class ReactorLifecycle {
  /** The live hosts, one per reactor (a restart replaces its entry). */
  readonly hosts: ReactorHost[];
  /** Restarts per reactor: a fresh reactor's generations start past its predecessors'. */
  private readonly incarnations: number[];
  private readonly connTables: Int32Array[];

  constructor(private readonly parts: LifecycleParts) {
    this.hosts = parts.hosts;
    this.incarnations = parts.inboxes.map(() => 0);
    this.connTables = parts.connTables.map((b) => new Int32Array(b));
  }

  /**
   * A reactor thread died (an uncaught error in handler code outside the events, or it exited).
   * Its descriptors were closed by its teardown; its connections are lost. New connections go to
   * the other reactors; with `restartReactors` a fresh one takes its place.
   */
  died(err: Error, loop: number): void {
    const { emitter, handout, opts } = this.parts;
    if (this.parts.stopping()) return;
    const d = this.parts.inboxes[loop]!;
    // Its teardown counts its connections down as it closes them, concurrently with this event:
    // its conn table (written only by its handler thread, which is gone) still names them.
    const table = this.connTables[loop]!;
    let named = 0;
    for (let slot = 0; slot < CONN_TABLE_SLOTS; slot++) if (Atomics.load(table, 2 * slot) === 1) named++;
    const lost = Math.max(d.connections, named);
    handout.setAlive(loop, false);
    d.setState(L.STATE_STOPPED); // asyncWrite & co. answer 'stopped' meanwhile
    if (emitter.listenerCount('reactorError') > 0) emitter.emit('reactorError', err, loop, lost);
    else console.error(`ringloop: reactor ${loop} died (${lost} connections lost):`, err);
    // Once its thread is gone (its teardown closes its fds), the engine reclaims what the dead
    // consumer never took, closing handed-over fds, and resets its counters.
    void this.hosts[loop]!.stopped.then(() => {
      // The onClosed its handler can no longer run: one 'connectionLost' per connection it held.
      for (let slot = 0; slot < CONN_TABLE_SLOTS; slot++) {
        if (Atomics.load(table, 2 * slot) !== 1) continue;
        Atomics.store(table, 2 * slot, 0);
        emitter.emit('connectionLost', Object.freeze({ loop, slot, generation: table[2 * slot + 1]! }), err);
      }
      native.inboxDiscard(d.i32);
      Atomics.store(d.i32, L.CONNS, 0);
      Atomics.store(d.i32, L.ACCEPTED, handout.publishedTo(loop));
      if (opts.restartReactors && this.parts.makeHost && !this.parts.stopping()) void this.restart(loop);
    });
  }

  private async restart(loop: number): Promise<void> {
    const { owned, opts } = this.parts;
    const host = this.parts.makeHost!(loop, ++this.incarnations[loop]!);
    const fds: number[] = [];
    try {
      await host.ready;
      await host.init(this.parts.addrs);
      // The dead reactor's own sockets closed with it: the new one gets fresh ones on the same ports.
      for (const a of owned) fds.push(openOwned(a, a.port, opts).fd);
    } catch (e) {
      for (const fd of fds) native.closeFd(fd);
      await host.terminate().catch(() => undefined);
      this.parts.emitter.emit('reactorError', e instanceof Error ? e : new Error(String(e)), loop, 0);
      return;
    }
    if (this.parts.stopping()) {
      for (const fd of fds) native.closeFd(fd);
      await host.terminate();
      return;
    }
    handOwned(this.parts.inboxes[loop]!, owned, fds);
    this.hosts[loop] = host;
    this.parts.inboxes[loop]!.setState(L.STATE_RUNNING);
    this.parts.handout.setAlive(loop, true);
    this.parts.emitter.emit('reactorRestarted', loop);
  }
}
