/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The read side every Conn shares: a window [start, end) on the reactor's read arena, open only
 * during the event that delivered it. Subclasses say which arena (it is replaced when it grows).
 */
import { debug, debugView } from './debug.js';

export abstract class ArenaWindow {
  start = 0;
  end = 0;
  inView = false;

  protected abstract get arena(): Uint8Array;
  /** A view of the arena was just handed out (a writer may recognise it without asking for its buffer). */
  protected abstract handed(v: Uint8Array): void;

  peek(n?: number): Uint8Array | null {
    const avail = this.inView ? this.end - this.start : 0;
    const k = n === undefined || n < 0 ? avail : n;
    if (k > avail) return null;
    const v = this.arena.subarray(this.start, this.start + k);
    this.handed(v);
    return debug.on ? debugView(v) : v;
  }
  next(n?: number): Uint8Array | null {
    const v = this.peek(n);
    if (v) this.start += v.byteLength;
    return v;
  }
  discard(n?: number): number {
    const avail = this.inView ? this.end - this.start : 0;
    const k = n === undefined || n < 0 ? avail : Math.min(n, avail);
    this.start += k;
    return k;
  }
  readBytes(): Uint8Array {
    return this.peek()!;
  }
  readPair(): [Uint8Array, Uint8Array] {
    return [this.peek()!, this.arena.subarray(0, 0)];
  }
  resetBuffer(): void {
    this.start = this.end;
  }
}
