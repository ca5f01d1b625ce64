/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The JS half of a reactor: receives each round's batch of events from the native loop in one
 * call, runs the handler, and answers with out-records (writes, leftovers to keep, closes) that the
 * native loop applies with writev once the call returns. Runs on a reactor thread (or, for a
 * single in-thread reactor, the engine's thread). Everything here is loop-only.
 */
import { Action, type EventHandler, type InitInfo, type ReactResult, type Output } from '../handler.js';
import { Delivery, type Conn, type ConnRef } from '../conn.js';
import { Disruptor } from '../channel/disruptor.js';
import { Remote } from '../channel/remote.js';
import { asError, errnoError } from '../errors.js';
import { native, type NativeLoop, type NativeSockOptions } from '../channel/native.js';
import { CONN_TABLE_SLOTS, type ReactorConfig, type ReactorHooks } from './config.js';
import { AckTable } from '../channel/acks.js';
import { OUT_CAP, OutRecords } from './out_records.js';
import { Offload } from './offload.js';
import { Datagrams } from './dgram_host.js';
import { ArenaWindow } from './arena_window.js';
import { Deadlines, deadlineMs, type Timed } from './deadlines.js';
import * as L from '../channel/layout.js';
import os from 'node:os';

export { CONN_TABLE_SLOTS, type ReactorConfig, type ReactorHooks } from './config.js';

const EV_CAP = 8192;
const ARENA_BYTES = 1 << 20;
const ECONNABORTED = os.constants.errno.ECONNABORTED;
const ECANCELED = os.constants.errno.ECANCELED;

class ConnImpl extends ArenaWindow implements Conn, Timed {
  readonly isDatagram = false;
  context: unknown = undefined;
  /** Bytes held natively between events. */
  held = 0;
  open = true;
  error: Error | undefined = undefined;
  dirty = false;
  /** Timing wheel entry: the earliest of the deadlines below (absolute ms, 0 = none). */
  deadline = 0;
  wheeled = false;
  idleAt = 0;
  readDl = 0;
  writeDl = 0;
  private refCache: ConnRef | undefined;
  private local: string | undefined;
  private remote: string | undefined;

  constructor(
    private readonly r: Reactor,
    readonly slot: number,
    readonly gen: number,
    readonly listener: number,
  ) {
    super();
  }

  protected get arena(): Uint8Array {
    return this.r.arena;
  }

  get ref(): ConnRef {
    return (this.refCache ??= Object.freeze({ loop: this.r.index, slot: this.slot, generation: this.gen }));
  }
  get localAddr(): string {
    return (this.local ??= this.r.address(this, false));
  }
  get remoteAddr(): string {
    return (this.remote ??= this.r.address(this, true));
  }
  get inboundBuffered(): number {
    return this.inView ? this.end - this.start : this.held;
  }
  get outboundBuffered(): number {
    return this.r.outboundBuffered(this);
  }
  socketOptions(): NativeSockOptions | null {
    return this.open ? this.r.socketOptions(this) : null;
  }


  write(data: Uint8Array | string): number {
    if (!this.open) throw new Error('ringloop: write on a closed connection');
    return this.r.write(this, data);
  }
  writev(chunks: readonly (Uint8Array | string)[]): number {
    let n = 0;
    for (const c of chunks) n += this.write(c);
    return n;
  }
  sendTo(): number {
    throw new TypeError('ringloop: sendTo is for datagram (UDP) sockets; a stream connection writes with write()');
  }
  flush(): void {
    this.r.out.flush();
  }
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.r.closeConn(this, 0);
  }
  /** The reactor closes it with `err` (a handler threw, a deadline passed, a job failed). */
  abort(err: Error, errno: number): void {
    this.error = err;
    this.open = false;
    this.r.closeConn(this, errno);
  }
  asyncWrite(data: Uint8Array | string): Delivery {
    return this.r.remote.asyncWrite(this.ref, data);
  }
  wake(): Delivery {
    return this.r.remote.wake(this.ref);
  }
  setDeadline(t: Date | number | null): void {
    this.readDl = deadlineMs(t);
    this.writeDl = deadlineMs(t);
    this.r.deadlines.reschedule(this);
  }
  setReadDeadline(t: Date | number | null): void {
    this.readDl = deadlineMs(t);
    this.r.deadlines.reschedule(this);
  }
  setWriteDeadline(t: Date | number | null): void {
    this.writeDl = deadlineMs(t);
    this.r.deadlines.reschedule(this);
  }
  offload(payload: unknown, options?: { name?: string; timeout?: number }): void {
    this.r.jobs.offload(this, payload, options?.name ?? 'default', options?.timeout ?? 0);
  }
}

