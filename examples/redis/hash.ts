/**
 * Hashes of the RESP example: HSET, HGET, HDEL, HLEN, HEXISTS, HGETALL, answering as redis 7.0
 * does. HGETALL lists fields in insertion order, as redis does for the small hashes it keeps as
 * listpacks (up to 128 fields of up to 64 bytes); for larger ones redis's order is its hash
 * table's, and clients may not rely on either. A hash emptied by HDEL is deleted.
 */
import { sizeCommand, valueAt, valueOrNew, R_EMPTY_ARRAY, R_NIL, wrongArity, type Command, type Ctx } from './ctx.js';
import { BYTES_COST, MEMBER_COST, Sized } from './store.js';

/** Fields of a hash, in insertion order. */
export class Hash extends Sized {
  readonly fields = new Map<string, Uint8Array>();


  /** Sets `field`; true if it is new. */
  set(field: string, value: Uint8Array): boolean {
    const old = this.fields.get(field);
    this.fields.set(field, value);
    this.charge(old === undefined ? MEMBER_COST + field.length + BYTES_COST + value.length : value.length - old.length);
    return old === undefined;
  }

  /** Deletes `field`; false if it was not there. */
  delete(field: string): boolean {
    const old = this.fields.get(field);
    if (old === undefined) return false;
    this.fields.delete(field);
    this.charge(-(MEMBER_COST + field.length + BYTES_COST + old.length));
    return true;
  }

}

function hset(x: Ctx): void {
  if (x.argc % 2 === 1) return wrongArity(x, 'hset');
  const h = valueOrNew(x, Hash);
  if (h === null) return;
  let created = 0;
  for (let i = 2; i < x.argc; i += 2) if (h.set(x.str(i), x.copy(i + 1))) created++;
  x.integer(created);
}

function hget(x: Ctx): void {
  const h = valueAt(x, Hash);
  if (h === null) return;
  const v = h?.fields.get(x.str(2));
  if (v === undefined) x.raw(R_NIL);
  else x.bulk(v);
}

function hdel(x: Ctx): void {
  const h = valueAt(x, Hash);
  if (h === null) return;
  if (h === undefined) return x.integer(0);
  let deleted = 0;
  for (let i = 2; i < x.argc && h.fields.size > 0; i++) if (h.delete(x.str(i))) deleted++;
  if (h.fields.size === 0) x.store.remove(x.str(1), h);
  x.integer(deleted);
}

function hexists(x: Ctx): void {
  const h = valueAt(x, Hash);
  if (h === null) return;
  x.integer(h !== undefined && h.fields.has(x.str(2)) ? 1 : 0);
}

function hgetall(x: Ctx): void {
  const h = valueAt(x, Hash);
  if (h === null) return;
  if (h === undefined) return x.raw(R_EMPTY_ARRAY);
  x.array(h.fields.size * 2);
  for (const [f, v] of h.fields) {
    x.bulkString(f);
    x.bulk(v);
  }
}

/** The hash commands, with redis's arities and denyoom flags, for the dispatcher's table. */
export const HASH_COMMANDS: Command[] = [
  { name: 'hset', arity: -4, denyoom: true, run: hset },
  { name: 'hget', arity: 3, run: hget },
  { name: 'hdel', arity: -3, run: hdel },
  { name: 'hlen', arity: 2, run: sizeCommand(Hash, (v) => v.fields.size) },
  { name: 'hexists', arity: 3, run: hexists },
  { name: 'hgetall', arity: 2, run: hgetall },
];
