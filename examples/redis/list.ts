/**
 * Lists of the RESP example: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (with a count), LRANGE, LLEN,
 * LINDEX, answering as redis 7.0 does, down to the order its checks run in (which error wins when
 * several apply). A list emptied by a pop is deleted, as in redis.
 *
 * Elements are kept packed, as redis's quicklist of listpacks keeps them: a deque of chunks, each
 * one byte buffer holding many elements back to back plus an Int32Array of their boundaries, with
 * free room at both ends. A list of millions of elements is then a few thousand JS objects, not
 * millions of Uint8Arrays (each with its own ArrayBuffer, ~200 bytes of V8 overhead, and work for
 * the scavenger that copies and promotes every one of them).
 */
import { sizeCommand, valueAt, valueOrNew, R_EMPTY_ARRAY, R_NIL, R_NIL_ARRAY, wrongArity, type Command, type Ctx } from './ctx.js';
import { BYTES_COST, Sized } from './store.js';

/** Byte capacity of a full chunk. */
const CHUNK_BYTES = 8192;
/**
 * An element longer than this that does not fit the room left at its end gets a chunk of its own,
 * sized exactly: a shared chunk would hold few such, and copy them each time it grows.
 */
const BIG = CHUNK_BYTES >> 2;
/** Most elements a chunk holds (its boundary array has one slot more): bounds a chunk of empty or tiny elements. */
const MAX_ELEMS = 2048;
/**
 * Capacities a new chunk starts with (bytes, boundary slots); it doubles up to full size as it
 * fills, so a short list stays small, and so does a chunk of a few small elements between two
 * large ones that have chunks of their own.
 */
const START_BYTES = 64;
const START_SLOTS = 8;
/** Estimated cost of a chunk beyond its buffers' bytes: the chunk object and two typed arrays with their ArrayBuffers. */
export const CHUNK_COST = 2 * BYTES_COST + 64;
/** Up to this length bytes are copied with a loop: TypedArray#set costs ~35 ns a call, a short loop ~5 ns. */
const SHORT = 64;

/**
 * Elements packed in one buffer: element k (0 <= k < last - first) is `buf[ends[first + k] ..
 * ends[first + k + 1])`. Free bytes lie below `ends[first]` and above `ends[last]`, free slots below
 * `first` and above `last`, so both ends grow in place.
 */
class Chunk {
  constructor(
    public buf: Uint8Array,
    public ends: Int32Array,
    public first: number,
    public last: number,
    /** An element's own, exactly sized chunk: never grown, never reused. */
    readonly fixed: boolean,
  ) {}

  /** What the chunk costs in the memory estimate. */
  get cost(): number {
    return CHUNK_COST + this.buf.byteLength + this.ends.byteLength;
  }
}

/** Receives the elements of a range of a list, in order (see `List.forEach`). */
export interface ElementSink {
  /** An element: `buf[start .. end)`, valid until the list next changes. */
  element(buf: Uint8Array, start: number, end: number): void;
}

/** Copies `len` bytes of `src` from `s` to `dst` at `at`. */
function copyBytes(src: Uint8Array, s: number, len: number, dst: Uint8Array, at: number): void {
  if (len <= SHORT) {
    for (let i = 0; i < len; i++) dst[at + i] = src[s + i]!;
  } else {
    dst.set(src.subarray(s, s + len), at);
  }
}

/** The smallest capacity, doubling from `cap`, that holds `need` with as much room again (never past `max`). */
function grown(cap: number, need: number, max: number): number {
  while (cap < 2 * need && cap < max) cap *= 2;
  return Math.min(cap, max);
}

/** A sink that makes a view of the one element it is handed (what popFront and popBack return). */
class OneView implements ElementSink {
  private static readonly EMPTY = new Uint8Array(0);
  private v: Uint8Array = OneView.EMPTY;

  element(buf: Uint8Array, start: number, end: number): void {
    this.v = buf.subarray(start, end);
  }

