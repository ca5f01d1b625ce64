/**
 * Reactor wing: runs on a reactor thread (or the engine's thread for an in-thread reactor).
 *
 * Debug mode (`serve(..., { debug: true })` or RINGLOOP_DEBUG=1): checks that cost a copy per
 * view, so the mistakes they find show at once instead of as wrong bytes later.
 * - A read view (`peek`, `next`, `readBytes`, ...) is a copy that is detached when its event
 *   returns: a view kept past its event has length 0 (reads give `undefined`, TextDecoder and
 *   Buffer methods throw), where without debug it would silently show other bytes later.
 * - A write on a Conn of another reactor during this reactor's event throws (in-thread reactors
 *   share a thread; each Conn belongs to the reactor that opened it).
 * One state per thread: every reactor of the thread follows the first one started with debug.
 */

/** Debug state of this thread. */
export const debug = {
  on: false,
  /** The reactor (its out-records) whose round is running, if any. */
  round: undefined as object | undefined,
};

const views: ArrayBuffer[] = [];
const tracked = new WeakSet<ArrayBuffer>();

/** Turns debug checks on for this thread. */
export function enableDebug(): void {
  debug.on = true;
}

/** The debug form of an arena view: a copy, detached when the event returns. */
export function debugView(view: Uint8Array): Uint8Array {
  const copy = view.slice();
  tracked.add(copy.buffer);
  views.push(copy.buffer);
  return copy;
}

/** Whether `v` is a debug copy (offload copies it, as it copies arena views). */
export function isDebugView(v: Uint8Array): boolean {
  return debug.on && tracked.has(v.buffer as ArrayBuffer);
}

/** The event returned: its views go stale, visibly (detached, length 0). */
export function expireViews(): void {
  if (views.length === 0) return;
  for (const b of views) if (b.byteLength > 0) structuredClone(b, { transfer: [b] });
  views.length = 0;
}

/** Throws when `owner`'s Conn is written during another reactor's round. */
export function checkWriter(owner: object, loop: number): void {
  if (debug.round !== undefined && debug.round !== owner) {
    throw new Error(
      `ringloop debug: write on a Conn of reactor ${loop} during an event of another reactor ` +
        `(a Conn belongs to the reactor that opened it; from elsewhere use its ref with asyncWrite or connect(handle))`,
    );
  }
}
