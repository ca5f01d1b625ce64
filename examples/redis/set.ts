/**
 * Sets of the RESP example: SADD, SREM, SPOP (with a count), SCARD, SISMEMBER, SMEMBERS, answering
 * as redis 7.0 does. Which members SPOP takes is random, as in redis, and SMEMBERS (like SPOP with
 * a count that takes every member) lists them in no particular order: redis's order is that of its
 * hash table, this one's that of an array. A set emptied by SREM or SPOP is deleted.
 */
import { sizeCommand, valueAt, valueOrNew, E_SYNTAX, R_EMPTY_ARRAY, R_NIL, type Command, type Ctx } from './ctx.js';
import { MEMBER_COST, Sized } from './store.js';

/** Members of a set: an array (a random member in O(1)) and each member's index in it. */
export class RSet extends Sized {
  private readonly members: string[] = [];
  private readonly index = new Map<string, number>();


  get size(): number {
    return this.members.length;
  }

  has(m: string): boolean {
    return this.index.has(m);
  }

  /** Adds `m`; false if it was a member already. */
  add(m: string): boolean {
    if (this.index.has(m)) return false;
    this.index.set(m, this.members.length);
    this.members.push(m);
    this.charge(MEMBER_COST + m.length);
    return true;
  }

  /** Removes `m`; false if it was not a member. */
  remove(m: string): boolean {
    const i = this.index.get(m);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes and returns a random member (the set must not be empty). */
  pop(): string {
    return this.removeAt(Math.floor(Math.random() * this.members.length));
  }

  /** Every member, in the set's own order. */
  all(): readonly string[] {
    return this.members;
  }

  private removeAt(i: number): string {
    const m = this.members[i]!;
    const last = this.members.pop()!;
    if (i < this.members.length) {
      this.members[i] = last;
      this.index.set(last, i);
    }
    this.index.delete(m);
    this.charge(-(MEMBER_COST + m.length));
    return m;
  }

}

function sadd(x: Ctx): void {
  const set = valueOrNew(x, RSet);
  if (set === null) return;
  let added = 0;
  for (let i = 2; i < x.argc; i++) if (set.add(x.str(i))) added++;
  x.integer(added);
}

function srem(x: Ctx): void {
  const set = valueAt(x, RSet);
  if (set === null) return;
  if (set === undefined) return x.integer(0);
  let removed = 0;
  for (let i = 2; i < x.argc && set.size > 0; i++) if (set.remove(x.str(i))) removed++;
  if (set.size === 0) x.store.remove(x.str(1), set);
  x.integer(removed);
}

function spop(x: Ctx): void {
  if (x.argc > 3) return x.raw(E_SYNTAX);
  const hasCount = x.argc === 3;
  const count = hasCount ? x.count(2) : 1;
  if (count === null) return;
  const set = valueAt(x, RSet);
  if (set === null) return;
  if (set === undefined) return x.raw(hasCount ? R_EMPTY_ARRAY : R_NIL);
  if (!hasCount) {
    x.bulkString(set.pop());
  } else {
    if (count === 0) return x.raw(R_EMPTY_ARRAY);
    const n = Math.min(count, set.size);
    x.array(n);
    for (let i = 0; i < n; i++) x.bulkString(set.pop());
  }
  if (set.size === 0) x.store.remove(x.str(1), set);
}

function sismember(x: Ctx): void {
  const set = valueAt(x, RSet);
  if (set === null) return;
  x.integer(set !== undefined && set.has(x.str(2)) ? 1 : 0);
}

function smembers(x: Ctx): void {
  const set = valueAt(x, RSet);
  if (set === null) return;
  if (set === undefined) return x.raw(R_EMPTY_ARRAY);
  const all = set.all();
  x.array(all.length);
  for (const m of all) x.bulkString(m);
}

/** The set commands, with redis's arities and denyoom flags, for the dispatcher's table. */
export const SET_COMMANDS: Command[] = [
  { name: 'sadd', arity: -3, denyoom: true, run: sadd },
  { name: 'srem', arity: -3, run: srem },
  { name: 'spop', arity: -2, run: spop },
  { name: 'scard', arity: 2, run: sizeCommand(RSet, (v) => v.size) },
  { name: 'sismember', arity: 3, run: sismember },
  { name: 'smembers', arity: 2, run: smembers },
];