  /** The view, forgotten here (so it does not keep a dropped chunk alive). */
  take(): Uint8Array {
    const v = this.v;
    this.v = OneView.EMPTY;
    return v;
  }
}

const VIEW = new OneView();

/**
 * Elements of a list, both ends O(1), packed in chunks (see the module comment). `at` walks the
 * chunks from the nearer end (O(chunks), as quicklist does); `forEach` reads a range in order.
 * Memory is charged per chunk (its buffers' bytes plus CHUNK_COST), as chunks come and go.
 * Loop-only: it lives in the keyspace of the reactor that owns it.
 */
export class List extends Sized {
  /** A ring of chunks, `nChunks` of them from `head`; its length is a power of 2. */
  private ring: (Chunk | undefined)[] = new Array<Chunk | undefined>(4);
  private head = 0;
  private nChunks = 0;
  /** One emptied chunk of full-size bytes kept for the next one needed (a queue's two ends then trade chunks, allocating none). */
  private spare: Chunk | undefined = undefined;
  /** Number of elements. */
  length = 0;

  /** Adds `src[s .. e)` (copied) before the first element. */
  pushFront(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    let c = this.nChunks > 0 ? this.ring[this.head]! : undefined;
    if (c === undefined || c.first === 0 || c.ends[c.first]! < len) c = this.roomAt(true, len, c);
    const at = c.ends[c.first]! - len;
    copyBytes(src, s, len, c.buf, at);
    c.ends[--c.first] = at;
    this.length++;
  }

  /** Adds `src[s .. e)` (copied) after the last element. */
  pushBack(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    let c = this.nChunks > 0 ? this.ring[(this.head + this.nChunks - 1) & (this.ring.length - 1)]! : undefined;
    if (c === undefined || c.last === c.ends.length - 1 || c.buf.length - c.ends[c.last]! < len) c = this.roomAt(false, len, c);
    const at = c.ends[c.last]!;
    copyBytes(src, s, len, c.buf, at);
    c.ends[++c.last] = at + len;
    this.length++;
  }

  /** Removes the first element (the list is not empty); returns a view of it, valid until the list next changes. */
  popFront(): Uint8Array {
    this.popFrontTo(VIEW);
    return VIEW.take();
  }

  /** Removes the last element (the list is not empty); returns a view of it, valid until the list next changes. */
  popBack(): Uint8Array {
    this.popBackTo(VIEW);
    return VIEW.take();
  }

