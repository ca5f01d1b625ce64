/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The stream connections of one reactor: the slot table (mirrored for the engine in the shared
 * conn table), their lifecycle events (open, data, closed) with the handler calls and what their
 * results ask for, and stream writes. A write places its bytes straight into the out-records
 * (out_records.ts): still in the read arena it is written from there, a string is encoded into the
 * out arena, and bytes larger than the out arena are written at once. Deadlines live in
 * deadlines.ts; this table is what they check an expiring connection against.
 */
import { Buffer } from 'node:buffer';
import os from 'node:os';
import { Action, type EventHandler, type Output, type ReactResult } from '../handler.js';
import type { ReactorHooks } from './config.js';
import type { ConnRef } from '../conn.js';
import * as L from '../channel/layout.js';
import { asJobError } from '../pool/outcome.js';
import { asError, errnoError, tlsError, type TlsErrorCode } from '../errors.js';
import { native } from '../channel/native.js';
import { CONN_TABLE_SLOTS } from './config.js';
import { Deadlines } from './deadlines.js';
import type { Offload } from './offload.js';
import { OUT_CAP, type OutRecords } from './out_records.js';
import { ReactorPart, type ReactorBase } from './part.js';
import { StreamConn, type StreamHost } from './stream_conn.js';
import { Dialer, type DialHost } from './dial.js';
import type { AckTable } from '../channel/acks.js';
import { proxyCloseError } from './proxy_errors.js';
import type { FrameView } from './frames.js';
import { FrameStatus } from '../codec.js';
import { codecError } from '../errors.js';
import { debug, debugView } from './debug.js';

const ECONNABORTED = os.constants.errno.ECONNABORTED;
const T = native.tlsConstants;
/** Close reasons past the errno range (native/reactor.h), by their error code. */
const TLS_CODES = new Map<number, TlsErrorCode>([
  [T.ERR_TLS_HANDSHAKE, 'ERR_TLS_HANDSHAKE'],
  [T.ERR_TLS_HANDSHAKE_TIMEOUT, 'ERR_TLS_HANDSHAKE_TIMEOUT'],
  [T.ERR_TLS, 'ERR_TLS'],
]);

/** One reactor's stream connections, by slot. */
export class Streams extends ReactorPart implements StreamHost, DialHost {
  readonly conns: (StreamConn | undefined)[] = [];
  readonly deadlines: Deadlines;
  /** Connections given a read window this round: what they leave unread is kept when it ends. */
  /**
   * Connections whose read window opened this round, the first `nTouched` entries. The array is
   * kept between rounds (entries cleared, not the length): `length = 0` gave V8's backing store
   * back, and every round grew it again.
   */
  private readonly touched: (StreamConn | undefined)[] = [];
  private nTouched = 0;
  private readonly connTable: Int32Array;
  /** The idle timeout in ms (0: none), read on every event and write. */
  private readonly idleMs: number;
  /** Outbound connections (dial.ts). */
  readonly dialer: Dialer;
  /** Per listener: it takes a PROXY header, so its connections' addresses may come from it. */
  private readonly proxied: readonly boolean[];
  /** The frame table's view, when a listener has a codec (set by the Reactor). */
  frameView: FrameView | null = null;

  constructor(base: ReactorBase, out: OutRecords, jobs: Offload, acks: AckTable) {
    super(base, out, jobs);
    this.dialer = new Dialer(this, base.loop, acks);
    this.proxied = (base.cfg.proxy ?? []).map((p) => p !== null);
    this.idleMs = base.cfg.idleTimeout;
    this.connTable = new Int32Array(base.cfg.connTable);
    this.deadlines = new Deadlines(this.idleMs, out, base.loop, this.conns);
  }

