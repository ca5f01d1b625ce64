/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The Conn a handler sees for UDP: one object per datagram socket, re-pointed at each datagram
 * as it is delivered (no allocation per datagram). During `react` it is that datagram: read it
 * with the usual methods, and whatever is written goes back to its sender as one datagram per
 * write, sent as soon as the batch returns, unbuffered. Loop-only, like every Conn method not
 * marked thread-safe.
 */
import type { Conn, ConnRef, PublishResult, SocketOptions } from '../conn.js';
import { NO_PUBLISHER, publishLocal } from './local_publish.js';
import type { OutRecords } from './out_records.js';
import type { Delivery } from '../conn.js';
import type { Output } from '../handler.js';
import { native, type NativeLoop } from '../channel/native.js';
import type { Remote } from '../channel/remote.js';
import * as L from '../channel/layout.js';
import { ArenaWindow } from './arena_window.js';
import type { Offload } from './offload.js';

/** What a datagram socket needs from its reactor (Datagrams, lib/reactor/dgram_host.ts). */
export interface DatagramHost {
  readonly index: number;
  /** The read arena of the latest round (replaced when the native loop grows it). */
  readonly arena: Uint8Array;
  readonly remote: Remote;
  readonly loop: NativeLoop;
  readonly jobs: Offload;
  /** The reactor's out-records (a publish from a datagram's handler goes through them). */
  readonly out: OutRecords;
  /** Queues one datagram; `peer` is an out-arena offset of a peer record, or -(read-arena offset + 1). */
  sendDatagram(d: DgramConn, data: Output, peer: number): number;
  /** Queues one datagram to a "host:port" address. */
  sendDatagramTo(d: DgramConn, addr: string, data: Output): number;
}

/** One UDP socket as its handler sees it, re-pointed at each datagram it receives. */
export class DgramConn extends ArenaWindow implements Conn {
  readonly isDatagram = true;
  /** Datagrams are never TLS (DTLS is not supported). */
  readonly tls = null;
  /** Shared by every peer of this socket: keep per-peer state in a Map keyed by `remoteAddr`. */
  context: unknown = undefined;
  bytesRead = 0;
  bytesWritten = 0;
  open = true;
  /** The current datagram's peer record in the read arena (its bytes are the window [start, end)). */
  peerOff = 0;
  private peerName: string | undefined;
  private refCache: ConnRef | undefined;
  private local: string | undefined;

  constructor(
    private readonly host: DatagramHost,
    readonly slot: number,
    readonly gen: number,
    readonly listener: number,
  ) {
    super();
  }

  protected get arena(): Uint8Array {
    return this.host.arena;
  }
  protected handed(): void {
    // Datagram sends recognise read-arena views by their buffer (dgram_host.ts).
  }

  /** Points this object at the next datagram. */
  deliver(off: number, len: number): void {
    this.start = off;
    this.end = off + len;
    this.bytesRead += len;
    this.peerOff = off - L.PEER_BYTES;
    this.inView = true;
    this.peerName = undefined;
    this.refCache = undefined;
  }

  /** The current datagram's sender, with `peer` set: asyncWrite to it answers that sender. */
  get ref(): ConnRef {
    if (!this.inView) return (this.refCache ??= Object.freeze({ loop: this.host.index, slot: this.slot, generation: this.gen }));
    return (this.refCache ??= Object.freeze({ loop: this.host.index, slot: this.slot, generation: this.gen, peer: this.remoteAddr }));
  }
  get localAddr(): string {
    return (this.local ??= this.host.loop.address(this.slot, false));
  }
  /** The current datagram's sender as "host:port" ("" outside react). */
  get remoteAddr(): string {
    if (!this.inView) return '';
    return (this.peerName ??= native.peerFormat(this.host.arena, this.peerOff));
  }
  /** Datagrams are not framed: a codec applies to stream listeners only. */
  readonly frames = null;
  get inboundBuffered(): number {
    return this.inView ? this.end - this.start : 0;
  }
  /** Always 0: datagrams are never buffered. */
  get outboundBuffered(): number {
    return 0;
  }
  socketOptions(): SocketOptions | null {
    return this.open ? this.host.loop.socketOptions(this.slot) : null;
  }


  /** One datagram to the current datagram's sender (only during its react). */
  write(data: Uint8Array | string): number {
    const n = this.host.sendDatagram(this, data, this.replyPeer());
    this.bytesWritten += n;
    return n;
  }
  /** One datagram made of all the chunks, to the current datagram's sender. */
  writev(chunks: readonly (Uint8Array | string)[]): number {
    const n = this.host.sendDatagram(this, chunks, this.replyPeer());
    this.bytesWritten += n;
    return n;
  }
  /** One datagram to any address ("host:port" or "[v6]:port", numeric), from this socket. Any time while open. */
  sendTo(addr: string, data: Uint8Array | string): number {
    const n = this.host.sendDatagramTo(this, addr, data);
    this.bytesWritten += n;
    return n;
  }
  readonly dialed = false;
  readonly proxy = null;
  /** Stream connections only: a UDP socket has no connections to dial, half-close or pipe. */
  dial(): never {
    throw new TypeError('ringloop: dial is for stream connections (dial from a TCP/Unix Conn, info.dial or engine.dial)');
  }
  closeWrite(): never {
    throw new TypeError('ringloop: closeWrite is for stream connections');
  }
  pauseRead(): never {
    throw new TypeError('ringloop: pauseRead is for stream connections');
  }
  resumeRead(): never {
    throw new TypeError('ringloop: resumeRead is for stream connections');
  }
  pipe(): never {
    throw new TypeError('ringloop: pipe is for stream connections');
  }
  unpipe(): never {
    throw new TypeError('ringloop: unpipe is for stream connections');
  }
  /** Nothing to flush: datagrams leave when the batch returns. */
  flush(): void {}
  /** A no-op: the UDP socket belongs to the engine and serves every peer; it closes at stop. */
  close(): void {}
  /** Thread-safe: a datagram to the ref's peer (the current sender) through the reactor's inbox. */
  asyncWrite(data: Uint8Array | string): Delivery {
    return this.host.remote.asyncWrite(this.ref, data);
  }
  wake(): Delivery {
    throw new TypeError('ringloop: wake is for stream connections; a datagram socket has nothing to re-deliver');
  }
  setDeadline(): void {
    throw new TypeError('ringloop: deadlines are for stream connections, not datagram sockets');
  }
  setReadDeadline(): void {
    this.setDeadline();
  }
  setWriteDeadline(): void {
    this.setDeadline();
  }
  offload(payload: unknown, options?: { name?: string; timeout?: number }): void {
    this.host.jobs.offload(this, payload, options?.name ?? 'default', options?.timeout ?? 0);
  }
  subscribe(): boolean {
    throw new TypeError('ringloop: topics are for stream connections; a datagram socket serves many peers');
  }
  unsubscribe(): boolean {
    return false;
  }
  get topics(): string[] {
    return [];
  }
  /** Publishing from a datagram's handler is fine: it reaches the topic's (stream) subscribers. */
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.host.remote.publishFrom({ loop: this.host.index, slot: -1, generation: 0 }, topic, data, (framed) => publishLocal(this.host.out, framed, NO_PUBLISHER));
  }

  private replyPeer(): number {
    if (!this.inView) {
      throw new Error("ringloop: a datagram's Conn answers its sender only during react; later, use c.sendTo(addr) or asyncWrite(ref)");
    }
    return -(this.peerOff + 1);
  }
}