  /** Removes the first element (the list is not empty), handing it to `sink` first. */
  popFrontTo(sink: ElementSink): void {
    const c = this.ring[this.head]!;
    const s = c.ends[c.first]!;
    const e = c.ends[++c.first]!;
    this.length--;
    sink.element(c.buf, s, e);
    if (c.first === c.last) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) & (this.ring.length - 1);
      this.dropped(c);
    }
  }

  /** Removes the last element (the list is not empty), handing it to `sink` first. */
  popBackTo(sink: ElementSink): void {
    const i = (this.head + this.nChunks - 1) & (this.ring.length - 1);
    const c = this.ring[i]!;
    const e = c.ends[c.last]!;
    const s = c.ends[--c.last]!;
    this.length--;
    sink.element(c.buf, s, e);
    if (c.first === c.last) {
      this.ring[i] = undefined;
      this.dropped(c);
    }
  }

  /** Element `i`, 0 <= i < length: a view, valid until the list next changes. */
  at(i: number): Uint8Array {
    const mask = this.ring.length - 1;
    if (i < this.length >> 1) {
      for (let k = 0; ; k++) {
        const c = this.ring[(this.head + k) & mask]!;
        const n = c.last - c.first;
        if (i < n) return c.buf.subarray(c.ends[c.first + i]!, c.ends[c.first + i + 1]!);
        i -= n;
      }
    }
    // From the back: `r` counts elements from the end, 1 being the last.
    let r = this.length - i;
    for (let k = this.nChunks - 1; ; k--) {
      const c = this.ring[(this.head + k) & mask]!;
      const n = c.last - c.first;
      if (r <= n) return c.buf.subarray(c.ends[c.last - r]!, c.ends[c.last - r + 1]!);
      r -= n;
    }
  }

  /**
   * Hands elements `from .. from + n` (within the list) to `sink` in order: one walk to the chunk
   * of `from` (from the nearer end), then sequentially, no view made per element.
   */
  forEach(from: number, n: number, sink: ElementSink): void {
    if (n <= 0) return;
    const mask = this.ring.length - 1;
    let k = 0;
    let i = from;
    if (from < this.length >> 1) {
      for (;;) {
        const c = this.ring[(this.head + k) & mask]!;
        const len = c.last - c.first;
        if (i < len) break;
        i -= len;
        k++;
      }
    } else {
      let r = this.length - from;
      k = this.nChunks - 1;
      for (;;) {
        const c = this.ring[(this.head + k) & mask]!;
        const len = c.last - c.first;
        if (r <= len) {
          i = len - r;
          break;
        }
        r -= len;
        k--;
      }
    }
    for (;;) {
      const c = this.ring[(this.head + k) & mask]!;
      const ends = c.ends;
      const buf = c.buf;
      let j = c.first + i;
      const stop = Math.min(c.last, j + n);
      n -= stop - j;
      for (; j < stop; j++) sink.element(buf, ends[j]!, ends[j + 1]!);
      if (n === 0) return;
      i = 0;
      k++;
    }
  }

  /**
   * A chunk at the front (or back) with room for an element of `len` bytes: `c`, the end chunk
   * now (if any), grown in place while it is below full size; else a new chunk there.
   */
  private roomAt(front: boolean, len: number, c: Chunk | undefined): Chunk {
    if (c !== undefined && len <= BIG && this.grow(c, front, len)) return c;
    const sole = this.nChunks === 0;
    let n: Chunk;
    if (len > BIG) {
      // Its own chunk, exactly sized: the element fills it, so either end is the right one to start at.
      n = new Chunk(new Uint8Array(len), new Int32Array(2), front ? 1 : 0, front ? 1 : 0, true);
      n.ends[n.first] = front ? len : 0;
    } else {
      if (this.spare !== undefined) {
        n = this.spare;
        this.spare = undefined;
      } else {
        n = new Chunk(new Uint8Array(grown(START_BYTES, len, CHUNK_BYTES)), new Int32Array(START_SLOTS), 0, 0, false);
        this.charge(n.cost);
      }
      // The only chunk of a list grows both ways, so it starts in the middle; any other only at the end it was added at.
      const slot = sole ? (n.ends.length - 1) >> 1 : front ? n.ends.length - 1 : 0;
      n.first = n.last = slot;
      n.ends[slot] = sole ? n.buf.length >> 1 : front ? n.buf.length : 0;
    }
    if (n.fixed) this.charge(n.cost);
    this.insert(n, front);
    return n;
  }

  /**
   * Makes room in `c` for an element of `len` bytes at the front (or back) by moving it to larger
   * buffers, if it is below full size and the element fits there; false if it cannot grow.
   */
  private grow(c: Chunk, front: boolean, len: number): boolean {
    if (c.fixed) return false;
    const lo = c.ends[c.first]!;
    const hi = c.ends[c.last]!;
    const used = hi - lo;
    const count = c.last - c.first;
    if (used + len > CHUNK_BYTES || count + 1 > MAX_ELEMS) return false;
    const sole = this.nChunks === 1;
    const needBytes = front ? lo < len : c.buf.length - hi < len;
    const needSlots = front ? c.first === 0 : c.last === c.ends.length - 1;
    const bytes = needBytes ? grown(c.buf.length, used + len, CHUNK_BYTES) : c.buf.length;
    const slots = needSlots ? grown(c.ends.length, count + 2, MAX_ELEMS + 1) : c.ends.length;
    if ((needBytes && bytes === c.buf.length) || (needSlots && slots === c.ends.length)) return false;
    const before = c.cost;
    let shift = 0;
    if (needBytes) {
      // Room on the side that grows: half the free bytes for the only chunk (it grows both ways), else all of them.
      const free = bytes - used;
      let room = sole ? free >> 1 : free;
      if (room < len) room = free;
      const at = front ? room : free - room;
      const buf = new Uint8Array(bytes);
      buf.set(c.buf.subarray(lo, hi), at);
      c.buf = buf;
      shift = at - lo;
    }
    if (needSlots || shift !== 0) {
      let ends = c.ends;
      let first = c.first;
      if (needSlots) {
        const free = slots - (count + 1);
        let room = sole ? free >> 1 : free;
        if (room < 1) room = free;
        first = front ? room : free - room;
        ends = new Int32Array(slots);
      }
      // Boundaries move with their bytes; copied low to high, which is safe in place as well (shift only).
      if (first <= c.first) {
        for (let k = 0; k <= count; k++) ends[first + k] = c.ends[c.first + k]! + shift;
      } else {
        for (let k = count; k >= 0; k--) ends[first + k] = c.ends[c.first + k]! + shift;
      }
      c.ends = ends;
      c.first = first;
      c.last = first + count;
    }
    this.charge(c.cost - before);
    return true;
  }

  private insert(c: Chunk, front: boolean): void {
    if (this.nChunks === this.ring.length) this.resize(this.ring.length * 2);
    const mask = this.ring.length - 1;
    if (front) {
      this.head = (this.head - 1) & mask;
      this.ring[this.head] = c;
    } else {
      this.ring[(this.head + this.nChunks) & mask] = c;
    }
    this.nChunks++;
  }

  /** `c` was emptied and taken out of the ring: kept as the spare if its bytes are full-size and none is kept, else freed. */
  private dropped(c: Chunk): void {
    this.nChunks--;
    if (this.spare === undefined && !c.fixed && c.buf.length === CHUNK_BYTES) {
      this.spare = c;
    } else {
      this.charge(-c.cost);
    }
    // Give the ring back once the list shrank: a list that was long once does not keep it.
    if (this.ring.length > 4 && this.nChunks <= this.ring.length >> 2) this.resize(this.ring.length >> 1);
  }

  private resize(capacity: number): void {
    const next = new Array<Chunk | undefined>(capacity);
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.nChunks; i++) next[i] = this.ring[(this.head + i) & mask];
    this.ring = next;
    this.head = 0;
  }
}