export class Reactor {
  readonly index: number;
  readonly remote: Remote;
  arena: Uint8Array = new Uint8Array(0);
  private readonly loop: NativeLoop;
  private readonly events = new Int32Array(EV_CAP * L.EV_RECORD_INTS);
  readonly out: OutRecords;
  private readonly conns: (ConnImpl | undefined)[] = [];
  private readonly dgrams: Datagrams;
  private readonly touched: ConnImpl[] = [];
  readonly jobs: Offload;
  private tickTimer: NodeJS.Timeout | undefined;
  private destroyed = false;
  private readonly acks: AckTable;
  private readonly connTable: Int32Array;
  readonly deadlines: Deadlines;

  constructor(
    private readonly cfg: ReactorConfig,
    private readonly handler: EventHandler,
    private readonly hooks: ReactorHooks,
  ) {
    this.index = cfg.index;
    this.remote = new Remote(cfg.handle);
    this.acks = new AckTable(cfg.handle.acks);
    this.connTable = new Int32Array(cfg.connTable);
    const own = new Disruptor(cfg.handle.inboxes[cfg.index]!);
    this.out = new OutRecords(handler, hooks);
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
      },
      this.onBatch,
    );
    this.out.attach(this.loop);
    this.jobs = new Offload(this.out, hooks);
    this.deadlines = new Deadlines(cfg.idleTimeout, this.out, this.loop, this.conns);
    this.dgrams = new Datagrams({ cfg, handler, hooks, loop: this.loop, remote: this.remote }, this.out, this.jobs);
  }

  start(): void {
    this.loop.start();
  }

  /** Runs onInitComplete and starts the ticker; returns an Action. */
  init(info: InitInfo): void {
    const h = this.handler;
    if (h.onInitComplete) {
      try {
        const a = h.onInitComplete(info);
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
    if (arena !== out.readBuf) {
      out.readBuf = arena;
      this.arena = new Uint8Array(arena);
      this.dgrams.arena = this.arena;
    }
    out.begin();
    this.deadlines.round();
    const ev = this.events;
    for (let i = 0; i < n; i++) {
      const o = i * L.EV_RECORD_INTS;
      switch (ev[o]) {
        case L.EV_DATA:
          this.onData(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_DATAGRAM:
          this.dgrams.datagram(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_DGRAM_OPEN:
          this.dgrams.opened(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_OPEN:
          this.onOpen(ev[o + 1]!, ev[o + 2]!, ev[o + 3]!);
          break;
        case L.EV_CLOSED:
          if (!this.dgrams.closed(ev[o + 1]!)) this.onClosed(ev[o + 1]!, ev[o + 2]!);
          break;
        case L.EV_ACK:
          this.acks.settle(ev[o + 1]!, ev[o + 2]!);
          break;
        case L.EV_STOPPED:
          this.onStopped();
          break;
      }
    }
    this.endBatch();
    out.inRound = false;
    this.jobs.send();
    return out.take();
  };

  /** The engine reports a failed job: the handler decides, or the connection closes with the error. */
  jobFailed(ref: ConnRef, err: Error): void {
    if (!this.dgrams.jobFailed(ref, err) && !this.streamJobFailed(ref, err)) return;
    if (!this.out.inRound) this.out.flush();
  }

  /** A stream connection's job failed: the handler decides, or it closes with the error. False if it is gone. */
  private streamJobFailed(ref: ConnRef, err: Error): boolean {
    const c = this.conns[ref.slot];
    if (!c || c.gen !== ref.generation || !c.open) return false;
    const h = this.handler;
    if (h.onJobError) {
      try {
        this.action(c, h.onJobError(c, err) ?? Action.None);
      } catch (e) {
        this.fail(c, asError(e), 'onJobError');
      }
    } else {
      c.abort(err, ECONNABORTED);
    }
    return true;
  }

  private onOpen(slot: number, gen: number, listener: number): void {
    const c = new ConnImpl(this, slot, gen, listener);
    this.conns[slot] = c;
    if (slot < CONN_TABLE_SLOTS) {
      this.connTable[2 * slot + 1] = gen;
      Atomics.store(this.connTable, 2 * slot, 1);
    }
    if (this.cfg.idleTimeout > 0) this.deadlines.touch(c);
    if (!this.handler.onOpened) return;
    let res: ReactResult;
    try {
      res = this.handler.onOpened(c);
    } catch (e) {
      this.fail(c, asError(e), 'onOpened');
      return;
    }
    this.apply(c, res);
  }

  private onData(slot: number, off: number, len: number): void {
    const c = this.conns[slot];
    if (!c || !c.open) return;
    c.start = off;
    c.end = off + len;
    c.inView = true;
    this.touched.push(c);
    if (this.cfg.idleTimeout > 0) this.deadlines.touch(c);
    const react = this.handler.react;
    if (!react) {
      c.start = c.end;
      return;
    }
    let res: ReactResult;
    try {
      res = react.call(this.handler, c);
    } catch (e) {
      this.fail(c, asError(e), 'react');
      return;
    }
    if (res !== undefined) this.apply(c, res);
  }

  private onClosed(slot: number, errno: number): void {
    const c = this.conns[slot];
    if (!c) return;
    this.conns[slot] = undefined;
    c.open = false;
    c.inView = false;
    c.deadline = 0;
    if (slot < CONN_TABLE_SLOTS) Atomics.store(this.connTable, 2 * slot, 0);
    const err = c.error ?? (errno !== 0 ? errnoError(errno) : undefined);
    if (!this.handler.onClosed) return;
    try {
      const a = this.handler.onClosed(c, err);
      if (a === Action.Shutdown) this.hooks.shutdown();
    } catch (e) {
      this.hooks.handlerError(asError(e), 'onClosed');
    }
  }

  private onStopped(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    // After the batch returns: the native loop must not be destroyed under its own call.
    setImmediate(() => this.hooks.stopped());
  }

  /** Applies what onOpened/react returned. */
  private apply(c: ConnImpl, res: ReactResult): void {
    if (res === undefined || res === null) return;
    if (typeof res === 'number') {
      this.action(c, res);
      return;
    }
    if (typeof res === 'string' || res instanceof Uint8Array || Array.isArray(res)) {
      if (c.open) this.writeOutput(c, res as Output);
      return;
    }
    const r = res as { out?: Output; action?: Action };
    if (r.out !== undefined && c.open) this.writeOutput(c, r.out);
    if (r.action !== undefined) this.action(c, r.action);
  }

  private writeOutput(c: ConnImpl, out: Output): void {
    if (typeof out === 'string' || out instanceof Uint8Array) this.write(c, out);
    else for (const chunk of out) this.write(c, chunk);
  }

  private action(c: ConnImpl, a: number): void {
    if (a === Action.Close) c.close();
    else if (a === Action.Shutdown) this.hooks.shutdown();
  }

  /** A handler threw for this connection: close it (only it) and report the error. */
  private fail(c: ConnImpl, err: Error, event: string): void {
    this.hooks.handlerError(err, event);
    if (c.open) c.abort(err, ECONNABORTED);
  }

  write(c: ConnImpl, data: Uint8Array | string): number {
    if (this.cfg.idleTimeout > 0) this.deadlines.touch(c);
    const w = this.out;
    let bytes: Uint8Array;
    if (typeof data === 'string') {
      const len = Buffer.byteLength(data);
      if (len === 0) return 0;
      if (len <= w.outArena.byteLength - w.outPos && w.nOut < OUT_CAP) {
        w.outBuf.write(data, w.outPos);
        w.record(c, L.SRC_OUT_ARENA, w.outPos, len);
        w.outPos += len;
        return len;
      }
      bytes = Buffer.from(data);
    } else {
      bytes = data;
    }
    const len = bytes.byteLength;
    if (len === 0) return 0;
    if (w.nOut >= OUT_CAP) w.flush();
    if (w.inRound && bytes.buffer === w.readBuf) {
      // Bytes still in the read arena (e.g. echo): no copy, the native side writes them from there.
      w.record(c, L.SRC_READ_ARENA, bytes.byteOffset, len);
      return len;
    }
    if (len > w.outArena.byteLength - w.outPos) {
      w.flush();
      if (len > w.outArena.byteLength) {
        w.preWrite(c);
        this.loop.writeNow(c.slot, c.gen, bytes);
        return len;
      }
    }
    w.outArena.set(bytes, w.outPos);
    w.record(c, L.SRC_OUT_ARENA, w.outPos, len);
    w.outPos += len;
    return len;
  }

  closeConn(c: ConnImpl, errno: number): void {
    this.out.emit(L.OUT_CLOSE, c, 0, 0, errno);
  }

  /** Ends a batch: pre-writes, then leftovers to keep (the native side applies them after writes). */
  private endBatch(): void {
    this.out.runPreWrites();
    const t = this.touched;
    const out = this.out;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      c.inView = false;
      c.held = c.open ? c.end - c.start : 0;
      if (c.held > 0) out.push(L.OUT_KEEP, c, c.start, c.held, 0);
    }
    t.length = 0;
  }

  address(c: ConnImpl, peer: boolean): string {
    return c.open || this.conns[c.slot] === c ? this.loop.address(c.slot, peer) : '';
  }

  socketOptions(c: ConnImpl): NativeSockOptions | null {
    return this.conns[c.slot] === c ? this.loop.socketOptions(c.slot) : null;
  }

  outboundBuffered(c: ConnImpl): number {
    return this.conns[c.slot] === c ? this.loop.outboundBuffered(c.slot) : 0;
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
    this.deadlines.stop();
    this.loop.destroy();
  }

  /** Delivery for the inbox of this reactor, exposed for diagnostics. */
  get connections(): number {
    return this.conns.reduce((n, c) => (c ? n + 1 : n), 0);
  }
}

export { Delivery };
