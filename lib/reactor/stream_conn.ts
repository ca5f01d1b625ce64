/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The Conn a handler sees for a stream connection (TCP, Unix): one object per connection, alive
 * from onOpened to onClosed. Its read window is on the reactor's read arena during the event that
 * delivered the bytes; what it writes becomes out-records. It reaches the rest of the reactor
 * through its host (streams.ts) and calls the host's parts directly, so a Conn method adds no call
 * layer of its own. Loop-only, like every Conn method not marked thread-safe.
 */
import type { Conn, ConnRef, Delivery, PublishResult, TlsInfo } from '../conn.js';
import { topicView } from '../channel/topics.js';
import { publishLocal } from './local_publish.js';
import type { DialOptions, ProxyInfo } from '../dial.js';
import { pipeConn, proxyInfoOf, type StreamControlHost } from './stream_control.js';
import type { Remote } from '../channel/remote.js';
import type { NativeLoop, NativeSockOptions } from '../channel/native.js';
import * as L from '../channel/layout.js';
import { ArenaWindow } from './arena_window.js';
import { deadlineMs, type Deadlines, type Timed } from './deadlines.js';
import type { Offload } from './offload.js';
import type { OutRecords, WriteTarget } from './out_records.js';
import type { FrameView } from './frames.js';
import type { Frames } from '../codec.js';
import { checkWriter, debug } from './debug.js';

/** What a stream connection needs from its reactor (implemented by Streams, streams.ts). */
export interface StreamHost extends StreamControlHost {
  readonly index: number;
  /** The read arena of the latest round (replaced when the native loop grows it). */
  readonly arena: Uint8Array;
  readonly remote: Remote;
  readonly loop: NativeLoop;
  /** The slot table: a connection answers for its socket only while it is still in it. */
  readonly conns: readonly (StreamConn | undefined)[];
  readonly out: OutRecords;
  readonly deadlines: Deadlines;
  readonly jobs: Offload;
  /** A write to `c` (activity for its idle deadline), as out-records; returns the byte count. */
  write(c: StreamConn, data: Uint8Array | string): number;
  /** The reactor's view over its frame table (null: no listener has a codec). */
  readonly frameView: FrameView | null;
}

/** One stream connection, as its handler and its reactor see it. */
export class StreamConn extends ArenaWindow implements Conn, WriteTarget, Timed {
  readonly isDatagram = false;
  context: unknown = undefined;
  bytesRead = 0;
  bytesWritten = 0;
  /** Bytes held natively between events. */
  held = 0;
  open = true;
  /** Why it closed, when the reactor closed it (onClosed hears this before the socket's errno). */
  error: Error | undefined = undefined;
  dirty = false;
  /** Timing wheel entry: the earliest of the deadlines below (absolute ms, 0 = none). */
  deadline = 0;
  wheelAt = 0;
  idleAt = 0;
  readDl = 0;
  writeDl = 0;
  /** Dialed by this reactor (reactor/dial.ts), not accepted. */
  dialed = false;
  /** Accepted on a listener with proxyProtocol: its addresses may come from the PROXY header. */
  proxied = false;
  /** closeWrite() was called: writing throws. */
  writeShut = false;
  private proxyCache: ProxyInfo | null | undefined;
  /** Its group in the frame table during a framed event (EV_FRAMES), else -1. */
  group = -1;
  private refCache: ConnRef | undefined;
  private local: string | undefined;
  private remote: string | undefined;

  constructor(
    private readonly s: StreamHost,
    readonly slot: number,
    readonly gen: number,
    readonly listener: number,
  ) {
    super();
  }

  protected get arena(): Uint8Array {
    return this.s.arena;
  }
  protected handed(v: Uint8Array): void {
    this.s.out.lastView = v;
  }

