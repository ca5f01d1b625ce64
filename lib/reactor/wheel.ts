/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * A timing wheel for connection deadlines: one interval per reactor, never a timer per connection.
 * Entries are re-checked lazily: moving a deadline later only updates a number (no bucket move);
 * when the bucket comes round, an entry whose deadline moved is put into its new bucket. Moving a
 * deadline earlier than its bucket puts the entry into the earlier bucket at once; the reference
 * left in the later bucket is known stale by the tick recorded beside it, so nothing is searched
 * or removed.
 */
export interface WheelEntry {
  /** Absolute ms (Date.now clock) at which the entry expires; 0 = none. */
  deadline: number;
  /** The tick of the bucket the entry sits in (0: none). */
  wheelAt: number;
}

/** The wheel: `schedule` entries, `expire` is called for each whose deadline passed. Loop-only. */
export class TimingWheel<T extends WheelEntry> {
  private readonly buckets: T[][];
  /** Beside each bucket entry, the tick it was placed for: a reference is live only while it matches the entry's wheelAt. */
  private readonly ticks: number[][];
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(
    private readonly tickMs: number,
    size: number,
    private readonly expire: (entry: T, now: number) => void,
  ) {
    this.buckets = Array.from({ length: size }, () => []);
    this.ticks = Array.from({ length: size }, () => []);
    this.cursor = Math.floor(Date.now() / tickMs);
  }

  /** Makes sure `e` will be looked at by its deadline (call after setting `e.deadline`). */
  schedule(e: T): void {
    if (e.deadline === 0) return;
    if (!this.timer) this.cursor = Math.floor(Date.now() / this.tickMs);
    const at = this.tickOf(e);
    // Already in a bucket that comes round by then: nothing to do (a later deadline is seen there).
    if (e.wheelAt !== 0 && e.wheelAt <= at) return;
    if (e.wheelAt !== 0) this.count--; // moved earlier: its old reference goes stale
    this.place(e, at);
    if (!this.timer) this.timer = setInterval(this.turn, this.tickMs);
  }

  private tickOf(e: T): number {
    // Never behind the cursor: a deadline already due is handled on the next turn.
    return Math.max(Math.floor(e.deadline / this.tickMs), this.cursor + 1);
  }

  private place(e: T, at: number): void {
    const i = at % this.buckets.length;
    this.buckets[i]!.push(e);
    this.ticks[i]!.push(at);
    e.wheelAt = at;
    this.count++;
  }

  private turn = (): void => {
    const now = Date.now();
    const target = Math.floor(now / this.tickMs);
    // Catch up on every bucket passed since the last turn (a busy loop may tick late).
    for (let steps = 0; this.cursor < target && steps < this.buckets.length; steps++) {
      this.cursor++;
      const i = this.cursor % this.buckets.length;
      const due = this.buckets[i]!;
      if (due.length === 0) continue;
      const dueTicks = this.ticks[i]!;
      this.buckets[i] = [];
      this.ticks[i] = [];
      for (let j = 0; j < due.length; j++) {
        const e = due[j]!;
        const at = dueTicks[j]!;
        if (e.wheelAt !== at) continue; // stale: the entry moved to an earlier bucket
        if (at > this.cursor) {
          this.buckets[i]!.push(e); // a later lap of this bucket
          this.ticks[i]!.push(at);
          continue;
        }
        e.wheelAt = 0;
        this.count--;
        if (e.deadline === 0) continue;
        if (e.deadline <= now) this.expire(e, now);
        else this.place(e, this.tickOf(e));
      }
    }
    this.cursor = Math.max(this.cursor, target);
    if (this.count === 0) this.stop();
  };

  /** Stops turning (the reactor stops); entries stay where they are. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
