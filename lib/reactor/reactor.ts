/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The JS half of a reactor: receives each round's batch of events from the native loop in one
 * call, hands each event to the part it concerns (stream connections, datagram sockets, acks), and
 * answers with out-records (writes, leftovers to keep, closes) that the native loop applies with
 * writev once the call returns. Also the reactor's lifecycle: onInitComplete, the ticker, stop and
 * destroy. Runs on a reactor thread (or, for a single in-thread reactor, the engine's thread).
 * Everything here is loop-only. The parts: streams.ts (with stream_conn.ts and deadlines.ts),
 * dgram_host.ts (with dgram_conn.ts), out_records.ts, offload.ts.
 */
import os from 'node:os';
import { Action, type EventHandler, type InitInfo } from '../handler.js';
import { Delivery, type ConnRef } from '../conn.js';
import { Disruptor } from '../channel/disruptor.js';
import { Remote } from '../channel/remote.js';
import { native, type NativeLoop } from '../channel/native.js';
import { AckTable } from '../channel/acks.js';
import * as L from '../channel/layout.js';
import { asError } from '../errors.js';
import type { ReactorConfig, ReactorHooks } from './config.js';
import { Datagrams } from './dgram_host.js';
import { Offload } from './offload.js';
import { OutRecords } from './out_records.js';
import type { ReactorBase } from './part.js';
import { Streams } from './streams.js';
import { TOPIC_BUCKETS } from '../channel/topics.js';
import { FrameView, frameTableInts } from './frames.js';
import { codecSpec, type NativeCodecSpec } from '../channel/codec_spec.js';
import { debug, enableDebug, expireViews } from './debug.js';
import { setRoundClock } from '../loop_clock.js';

/** A TLS connection closed before its handshake completed (native/reactor.h ev::kRejected). */
const EV_REJECTED = native.tlsConstants.EV_REJECTED;
/** Data framed by the listener's codec (native/reactor.h ev::kFrames). */
const EV_FRAMES = native.codecConstants.EV_FRAMES;

export { CONN_TABLE_SLOTS, type ReactorConfig, type ReactorHooks } from './config.js';

const EV_CAP = 8192;
const ARENA_BYTES = 1 << 20;
const ECANCELED = os.constants.errno.ECANCELED;

/** One reactor: its native loop, the batch dispatch, and the parts each event goes to. */
export class Reactor {
  readonly index: number;
  readonly remote: Remote;
  private readonly loop: NativeLoop;
  private readonly events = new Int32Array(EV_CAP * L.EV_RECORD_INTS);
  private readonly out: OutRecords;
  private readonly streams: Streams;
  private readonly dgrams: Datagrams;
  private readonly jobs: Offload;
  private readonly acks: AckTable;
  private tickTimer: NodeJS.Timeout | undefined;
  private destroyed = false;

  constructor(
    private readonly cfg: ReactorConfig,
    private readonly handler: EventHandler,
    private readonly hooks: ReactorHooks,
  ) {
    this.index = cfg.index;
    if (cfg.debug) enableDebug();
    this.remote = new Remote(cfg.handle);
    this.acks = new AckTable(cfg.handle.acks);
    const own = new Disruptor(cfg.handle.inboxes[cfg.index]!);
    this.out = new OutRecords(handler, hooks);
    const codecs = listenerCodecs(cfg, handler);
    const frameTable = codecs.some((c) => c !== null) ? new Int32Array(frameTableInts()) : undefined;
    this.loop = new native.Loop(
      own.i32,
      this.events,
      this.out.out,
      this.out.outArena,
      {
        readBufferCap: cfg.readBufferCap,
        writeBufferCap: cfg.writeBufferCap,
        writeHighWater: cfg.writeHighWater,
        arenaBytes: ARENA_BYTES,
        socket: cfg.socket,
        maxDatagramSize: cfg.maxDatagramSize,
        generationBase: cfg.generationBase,
        frames: frameTable,
      },
      this.onBatch,
    );
    codecs.forEach((c, i) => {
      if (c) this.loop.setListenerCodec(i, c);
    });
    this.out.attach(this.loop);
    this.loop.setTopicDirectory(new Int32Array(cfg.handle.topics), TOPIC_BUCKETS, cfg.handle.inboxes.length, cfg.index);
    cfg.tls.forEach((t, i) => {
      if (t) this.loop.setListenerTls(i, t.context, t.handshakeTimeout, t.maxHandshakeBytes);
    });
    const base: ReactorBase = { cfg, handler, hooks, loop: this.loop, remote: this.remote };
    this.jobs = new Offload(this.out, hooks);
    this.streams = new Streams(base, this.out, this.jobs, this.acks);
    // Outbound connections, half-close, PROXY listeners (dial.ts, reactor_dial.cc).
    if (handler.onReadClosed) this.loop.setHalfClose(true);
    cfg.proxy?.forEach((p, i) => {
      if (p) this.loop.setListenerProxy(i, p.required ? 1 : 2, p.headerTimeout);
    });
    this.dgrams = new Datagrams(base, this.out, this.jobs);
    if (frameTable) this.streams.frameView = new FrameView(frameTable);
  }

  /** Starts the native loop (nested in this thread's libuv loop). */
  start(): void {
    this.loop.start();
  }

  /** Runs onInitComplete and starts the ticker (on reactor 0 only). */
  init(info: Omit<InitInfo, 'remote' | 'handle'>): void {
    const h = this.handler;
    if (h.onInitComplete) {
      try {
        const a = h.onInitComplete({
          ...info,
          remote: this.remote,
          handle: this.cfg.handle,
          dial: (addr, o) => this.streams.dialer.dial(addr, o),
        });
        if (a === Action.Shutdown) this.hooks.shutdown();
      } catch (e) {
        this.hooks.handlerError(asError(e), 'onInitComplete');
      }
    }
    if (this.cfg.ticker && this.index === 0 && h.tick) this.tickTimer = setTimeout(this.runTick, 0);
  }

  private runTick = (): void => {
    this.tickTimer = undefined;
    if (this.destroyed) return;
    let delay = 1000;
    try {
      const r = this.handler.tick!();
      if (typeof r === 'number') delay = r;
      else if (r && typeof r === 'object') {
        if (typeof r.delay === 'number') delay = r.delay;
        if (r.action === Action.Shutdown) {
          this.hooks.shutdown();
          return;
        }
      }
    } catch (e) {
      this.hooks.handlerError(asError(e), 'tick');
    }
    if (!Number.isFinite(delay) || delay < 0) delay = 1000;
    this.tickTimer = setTimeout(this.runTick, delay);
  };

  /** Called by the native loop once per round with `n` event records. Returns the out-record count. */
  private onBatch = (n: number, arena: ArrayBuffer): number => {
    const out = this.out;
    if (arena !== out.readBuf) this.newArena(arena);
    out.begin();
    if (debug.on) debug.round = out;
    const streams = this.streams;
    const dgrams = this.dgrams;
    // One clock read per round, for the idle deadlines and for handlers (loopNow).
    const now = Date.now();
    setRoundClock(now);
    streams.deadlines.round(now);
    const ev = this.events;
    for (let i = 0; i < n; i++) {
      const o = i * L.EV_RECORD_INTS;
      switch (ev[o]) {
        case L.EV_DATA:
          streams.data(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case EV_FRAMES:
          streams.framed(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_DATAGRAM:
          dgrams.datagram(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_DGRAM_OPEN:
          dgrams.opened(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_OPEN:
          streams.opened(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_CLOSED:
          if (!dgrams.closed(ev[o + 1]!)) streams.closed(ev[o + 1]!, ev[o + 2]!);
          break;
        case EV_REJECTED:
          streams.rejected(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_ACK:
          this.acks.settle(ev[o + 1]!, ev[o + 2]!);
          break;
        case L.EV_STOPPED:
          this.onStopped();
          break;
        case L.EV_DIAL_FAILED:
          streams.dialer.failed(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_READ_CLOSED:
          streams.readClosed(ev[o + 1]!, ev[o + 2]!);
          break;
        case L.EV_DIAL_REQUEST:
          streams.dialer.requests();
          break;
      }
      if (debug.on) expireViews();
    }
    // Pre-writes, then leftovers to keep (the native side applies them after the writes).
    out.runPreWrites();
    streams.keepLeftovers();
    out.inRound = false;
    setRoundClock(0);
    if (debug.on) debug.round = undefined;
    this.jobs.send();
    return out.take();
  };

  /** The native loop grew (replaced) its read arena: every part that reads it follows. */
  private newArena(arena: ArrayBuffer): void {
    const view = new Uint8Array(arena);
    this.out.readBuf = arena;
    this.streams.arena = view;
    this.dgrams.arena = view;
  }

  private onStopped(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    // After the batch returns: the native loop must not be destroyed under its own call.
    setImmediate(() => this.hooks.stopped());
  }

  /** The engine reports a failed job: the handler decides, or the connection closes with the error. */
  jobFailed(ref: ConnRef, err: Error): void {
    if (!this.dgrams.jobFailed(ref, err) && !this.streams.jobFailed(ref, err)) return;
    if (!this.out.inRound) this.out.flush();
  }

  /** Stop timeout passed: close whatever is still flushing. */
  forceClose(): void {
    if (!this.destroyed) this.loop.closeAll(ECANCELED);
  }

  /** Releases the native loop and every descriptor it owns. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.out.detach();
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.streams.deadlines.stop();
    this.loop.destroy();
  }

  /** Open stream connections on this reactor, for diagnostics. */
  get connections(): number {
    return this.streams.count;
  }
}

export { Delivery };

/**
 * Each listener's codec: serve's (per address, or for all), else the handler's own; null for
 * none. The handler's is checked here, in the reactor that loaded it: a bad one fails the start.
 */
function listenerCodecs(cfg: ReactorConfig, handler: EventHandler): (NativeCodecSpec | null)[] {
  const own = codecSpec(handler.codec, "the handler's codec");
  const n = Math.max(cfg.tls.length, cfg.codecs?.length ?? 0);
  const out: (NativeCodecSpec | null)[] = [];
  for (let i = 0; i < n; i++) {
    const c = cfg.codecs?.[i];
    out.push(c === false ? null : (c ?? own));
  }
  return out;
}
