/**
 * Lists of the RESP example: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (with a count), LRANGE, LLEN,
 * LINDEX, answering as redis 7.0 does, down to the order its checks run in (which error wins when
 * several apply). A list emptied by a pop is deleted, as in redis.
 */
import { sizeCommand, valueAt, valueOrNew, R_EMPTY_ARRAY, R_NIL, R_NIL_ARRAY, wrongArity, type Command, type Ctx } from './ctx.js';
import { BYTES_COST, Sized } from './store.js';

/** Elements of a list, both ends O(1): a ring of slots that doubles when full and halves when a quarter full. */
export class List extends Sized {
  private ring: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(8);
  private head = 0;
  length = 0;



  private resize(capacity: number): void {
    const next = new Array<Uint8Array | undefined>(capacity);
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.length; i++) next[i] = this.ring[(this.head + i) & mask];
    this.ring = next;
    this.head = 0;
  }

  pushFront(v: Uint8Array): void {
    if (this.length === this.ring.length) this.resize(this.ring.length * 2);
    this.head = (this.head - 1) & (this.ring.length - 1);
    this.ring[this.head] = v;
    this.length++;
    this.charge(BYTES_COST + v.length);
  }

  pushBack(v: Uint8Array): void {
    if (this.length === this.ring.length) this.resize(this.ring.length * 2);
    this.ring[(this.head + this.length) & (this.ring.length - 1)] = v;
    this.length++;
    this.charge(BYTES_COST + v.length);
  }

  popFront(): Uint8Array {
    const v = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    return this.popped(v);
  }

  popBack(): Uint8Array {
    const i = (this.head + this.length - 1) & (this.ring.length - 1);
    const v = this.ring[i]!;
    this.ring[i] = undefined;
    return this.popped(v);
  }

  private popped(v: Uint8Array): Uint8Array {
    this.length--;
    this.charge(-(BYTES_COST + v.length));
    // Give the slots back once the list shrank: a list that was long once does not keep its ring.
    if (this.ring.length > 8 && this.length <= this.ring.length >> 2) this.resize(this.ring.length >> 1);
    return v;
  }

  /** Element `i`, 0 <= i < length. */
  at(i: number): Uint8Array {
    return this.ring[(this.head + i) & (this.ring.length - 1)]!;
  }
}

function push(x: Ctx, front: boolean, onlyIfExists: boolean): void {
  const list = onlyIfExists ? valueAt(x, List) : valueOrNew(x, List);
  if (list === null) return;
  if (list === undefined) return x.integer(0);
  for (let i = 2; i < x.argc; i++) {
    if (front) list.pushFront(x.copy(i));
    else list.pushBack(x.copy(i));
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
    x.bulk(front ? list.popFront() : list.popBack());
  } else {
    const n = Math.min(count, list.length);
    x.array(n);
    for (let i = 0; i < n; i++) x.bulk(front ? list.popFront() : list.popBack());
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
  const from = start;
  x.bulks(end - start + 1, (i) => list.at(from + i));
}

function lindex(x: Ctx): void {
  const list = valueAt(x, List);
  if (list === null) return;
  if (list === undefined) return x.raw(R_NIL);
  let i = x.long(2);
  if (i === null) return;
  if (i < 0) i += list.length;
  if (i < 0 || i >= list.length) return x.raw(R_NIL);
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