/** Writes `*n\r\n` or `$n\r\n` (`type` the first byte) at `w`; returns the offset after it. */
function head(out: Uint8Array, w: number, type: number, n: number): number {
  out[w++] = type;
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  for (let k = digits - 1, v = n; k >= 0; k--, v = Math.floor(v / 10)) out[w + k] = 48 + (v % 10);
  w += digits;
  out[w++] = 13;
  out[w++] = 10;
  return w;
}

/** Size of the scratch buffer an LRANGE reply is assembled in, kept between replies. */
const SCRATCH_KEEP = 64 * 1024;

/**
 * Assembles an array reply of a list's elements in one scratch buffer, straight from the chunks
 * (no view per element), to be written at once: the reactor copies it into its out arena.
 */
class ArrayReply implements ElementSink {
  out = new Uint8Array(SCRATCH_KEEP);
  w = 0;

  begin(n: number): void {
    this.w = head(this.out, 0, 42, n);
  }

  element(buf: Uint8Array, s: number, e: number): void {
    const len = e - s;
    // At most 15 bytes of framing: $, up to 10 digits, two CRLFs.
    if (this.w + len + 16 > this.out.length) {
      const bigger = new Uint8Array(Math.max(this.out.length * 2, this.w + len + 16));
      bigger.set(this.out.subarray(0, this.w));
      this.out = bigger;
    }
    const out = this.out;
    let w = head(out, this.w, 36, len);
    copyBytes(buf, s, len, out, w);
    w += len;
    out[w++] = 13;
    out[w++] = 10;
    this.w = w;
  }

