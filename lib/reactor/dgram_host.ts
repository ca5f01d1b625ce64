/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The datagram side of a reactor: its UDP sockets by slot (each a DgramConn, dgram_conn.ts), the
 * delivery of each datagram to react, and datagram sends. A send is one out-record (L.OUT_SENDTO*)
 * naming a peer record: the sender's, still in the read arena, for a reply; one parsed into the out
 * arena for sendTo. A datagram is never buffered: it leaves when the round returns (or, outside a
 * round, at the queued flush), and one larger than maxDatagramSize is refused.
 */
import { Buffer } from 'node:buffer';
import { Action, type Output, type ReactResult } from '../handler.js';
import type { ConnRef } from '../conn.js';
import { native } from '../channel/native.js';
import * as L from '../channel/layout.js';
import { asJobError } from '../pool/outcome.js';
import { asError } from '../errors.js';
import { DgramConn, type DatagramHost } from './dgram_conn.js';
import type { Offload } from './offload.js';
import { OUT_CAP, type OutRecords } from './out_records.js';
import { ReactorPart, type ReactorBase } from './part.js';

/** One reactor's UDP sockets, by slot. */
export class Datagrams extends ReactorPart implements DatagramHost {
  private readonly sockets: (DgramConn | undefined)[] = [];
  private readonly maxSize: number;

  constructor(base: ReactorBase, out: OutRecords, jobs: Offload) {
    super(base, out, jobs);
    this.maxSize = base.cfg.maxDatagramSize;
  }

  /** EV_DGRAM_OPEN: a UDP socket this reactor serves. */
  opened(slot: number, gen: number, listener: number): void {
    this.sockets[slot] = new DgramConn(this, slot, gen, listener);
  }

  /** EV_DATAGRAM: one datagram in [off, off + len) of the read arena, its peer record just before. */
  datagram(slot: number, off: number, len: number): void {
    const d = this.sockets[slot];
    const react = this.handler.react;
    if (!d || !react) return;
    d.deliver(off, len);
    let res: ReactResult;
    try {
      res = react.call(this.handler, d);
    } catch (e) {
      // Nothing to close for one datagram: report it and go on with the next.
      this.hooks.handlerError(asError(e), 'react');
      res = undefined;
    }
    try {
      // The same result forms as a stream's react; Action.Close has nothing to close here.
      let out: Output | undefined;
      let action: Action | undefined;
      if (typeof res === 'number') action = res;
      else if (typeof res === 'string' || res instanceof Uint8Array || Array.isArray(res)) out = res as Output;
      else if (res) ({ out, action } = res as { out?: Output; action?: Action });
      if (out !== undefined) d.bytesWritten += this.sendDatagram(d, out, -(d.peerOff + 1));
      if (action === Action.Shutdown) this.hooks.shutdown();
    } catch (e) {
      this.hooks.handlerError(asError(e), 'react');
    }
    d.inView = false; // what react left unread is dropped with the datagram
  }

  /** EV_CLOSED for a UDP socket (only at stop: no onClosed, it was never a connection). False if `slot` is not one. */
  closed(slot: number): boolean {
    const sock = this.sockets[slot];
    if (!sock) return false;
    sock.open = false;
    this.sockets[slot] = undefined;
    return true;
  }

  /** A job for `ref` failed: nothing to close; the handler hears of it, or the engine does. False if not a socket's. */
  jobFailed(ref: ConnRef, err: Error): boolean {
    const sock = this.sockets[ref.slot];
    if (!sock || sock.gen !== ref.generation) return false;
    const h = this.handler;
    try {
      if (h.onJobError) h.onJobError(sock, asJobError(err));
      else this.hooks.handlerError(err, 'job');
    } catch (e) {
      this.hooks.handlerError(asError(e), 'onJobError');
    }
    return true;
  }

  /** One datagram from socket `d`; `peer` names its peer record (see L.OUT_SENDTO). Returns the byte count. */
  sendDatagram(d: DgramConn, data: Output, peer: number): number {
    if (!d.open) throw new Error('ringloop: the datagram socket is closed');
    let len: number;
    if (typeof data === 'string') len = Buffer.byteLength(data);
    else if (data instanceof Uint8Array) len = data.byteLength;
    else len = data.reduce((n: number, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength), 0);
    const max = this.maxSize;
    if (len > max) throw new RangeError(`ringloop: a datagram of ${len} bytes exceeds maxDatagramSize (${max})`);
    const w = this.out;
    if (data instanceof Uint8Array && w.inRound && data.buffer === w.readBuf) {
      // Still in the read arena (e.g. echo): sent from there, no copy.
      if (w.nOut >= OUT_CAP) w.flush();
      w.emit(L.OUT_SENDTO_READ, d, data.byteOffset, len, peer);
      return len;
    }
    // A peer record in the out arena (sendTo) was placed after making room (sendDatagramTo), so
    // only a reply, whose record is in the read arena, may need a flush here.
    if (w.nOut >= OUT_CAP || len > w.outArena.byteLength - w.outPos) w.flush();
    const off = w.outPos;
    if (typeof data === 'string') w.outBuf.write(data, off);
    else if (data instanceof Uint8Array) w.outArena.set(data, off);
    else {
      let p = off;
      for (const c of data) {
        if (typeof c === 'string') p += w.outBuf.write(c, p);
        else {
          w.outArena.set(c, p);
          p += c.byteLength;
        }
      }
    }
    w.outPos += len;
    w.emit(L.OUT_SENDTO, d, off, len, peer);
    return len;
  }

  /** One datagram from socket `d` to `addr`, its peer record parsed into the out arena first. */
  sendDatagramTo(d: DgramConn, addr: string, data: Output): number {
    if (typeof addr !== 'string') throw new TypeError('sendTo: addr must be a string "host:port"');
    const w = this.out;
    // Room for the peer record and the largest datagram, so a flush cannot move the record.
    if (w.nOut >= OUT_CAP || L.PEER_BYTES + this.maxSize > w.outArena.byteLength - w.outPos) w.flush();
    const at = w.outPos;
    if (!native.peerParse(addr, w.outArena, at)) {
      throw new TypeError(`sendTo: "${addr}" is not a numeric address "host:port" or "[ipv6]:port"`);
    }
    w.outPos += L.PEER_BYTES;
    try {
      return this.sendDatagram(d, data, at);
    } catch (e) {
      w.outPos = at;
      throw e;
    }
  }
}
