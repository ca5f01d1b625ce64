/**
 * The keyspace of the RESP example: string keys (bytes as latin1 JS strings, so any byte sequence
 * is a key) to byte values, with optional expiry times.
 *
 * Expiry is lazy: every read checks the key's deadline against the caller's clock and deletes it
 * when passed. `sweep` reclaims keys nobody reads any more, a bounded number per call (run it from
 * the handler's `tick`).
 */
export class Store {
  private readonly data = new Map<string, Uint8Array>();
  /** Absolute deadlines in ms (Date.now() clock) of the keys that have one. */
  private readonly expires = new Map<string, number>();
  private sweeper: IterableIterator<[string, number]> | undefined;

  /** Number of keys, including expired ones not reclaimed yet (as redis's DBSIZE). */
  get size(): number {
    return this.data.size;
  }

  /** Keys with a deadline. */
  get volatileSize(): number {
    return this.expires.size;
  }

  /** The value of a live key, or undefined (deleting the key if it has expired). */
  get(key: string, now: number): Uint8Array | undefined {
    const v = this.data.get(key);
    if (v === undefined || this.expires.size === 0) return v;
    const t = this.expires.get(key);
    if (t !== undefined && t <= now) {
      this.data.delete(key);
      this.expires.delete(key);
      return undefined;
    }
    return v;
  }

  has(key: string, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  /** Sets a value; `expireAt` undefined clears any deadline, -1 keeps it (KEEPTTL). */
  set(key: string, value: Uint8Array, expireAt?: number): void {
    this.data.set(key, value);
    if (expireAt === undefined) {
      if (this.expires.size > 0) this.expires.delete(key);
    } else if (expireAt !== -1) {
      this.expires.set(key, expireAt);
    }
  }

  /** Deletes a live key; true if it existed. */
  delete(key: string, now: number): boolean {
    if (this.get(key, now) === undefined) return false;
    this.data.delete(key);
    this.expires.delete(key);
    return true;
  }

  /** The deadline of a live key: undefined if the key does not exist, -1 if it has none. */
  deadline(key: string, now: number): number | undefined {
    if (this.get(key, now) === undefined) return undefined;
    return this.expires.get(key) ?? -1;
  }

  /** Sets the deadline of an existing key. A deadline not after `now` deletes the key. */
  expireAt(key: string, at: number, now: number): void {
    if (at <= now) {
      this.data.delete(key);
      this.expires.delete(key);
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
        this.expires.delete(key);
        this.data.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