  end(x: Ctx): void {
    x.raw(this.out.subarray(0, this.w));
    // A one-off large reply does not keep its scratch.
    if (this.out.length > SCRATCH_KEEP) this.out = new Uint8Array(SCRATCH_KEEP);
  }
}

const reply = new ArrayReply();

function push(x: Ctx, front: boolean, onlyIfExists: boolean): void {
  const list = onlyIfExists ? valueAt(x, List) : valueOrNew(x, List);
  if (list === null) return;
  if (list === undefined) return x.integer(0);
  // Straight from the command's bytes into the chunks: no copy of each argument first.
  const p = x.p;
  const src = p.src;
  for (let i = 2; i < p.argc; i++) {
    const s = p.argOff[i]!;
    const e = s + p.argLen[i]!;
    if (front) list.pushFront(src, s, e);
    else list.pushBack(src, s, e);
  }
  x.integer(list.length);
}

function pop(x: Ctx, front: boolean, name: string): void {
  if (x.argc > 3) return wrongArity(x, name);
  const hasCount = x.argc === 3;
  const count = hasCount ? x.count(2) : 1;
  if (count === null) return;
  const list = valueAt(x, List);
  if (list === null) return;
  if (list === undefined) return x.raw(hasCount ? R_NIL_ARRAY : R_NIL);
  if (hasCount && count === 0) return x.raw(R_EMPTY_ARRAY);
  if (!hasCount) {
    // The popped view is copied into the reply at once (x.bulk), before anything can reuse its chunk.
    x.bulk(front ? list.popFront() : list.popBack());
  } else {
    // Each element is copied into the reply as it is popped, straight from its chunk.
    const n = Math.min(count, list.length);
    reply.begin(n);
    if (front) for (let i = 0; i < n; i++) list.popFrontTo(reply);
    else for (let i = 0; i < n; i++) list.popBackTo(reply);
    reply.end(x);
  }
  if (list.length === 0) x.store.remove(x.str(1), list);
}

function lrange(x: Ctx): void {
  let start = x.long(2);
  if (start === null) return;
  let end = x.long(3);
  if (end === null) return;
  const list = valueAt(x, List);
  if (list === null) return;
  if (list === undefined) return x.raw(R_EMPTY_ARRAY);
  const len = list.length;
  // redis's index rules: negative counts from the end, start clamps to 0, end to the last.
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return x.raw(R_EMPTY_ARRAY);
  if (end >= len) end = len - 1;
  const n = end - start + 1;
  reply.begin(n);
  list.forEach(start, n, reply);
  reply.end(x);
}

function lindex(x: Ctx): void {
  const list = valueAt(x, List);
  if (list === null) return;
  if (list === undefined) return x.raw(R_NIL);
  let i = x.long(2);
  if (i === null) return;
  if (i < 0) i += list.length;
  if (i < 0 || i >= list.length) return x.raw(R_NIL);
  // A view into a chunk, copied into the reply at once.
  x.bulk(list.at(i));
}

/** The list commands, with redis's arities and denyoom flags, for the dispatcher's table. */
export const LIST_COMMANDS: Command[] = [
  { name: 'lpush', arity: -3, denyoom: true, run: (x) => push(x, true, false) },
  { name: 'rpush', arity: -3, denyoom: true, run: (x) => push(x, false, false) },
  { name: 'lpushx', arity: -3, denyoom: true, run: (x) => push(x, true, true) },
  { name: 'rpushx', arity: -3, denyoom: true, run: (x) => push(x, false, true) },
  { name: 'lpop', arity: -2, run: (x) => pop(x, true, 'lpop') },
  { name: 'rpop', arity: -2, run: (x) => pop(x, false, 'rpop') },
  { name: 'lrange', arity: 4, run: lrange },
  { name: 'llen', arity: 2, run: sizeCommand(List, (v) => v.length) },
  { name: 'lindex', arity: 3, run: lindex },
];
