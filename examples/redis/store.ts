/**
 * The keyspace of the RESP example: string keys (bytes as latin1 JS strings, so any byte sequence
 * is a key) to values of redis's types (a byte string, a list, a set, a hash, a sorted set), with
 * optional expiry times, and an estimate of the memory it holds.
 *
 * Expiry is lazy: every read checks the key's deadline against the caller's clock and deletes it
 * when passed. `sweep` reclaims keys nobody reads any more, a bounded number per call (run it from
 * the handler's `tick`).
 *
 * Memory: `used` is an estimate of the bytes the keyspace holds (payload bytes plus V8's per-object
 * costs, measured on Node 20: a byte string kept as a Uint8Array of its own costs about 200 bytes
 * beyond its length, a JS string in a Map about 56). With `maxMemory` set, `overLimit` tells the
 * dispatcher to refuse commands that may grow memory, as redis does with `maxmemory` and the
 * `noeviction` policy, so the keyspace stays bounded however clients fill it, instead of growing
 * until the reactor's heap runs out (which would take every connection down with it).
 */
import type { List } from './list.js';
import type { RSet } from './set.js';
import type { Hash } from './hash.js';
import type { ZSet } from './zset.js';

/** A value that holds elements; each keeps `bytes`, its estimated size, up to date. */
export type Collection = List | RSet | Hash | ZSet;
/** What a key holds: a byte string or a collection. */
export type Value = Uint8Array | Collection;

/** Where collections add the bytes they grow or shrink by (the store). */
export interface Meter {
  used: number;
}

/** What every collection shares: its estimated size, kept in step with the store's total. */
export abstract class Sized {
  /** Estimated bytes of the elements (see the module comment). */
  bytes = 0;

  constructor(private readonly meter: Meter) {}

  /** The collection grew (or shrank, `d` < 0) by `d` estimated bytes. */
  protected charge(d: number): void {
    this.bytes += d;
    this.meter.used += d;
  }
}

/** Estimated cost of a key's entry in the keyspace, beyond the key's bytes. */
export const KEY_COST = 56;
/** Estimated cost of a byte string kept as a Uint8Array of its own, beyond its bytes. */
export const BYTES_COST = 208;
/** Estimated cost of a string kept in a Map or an array (set member, hash field), beyond its chars. */
export const MEMBER_COST = 56;

function costOf(key: string, v: Value): number {
  return KEY_COST + key.length + (v instanceof Uint8Array ? BYTES_COST + v.length : v.bytes);
}

/** The keyspace: one per reactor that owns it (see handler.ts). */
export class Store implements Meter {
  private readonly data = new Map<string, Value>();
  /** Absolute deadlines in ms (Date.now() clock) of the keys that have one. */
  private readonly expires = new Map<string, number>();
  private sweeper: IterableIterator<[string, number]> | undefined;
  /** Estimated bytes held (see the module comment). */
  used = 0;

  /** `maxMemory`: the bound on `used` past which growing commands are refused; 0 = none. */
  constructor(readonly maxMemory = 0) {}

  /** Whether `used` is over `maxMemory`: commands that may grow memory are refused then. */
  get overLimit(): boolean {
    return this.maxMemory > 0 && this.used > this.maxMemory;
  }

  /** Number of keys, including expired ones not reclaimed yet (as redis's DBSIZE). */
  get size(): number {
    return this.data.size;
  }

  /** Keys with a deadline. */
  get volatileSize(): number {
    return this.expires.size;
  }

  /** The value of a live key, or undefined (deleting the key if it has expired). */
  get(key: string, now: number): Value | undefined {
    const v = this.data.get(key);
    if (v === undefined || this.expires.size === 0) return v;
    const t = this.expires.get(key);
    if (t !== undefined && t <= now) {
      this.remove(key, v);
      return undefined;
    }
    return v;
  }

  has(key: string, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  /**
   * Sets a byte string, replacing whatever the key held; `expireAt` undefined clears any
   * deadline, -1 keeps it (KEEPTTL).
   */
  set(key: string, value: Uint8Array, expireAt?: number): void {
    const old = this.data.get(key);
    this.data.set(key, value);
    this.used += costOf(key, value) - (old === undefined ? 0 : costOf(key, old));
    if (expireAt === undefined) {
      if (this.expires.size > 0) this.expires.delete(key);
    } else if (expireAt !== -1) {
      this.expires.set(key, expireAt);
    }
  }

  /**
   * As `set`, with the value's bytes at src[start, end). When the key already holds a byte string
   * of that length, the bytes are written into it (the store's values are its own copies, never
   * shared): a SET or MSET of a same-sized value allocates nothing, where a copy per write kept
   * V8's scavenger busy. Otherwise the value is a copy, as with `set`.
   */
  setFrom(key: string, src: Uint8Array, start: number, end: number, expireAt?: number): void {
    const old = this.data.get(key);
    const n = end - start;
    if (old instanceof Uint8Array && old.length === n) {
      if (n <= 64) for (let i = 0; i < n; i++) old[i] = src[start + i]!;
      else old.set(src.subarray(start, end));
      if (expireAt === undefined) {
        if (this.expires.size > 0) this.expires.delete(key);
      } else if (expireAt !== -1) {
        this.expires.set(key, expireAt);
      }
      return;
    }
    this.set(key, src.slice(start, end), expireAt);
  }

  /**
   * Stores a new, still empty collection under `key`, which the caller found missing (so it has
   * no deadline either). The collection adds its elements' cost to `used` as they come.
   */
  add(key: string, value: Collection): void {
    this.data.set(key, value);
    this.used += costOf(key, value);
  }

  /** Deletes a live key; true if it existed. */
  delete(key: string, now: number): boolean {
    const v = this.get(key, now);
    if (v === undefined) return false;
    this.remove(key, v);
    return true;
  }

  /** Deletes `key`, which holds `v` (a collection just emptied, an expired key). */
  remove(key: string, v: Value): void {
    this.data.delete(key);
    this.expires.delete(key);
    this.used -= costOf(key, v);
  }

  /** The deadline of a live key: undefined if the key does not exist, -1 if it has none. */
  deadline(key: string, now: number): number | undefined {
    if (this.get(key, now) === undefined) return undefined;
    return this.expires.get(key) ?? -1;
  }

  /** Sets the deadline of an existing key. A deadline not after `now` deletes the key. */
  expireAt(key: string, at: number, now: number): void {
    if (at <= now) {
      const v = this.data.get(key);
      if (v !== undefined) this.remove(key, v);
    } else {
      this.expires.set(key, at);
    }
  }

  /** Removes the deadline of a live key; true if it had one. */
  persist(key: string, now: number): boolean {
    if (this.get(key, now) === undefined) return false;
    return this.expires.delete(key);
  }

  clear(): void {
    this.data.clear();
    this.expires.clear();
    this.sweeper = undefined;
    this.used = 0;
  }

  /**
   * Active expiry: looks at up to `budget` keys with a deadline (continuing where the previous call
   * stopped) and deletes the expired ones. Returns how many it deleted.
   */
  sweep(now: number, budget = 1000): number {
    if (this.expires.size === 0) {
      this.sweeper = undefined;
      return 0;
    }
    const it = (this.sweeper ??= this.expires.entries());
    let removed = 0;
    for (let i = 0; i < budget; i++) {
      const r = it.next();
      if (r.done) {
        // A lap is over; start the next one at the next call.
        this.sweeper = undefined;
        break;
      }
      const [key, at] = r.value;
      if (at <= now) {
        const v = this.data.get(key);
        if (v !== undefined) this.remove(key, v);
        else this.expires.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
