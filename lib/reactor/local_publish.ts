/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * A handler's publish, as its own reactor delivers it: the framed message (topic length, topic,
 * bytes) is copied into the out arena and named by an OUT_PUBLISH record, so the native loop fans
 * it out to this reactor's subscribers in record order, after the writes recorded before it and
 * without a trip through the reactor's own inbox (which a long pipeline of publishes could fill).
 * Other reactors get the message through their inboxes (channel/topics.ts). Loop-only.
 */
import * as L from '../channel/layout.js';
import type { OutRecords, Slotted } from './out_records.js';

/** The publisher to leave out when it is not a connection of this reactor (a datagram socket's). */
export const NO_PUBLISHER: Slotted = Object.freeze({ slot: -1, gen: 0 });

/**
 * Records `framed` for this reactor's subscribers, leaving out the connection `from` (its slot and
 * generation; NO_PUBLISHER: none); false when it does not fit the out arena at all (the caller
 * then posts it to the reactor's inbox).
 */
export function publishLocal(out: OutRecords, framed: Uint8Array, from: Slotted): boolean {
  const len = framed.byteLength;
  if (len > out.outArena.byteLength) return false;
  if (len > out.outArena.byteLength - out.outPos) out.flush();
  out.outArena.set(framed, out.outPos);
  out.emit(L.OUT_PUBLISH, from, out.outPos, len, 0);
  out.outPos += len;
  return true;
}
