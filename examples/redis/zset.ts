/**
 * Sorted sets of the RESP example: ZADD (NX, XX, GT, LT, CH, INCR), ZPOPMIN and ZPOPMAX (with a
 * count), ZCARD, ZSCORE, ZREM, answering as redis 7.0 does: members ordered by score, then by
 * their bytes; scores read as redis reads doubles and written as it writes them (`%.17g`). A
 * sorted set emptied by a pop or ZREM is deleted.
 */
import { sizeCommand, valueAt, E_SYNTAX, R_EMPTY_ARRAY, R_NIL, type Command, type Ctx, L } from './ctx.js';
import { MEMBER_COST, Sized } from './store.js';

/** Estimated cost of a skip-list node (object and its forward array), beyond its member's. */
const NODE_COST = 128;
const MAX_LEVEL = 32;

class ZNode {
  readonly next: (ZNode | null)[];
  prev: ZNode | null = null;

  constructor(
    readonly member: string,
    readonly score: number,
    level: number,
  ) {
    this.next = new Array<ZNode | null>(level).fill(null);
  }
}

/** Whether `n` sorts before (score, member): by score, then by the member's bytes (latin1 chars compare as bytes). */
function before(n: ZNode, score: number, member: string): boolean {
  return n.score < score || (n.score === score && n.member < member);
}

/**
 * The nodes after which an insertion or a removal splices, per level: scratch shared by every
 * sorted set, emptied after each use so that it keeps no node (nor a deleted set) alive.
 */
const update: (ZNode | null)[] = new Array<ZNode | null>(MAX_LEVEL).fill(null);

/**
 * Members of a sorted set: a skip list in order (the first and the last in O(1), an insertion or
 * removal in O(log n)), as redis keeps large ones, and each member's score.
 */
export class ZSet extends Sized {
  private readonly head = new ZNode('', -Infinity, MAX_LEVEL);
  private tail: ZNode | null = null;
  private level = 1;
  readonly scores = new Map<string, number>();


  get size(): number {
    return this.scores.size;
  }

  /**
   * Adds a member that is not in the set. A score of -0 is kept as 0: redis keeps integral scores
   * of its small sorted sets as integers, so it answers 0 for them (and -0 only once a set is
   * large enough for its skip list, which this one does not imitate).
   */
  insert(member: string, inScore: number): void {
    const score = inScore === 0 ? 0 : inScore;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n && before(n, score, member); n = x.next[i]) x = n;
      update[i] = x;
    }
    let level = 1;
    while (level < MAX_LEVEL && Math.random() < 0.25) level++;
    for (; this.level < level; this.level++) update[this.level] = this.head;
    const node = new ZNode(member, score, level);
    for (let i = 0; i < level; i++) {
      node.next[i] = update[i]!.next[i] ?? null;
      update[i]!.next[i] = node;
    }
    node.prev = update[0] === this.head ? null : update[0]!;
    if (node.next[0]) node.next[0].prev = node;
    else this.tail = node;
    this.scores.set(member, score);
    this.charge(NODE_COST + MEMBER_COST + member.length);
    update.fill(null);
  }

  /** Removes a member that is in the set. */
  remove(member: string): void {
    const score = this.scores.get(member)!;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n && before(n, score, member); n = x.next[i]) x = n;
      update[i] = x;
    }
    const node = x.next[0]!;
    for (let i = 0; i < this.level; i++) if (update[i]!.next[i] === node) update[i]!.next[i] = node.next[i] ?? null;
    if (node.next[0]) node.next[0].prev = node.prev;
    else this.tail = node.prev;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
    this.scores.delete(member);
    this.charge(-(NODE_COST + MEMBER_COST + member.length));
    update.fill(null);
  }

  /** The member with the lowest (`min`) or the highest score; the set must not be empty. */
  end(min: boolean): { member: string; score: number } {
    return min ? this.head.next[0]! : this.tail!;
  }

}

function zadd(x: Ctx): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = false;
  let at = 2;
  for (; at < x.argc; at++) {
    if (x.is(at, L.nx)) nx = true;
    else if (x.is(at, L.xx)) xx = true;
    else if (x.is(at, L.ch)) ch = true;
    else if (x.is(at, L.incr)) incr = true;
    else if (x.is(at, L.gt)) gt = true;
    else if (x.is(at, L.lt)) lt = true;
    else break;
  }
  const pairs = x.argc - at;
  if (pairs === 0 || pairs % 2 !== 0) return x.raw(E_SYNTAX);
  if (nx && xx) return x.error('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) return x.error('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && pairs > 2) return x.error('ERR INCR option supports a single increment-element pair');
  // Every score is checked before anything changes: the command runs whole or not at all.
  const scores: number[] = [];
  for (let i = at; i < x.argc; i += 2) {
    const s = x.double(i);
    if (s === null) return;
    scores.push(s);
  }
  let z = valueAt(x, ZSet);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  if (z === undefined && !xx) {
    z = new ZSet(x.store);
    x.store.add(x.str(1), z);
  }
  for (let k = 0; z !== undefined && k < scores.length; k++) {
    const member = x.str(at + 2 * k + 1);
    let score = scores[k]!;
    const cur = z.scores.get(member);
    if (cur === undefined) {
      if (xx) continue;
      z.insert(member, score);
      added++;
    } else {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) return x.error('ERR resulting score is not a number (NaN)');
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      if (score !== cur) {
        z.remove(member);
        z.insert(member, score);
        updated++;
      }
    }
    processed++;
    last = score;
  }
  if (incr) {
    if (processed > 0) x.bulkDouble(last);
    else x.raw(R_NIL);
  } else {
    x.integer(ch ? added + updated : added);
  }
}

function zpop(x: Ctx, min: boolean): void {
  if (x.argc > 3) return x.raw(E_SYNTAX);
  const count = x.argc === 3 ? x.count(2) : 1;
  if (count === null) return;
  const z = valueAt(x, ZSet);
  if (z === null) return;
  if (z === undefined || count === 0) return x.raw(R_EMPTY_ARRAY);
  const n = Math.min(count, z.size);
  x.array(2 * n);
  for (let i = 0; i < n; i++) {
    const { member, score } = z.end(min);
    z.remove(member);
    x.bulkString(member);
    x.bulkDouble(score);
  }
  if (z.size === 0) x.store.remove(x.str(1), z);
}

function zscore(x: Ctx): void {
  const z = valueAt(x, ZSet);
  if (z === null) return;
  const s = z?.scores.get(x.str(2));
  if (s === undefined) x.raw(R_NIL);
  else x.bulkDouble(s);
}

function zrem(x: Ctx): void {
  const z = valueAt(x, ZSet);
  if (z === null) return;
  if (z === undefined) return x.integer(0);
  let removed = 0;
  for (let i = 2; i < x.argc && z.size > 0; i++) {
    const member = x.str(i);
    if (z.scores.has(member)) {
      z.remove(member);
      removed++;
    }
  }
  if (z.size === 0) x.store.remove(x.str(1), z);
  x.integer(removed);
}

/** The sorted-set commands, with redis's arities and denyoom flags, for the dispatcher's table. */
export const ZSET_COMMANDS: Command[] = [
  { name: 'zadd', arity: -4, denyoom: true, run: zadd },
  { name: 'zpopmin', arity: -2, run: (x) => zpop(x, true) },
  { name: 'zpopmax', arity: -2, run: (x) => zpop(x, false) },
  { name: 'zcard', arity: 2, run: sizeCommand(ZSet, (v) => v.size) },
  { name: 'zscore', arity: 3, run: zscore },
  { name: 'zrem', arity: -3, run: zrem },
];
