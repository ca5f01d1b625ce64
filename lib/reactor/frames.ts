/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * The frame table the native reactor fills for connections whose listener has a codec
 * (native/reactor_codec.cc, layout in native/codec.h), and the `Frames` view a handler reads it
 * through (`c.frames`). One table and one view per reactor: the view is pointed at a connection's
 * group when its `c.frames` is read, so a delivery costs no allocation. Loop-only.
 */
import type { FrameStatus, Frames } from '../codec.js';

/** Ints in the frame table: 1 MiB. A round that needs more frames the rest in the next one. */
export const FRAME_TABLE_INTS = 1 << 18;

/**
 * The table size a reactor allocates: FRAME_TABLE_INTS, or `RINGLOOP_FRAME_TABLE_INTS` (at least
 * 64) where a test wants rounds that run out of room early.
 */
export function frameTableInts(): number {
  const v = Number(process.env.RINGLOOP_FRAME_TABLE_INTS);
  return Number.isInteger(v) && v >= 64 ? v : FRAME_TABLE_INTS;
}
/** Ints of a group header: len, count, consumed, status, detail. */
export const GROUP_INTS = 5;

/** The reactor's one view over the frame table. */
export class FrameView implements Frames {
  readonly table: Int32Array;
  /** Index of the group in view. */
  group = 0;
  /** The delivery's bytes and where its window starts in them (set by the reactor per delivery). */
  source: Uint8Array = new Uint8Array(0);
  base = 0;

  constructor(table: Int32Array) {
    this.table = table;
  }

  /** Points the view at the group at `g`; returns it. */
  at(g: number): this {
    this.group = g;
    return this;
  }

  get count(): number {
    return this.table[this.group + 1]!;
  }
  get consumed(): number {
    return this.table[this.group + 2]!;
  }
  get status(): FrameStatus {
    return this.table[this.group + 3]! as FrameStatus;
  }
  get detail(): number {
    return this.table[this.group + 4]!;
  }
  get first(): number {
    return this.group + GROUP_INTS;
  }
  start(i: number): number {
    return this.table[this.group + GROUP_INTS + 2 * i]!;
  }
  end(i: number): number {
    return this.table[this.group + GROUP_INTS + 2 * i + 1]!;
  }
}
