/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The parts of a stream connection's API that steer the native loop directly rather than through
 * out-records: forward mode (pipe) and the PROXY header a listener received. Loop-only.
 */
import type { Conn } from '../conn.js';
import type { ProxyInfo } from '../dial.js';
import type { NativeLoop } from '../channel/native.js';
import { errnoError } from '../errors.js';
import type { Dialer } from './dial.js';
import type { OutRecords } from './out_records.js';
import { parseTlvs } from '../channel/proxy_header.js';

/** What the stream-control calls need from the connection's reactor. */
export interface StreamControlHost {
  readonly loop: NativeLoop;
  readonly out: OutRecords;
  readonly dialer: Dialer;
  readonly index: number;
}

/** What pipe needs of a connection (a StreamConn, without importing it). */
interface Pipeable extends Conn {
  readonly slot: number;
  readonly gen: number;
  readonly isDatagram: boolean;
  readonly inView: boolean;
  start: number;
  end: number;
}

/**
 * Forward mode from `from` to `to`. Bytes `from` still shows in its read window (inside react)
 * are written to `to` first and consumed; out-records written so far go to the loop before the
 * native side starts forwarding, so the order of bytes on `to` is the order they were written.
 */
export function pipeConn(h: StreamControlHost, from: Pipeable, other: Conn): void {
  const to = other as Pipeable;
  if (!from.open || !to.open) throw new Error('ringloop: pipe between closed connections');
  if (to.isDatagram || typeof to.slot !== 'number' || to.ref.loop !== h.index) {
    throw new TypeError('ringloop: pipe needs a stream connection of the same reactor');
  }
  if (from.inView && from.end > from.start) {
    to.write(from.next()!);
  }
  h.out.flush();
  const r = h.loop.setPipe(from.slot, from.gen, to.slot, to.gen);
  if (r < 0) throw errnoError(-r, 'pipe');
}

export function proxyInfoOf(loop: NativeLoop, slot: number): ProxyInfo | null {
  const p = loop.proxyInfo(slot);
  if (!p) return null;
  return { version: p.version as 1 | 2, source: p.source, dest: p.dest, tlvs: parseTlvs(p.tlvs) };
}