  /** EV_OPEN: a connection in `slot`; the handler's onOpened may write or close at once. */
  opened(slot: number, gen: number, listener: number): void {
    const c = (listener === -1 && this.dialer.take(slot, gen)) || new StreamConn(this, slot, gen, listener);
    if (listener >= 0 && this.proxied[listener]) c.proxied = true;
    this.conns[slot] = c;
    if (slot < CONN_TABLE_SLOTS) {
      this.connTable[2 * slot + 1] = gen;
      Atomics.store(this.connTable, 2 * slot, 1);
    }
    if (this.idleMs > 0) this.deadlines.touch(c);
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

  /** EV_DATA: the connection's buffered bytes are [off, off + len) of the read arena; react reads them. */
  data(slot: number, off: number, len: number): void {
    const c = this.conns[slot];
    if (!c || !c.open) return;
    c.start = off;
    c.end = off + len;
    c.bytesRead += len - c.held; // what arrived since the bytes it kept
    c.inView = true;
    this.touched[this.nTouched++] = c;
    if (this.idleMs > 0) this.deadlines.touch(c);
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

  /**
   * EV_FRAMES: as EV_DATA, with the window framed by the listener's codec (its group at `g` in
   * the frame table, which starts with the window's length). A codec Error the handler did not
   * consume past closes the connection with the codec's error: bytes that can never frame must
   * not wait for the read cap.
   */
  framed(slot: number, off: number, g: number): void {
    const c = this.conns[slot];
    if (!c || !c.open) return;
    const fv = this.frameView!;
    const t = fv.table;
    if (debug.on) {
      fv.source = debugView(this.arena.subarray(off, off + t[g]!));
      fv.base = 0;
    } else {
      fv.source = this.arena;
      fv.base = off;
    }
    c.group = g;
    this.data(slot, off, t[g]!);
    c.group = -1;
    if (t[g + 3] === FrameStatus.Error && c.open && c.start - off <= t[g + 2]!) {
      c.abort(codecError(t[g + 4]!), native.codecConstants.ERR_FRAME_PROTOCOL);
    }
  }

  /** EV_CLOSED: the socket is gone; onClosed hears why (the reactor's reason first, else the errno). */
  closed(slot: number, errno: number): void {
    const c = this.conns[slot];
    if (!c) return;
    this.conns[slot] = undefined;
    c.open = false;
    c.inView = false;
    c.deadline = 0;
    if (slot < CONN_TABLE_SLOTS) Atomics.store(this.connTable, 2 * slot, 0);
    const err = c.error ?? (errno !== 0 ? this.closeError(slot, errno) : undefined);
    if (!this.handler.onClosed) return;
    try {
      const a = this.handler.onClosed(c, err);
      if (a === Action.Shutdown) this.hooks.shutdown();
    } catch (e) {
      this.hooks.handlerError(asError(e), 'onClosed');
    }
  }

  /**
   * EV_REJECTED: a TLS connection whose handshake failed (or timed out) closed before it opened.
   * It was never opened, so onOpened never ran; onClosed still hears why, with a Conn that is
   * closed already (its `ref` names no connection, its addresses are '').
   */
  rejected(slot: number, errno: number, listener: number): void {
    if (!this.handler.onClosed) {
      this.loop.takeReason(slot);
      return;
    }
    const c = new StreamConn(this, slot, -1, listener);
    c.open = false;
    const err = this.closeError(slot, errno);
    try {
      const a = this.handler.onClosed(c, err);
      if (a === Action.Shutdown) this.hooks.shutdown();
    } catch (e) {
      this.hooks.handlerError(asError(e), 'onClosed');
    }
  }

  /** EV_READ_CLOSED: the peer half-closed; the handler's onReadClosed decides what follows. */
  readClosed(slot: number, gen: number): void {
    const c = this.conns[slot];
    if (!c || c.gen !== gen || !c.open || !this.handler.onReadClosed) return;
    let res: ReactResult;
    try {
      res = this.handler.onReadClosed(c);
    } catch (e) {
      this.fail(c, asError(e), 'onReadClosed');
      return;
    }
    this.apply(c, res);
  }

  get handlerRef(): EventHandler {
    return this.handler;
  }
  get hooksRef(): ReactorHooks {
    return this.hooks;
  }

  errorFor(slot: number, code: number): Error {
    return this.closeError(slot, code);
  }

  /** The error a connection closed with: an errno, or a TLS failure with OpenSSL's reason. */
  private closeError(slot: number, errno: number): Error {
    const code = TLS_CODES.get(errno);
    const proxy = code ? undefined : proxyCloseError(errno, this.loop, slot);
    if (proxy) return proxy;
    return code ? tlsError(code, this.loop.takeReason(slot)) : errnoError(errno);
  }

  /** The round ends: each read window closes, and what react left unread is kept (after the writes). */
  keepLeftovers(): void {
    const t = this.touched;
    const out = this.out;
    const n = this.nTouched;
    for (let i = 0; i < n; i++) {
      const c = t[i]!;
      t[i] = undefined; // no closed connection stays reachable from here
      c.inView = false;
      c.held = c.open ? c.end - c.start : 0;
      if (c.held > 0) out.push(L.OUT_KEEP, c, c.start, c.held, 0);
    }
    this.nTouched = 0;
  }

  /** A job for `ref` failed: the handler decides, or the connection closes with the error. False if it is gone. */
  jobFailed(ref: ConnRef, err: Error): boolean {
    const c = this.conns[ref.slot];
    if (!c || c.gen !== ref.generation || !c.open) return false;
    const h = this.handler;
    if (h.onJobError) {
      try {
        this.action(c, h.onJobError(c, asJobError(err)) ?? Action.None);
      } catch (e) {
        this.fail(c, asError(e), 'onJobError');
      }
    } else {
      c.abort(err, ECONNABORTED);
    }
    return true;
  }

  /** A write to `c` (activity for its idle deadline), placed into the out-records; returns the byte count. */
  write(c: StreamConn, data: Uint8Array | string): number {
    if (this.idleMs > 0) this.deadlines.touch(c);
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
    // The read-arena view handed out last (what peek and next return: echo, a proxy's forward) is
    // known by identity and goes from the arena, never copied.
    if (w.inRound && bytes === w.lastView) {
      w.record(c, L.SRC_READ_ARENA, bytes.byteOffset, len);
      return len;
    }
    if (len <= 64 && len <= w.outArena.byteLength - w.outPos) {
      // Small chunks (reply heads, CRLFs, short values, an older small view of the arena) are
      // copied by hand, without asking for `bytes.buffer`: that getter is a call into V8's C++
      // (~25 ns), and for the typed arrays V8 keeps on its heap (up to 64 bytes) it materialises an
      // ArrayBuffer (it was the costliest line of a redis GET); TypedArray#set costs ~35 ns a call
      // where a 4-byte loop takes ~5.
      const a = w.outArena;
      const at = w.outPos;
      for (let i = 0; i < len; i++) a[at + i] = bytes[i]!;
      w.record(c, L.SRC_OUT_ARENA, at, len);
      w.outPos = at + len;
      return len;
    }
    // Any other view of the read arena goes from there too: for a chunk this size, asking for
    // its buffer costs less than the copy it saves.
    if (w.inRound && bytes.buffer === w.readBuf) {
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

  /** How many connections are open, for diagnostics. */
  get count(): number {
    return this.conns.reduce((n, c) => (c ? n + 1 : n), 0);
  }

  /** Applies what onOpened/react returned. */
  private apply(c: StreamConn, res: ReactResult): void {
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

  private writeOutput(c: StreamConn, out: Output): void {
    if (typeof out === 'string' || out instanceof Uint8Array) c.bytesWritten += this.write(c, out);
    else for (const chunk of out) c.bytesWritten += this.write(c, chunk);
  }

  private action(c: StreamConn, a: number): void {
    if (a === Action.Close) c.close();
    else if (a === Action.Shutdown) this.hooks.shutdown();
  }

  /** A handler threw for this connection: close it (only it) and report the error. */
  private fail(c: StreamConn, err: Error, event: string): void {
    this.hooks.handlerError(err, event);
    if (c.open) c.abort(err, ECONNABORTED);
  }
}
