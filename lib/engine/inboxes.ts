/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The reactors' inboxes as the engine holds them: created at serve with the wake fd and limits each
 * reactor reads from its header, named by the engine's cross-thread handle, and released at stop
 * (or when serve fails). Creation and release sit together so every fd made here has its closer.
 */
import { Disruptor } from '../channel/disruptor.js';
import { native } from '../channel/native.js';
import * as L from '../channel/layout.js';
import { AckTable } from '../channel/acks.js';
import type { EngineHandle } from '../channel/remote.js';
import type { ResolvedOptions } from './options.js';
import { createTopicDirectory } from '../channel/topics.js';

/**
 * Creates one inbox per reactor, each with its wake fd, and the handle naming them. Appends to
 * `inboxes` and `wakeFds` as it goes, so a failure part-way leaves them for `releaseInboxes`.
 */
export function createInboxes(opts: ResolvedOptions, inboxes: Disruptor[], wakeFds: number[]): EngineHandle {
  for (let i = 0; i < opts.loops; i++) {
    const d = Disruptor.create({ slots: opts.inboxSlots });
    inboxes.push(d);
    const fd = native.createWakeFd();
    wakeFds.push(fd);
    Atomics.store(d.i32, L.WAKE_FD, fd);
    Atomics.store(d.i32, L.DGRAM_MAX, opts.maxDatagramSize);
  }
  return Object.freeze({
    inboxes: Object.freeze(inboxes.map((d) => d.sab)),
    acks: AckTable.create(),
    topics: createTopicDirectory(opts.loops),
  });
}

/** Marks inboxes stopped, reclaims what was never consumed, and closes the wake fds. */
export function releaseInboxes(inboxes: Disruptor[], wakeFds: number[]): void {
  for (const d of inboxes) {
    d.setState(L.STATE_STOPPED);
    native.inboxDiscard(d.i32);
    const fd = d.detachWakeFd();
    if (fd >= 0) native.closeFd(fd);
  }
  wakeFds.length = 0;
}