  get ref(): ConnRef {
    return (this.refCache ??= Object.freeze({ loop: this.s.index, slot: this.slot, generation: this.gen }));
  }
  get localAddr(): string {
    return (this.local ??= (this.proxied && this.proxy?.dest) || this.address(false));
  }
  get remoteAddr(): string {
    return (this.remote ??= (this.proxied && this.proxy?.source) || this.address(true));
  }
  get proxy(): ProxyInfo | null {
    if (!this.proxied) return null;
    if (this.proxyCache === undefined && (this.open || this.s.conns[this.slot] === this)) {
      this.proxyCache = proxyInfoOf(this.s.loop, this.slot);
    }
    return this.proxyCache ?? null;
  }
  get tls(): TlsInfo | null {
    return this.open || this.s.conns[this.slot] === this ? this.s.loop.tlsInfo(this.slot) : null;
  }
  get frames(): Frames | null {
    return this.group >= 0 ? this.s.frameView!.at(this.group) : null;
  }
  get inboundBuffered(): number {
    return this.inView ? this.end - this.start : this.held;
  }
  get outboundBuffered(): number {
    return this.s.conns[this.slot] === this ? this.s.loop.outboundBuffered(this.slot) : 0;
  }
  socketOptions(): NativeSockOptions | null {
    return this.open && this.s.conns[this.slot] === this ? this.s.loop.socketOptions(this.slot) : null;
  }

  write(data: Uint8Array | string): number {
    if (!this.open) throw new Error('ringloop: write on a closed connection');
    if (this.writeShut) throw new Error('ringloop: write after closeWrite');
    if (debug.on) checkWriter(this.s.out, this.s.index);
    const n = this.s.write(this, data);
    this.bytesWritten += n;
    return n;
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
    this.s.out.flush();
  }
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.s.out.emit(L.OUT_CLOSE, this, 0, 0, 0);
  }
  /** The reactor closes it with `err` (a handler threw, a deadline passed, a job failed). */
  abort(err: Error, errno: number): void {
    this.error = err;
    this.open = false;
    this.s.out.emit(L.OUT_CLOSE, this, 0, 0, errno);
  }
  asyncWrite(data: Uint8Array | string): Delivery {
    return this.s.remote.asyncWrite(this.ref, data);
  }
  wake(): Delivery {
    return this.s.remote.wake(this.ref);
  }
  setDeadline(t: Date | number | null): void {
    this.readDl = deadlineMs(t);
    this.writeDl = deadlineMs(t);
    this.s.deadlines.reschedule(this);
  }
  setReadDeadline(t: Date | number | null): void {
    this.readDl = deadlineMs(t);
    this.s.deadlines.reschedule(this);
  }
  setWriteDeadline(t: Date | number | null): void {
    this.writeDl = deadlineMs(t);
    this.s.deadlines.reschedule(this);
  }
  offload(payload: unknown, options?: { name?: string; timeout?: number }): void {
    this.s.jobs.offload(this, payload, options?.name ?? 'default', options?.timeout ?? 0);
  }
  dial(addr: string, options?: DialOptions): ConnRef {
    return this.s.dialer.dial(addr, options);
  }
  closeWrite(): void {
    if (!this.open || this.writeShut) return;
    this.writeShut = true;
    this.s.out.emit(L.OUT_CLOSE_WRITE, this, 0, 0, 0);
  }
  pauseRead(): void {
    if (this.open) this.s.loop.setPaused(this.slot, this.gen, true);
  }
  resumeRead(): void {
    if (this.open) this.s.loop.setPaused(this.slot, this.gen, false);
  }
  pipe(other: Conn): void {
    pipeConn(this.s, this, other);
  }
  unpipe(): void {
    if (this.open) this.s.loop.setPipe(this.slot, this.gen, -1, 0);
  }

  subscribe(topic: string | Uint8Array): boolean {
    if (!this.open) throw new Error('ringloop: subscribe on a closed connection');
    return this.s.loop.subscribe(this.slot, this.gen, topicView(topic)) === 1;
  }
  unsubscribe(topic: string | Uint8Array): boolean {
    return this.s.loop.unsubscribe(this.slot, this.gen, topicView(topic)) === 1;
  }
  get topics(): string[] {
    return this.s.conns[this.slot] === this ? this.s.loop.topics(this.slot, this.gen) : [];
  }
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.s.remote.publishFrom(this.ref, topic, data, this.localPub ??= (framed) => publishLocal(this.s.out, framed, this));
  }
  /** This connection's publishLocal, made on its first publish. */
  private localPub: ((framed: Uint8Array) => boolean) | undefined;

  /** "" once the connection has left the slot table (its slot may name another socket by then). */
  private address(peer: boolean): string {
    return this.open || this.s.conns[this.slot] === this ? this.s.loop.address(this.slot, peer) : '';
  }
}
