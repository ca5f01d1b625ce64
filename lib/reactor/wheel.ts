/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * A timing wheel for connection deadlines: one interval per reactor, never a timer per connection.
 * Entries are re-checked lazily: moving a deadline later only updates a number (no bucket move);
 * when the bucket comes round, an entry whose deadline moved is put into its new bucket.
 */
export interface WheelEntry {
  /** Absolute ms (Date.now clock) at which the entry expires; 0 = none. */
  deadline: number;
  /** Whether the entry currently sits in a bucket. */
  wheeled: boolean;
}

export class TimingWheel<T extends WheelEntry> {
  private readonly buckets: T[][];
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(
    private readonly tickMs: number,
    size: number,
    private readonly expire: (entry: T, now: number) => void,
  ) {
    this.buckets = Array.from({ length: size }, () => []);
    this.cursor = Math.floor(Date.now() / tickMs);
  }

  /** Makes sure `e` will be looked at by its deadline (call after setting `e.deadline`). */
  schedule(e: T): void {
    if (e.wheeled || e.deadline === 0) return;
    this.place(e);
    if (!this.timer) {
      this.cursor = Math.floor(Date.now() / this.tickMs);
      this.timer = setInterval(this.turn, this.tickMs);
    }
  }

  private place(e: T): void {
    // Never behind the cursor: a deadline already due is handled on the next turn.
    const at = Math.max(Math.floor(e.deadline / this.tickMs), this.cursor + 1);
    this.buckets[at % this.buckets.length]!.push(e);
    e.wheeled = true;
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
      this.buckets[i] = [];
      for (const e of due) {
        e.wheeled = false;
        this.count--;
        if (e.deadline === 0) continue;
        if (e.deadline <= now) this.expire(e, now);
        else this.place(e);
      }
    }
    this.cursor = Math.max(this.cursor, target);
    if (this.count === 0) this.stop();
  };

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
