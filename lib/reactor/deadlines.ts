/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * Deadline and idle bookkeeping for stream connections, on the timing wheel (wheel.ts). Each
 * connection carries its read, write and idle deadlines as plain numbers; only the earliest is on
 * the wheel, so activity (every read and write with an idle timeout) costs a number store, and
 * the wheel catches up lazily. Datagram sockets have no deadlines.
 */
import os from 'node:os';
import type { NativeLoop } from '../channel/native.js';
import { errnoError } from '../errors.js';
import type { OutRecords } from './out_records.js';
import { TimingWheel, type WheelEntry } from './wheel.js';

const ETIMEDOUT = os.constants.errno.ETIMEDOUT;
const WHEEL_TICK_MS = 50;
const WHEEL_SIZE = 256;

/** What the bookkeeping reads and writes on a stream connection (absolute ms, 0 = none). */
export interface Timed extends WheelEntry {
  readonly slot: number;
  readonly open: boolean;
  idleAt: number;
  readDl: number;
  writeDl: number;
  /** Closes the connection with `err` as the reason its onClosed hears. */
  abort(err: Error, errno: number): void;
}

/** One reactor's stream deadlines: the idle timeout and each connection's own deadlines. */
export class Deadlines {
  /** Date.now() as of the current round: one clock read per round, not per connection. */
  private now = 0;
  private readonly wheel = new TimingWheel<Timed>(WHEEL_TICK_MS, WHEEL_SIZE, (c, now) => this.expire(c, now));

  constructor(
    /** Close connections with no read or write for this many ms (0: never). */
    readonly idleMs: number,
    private readonly out: OutRecords,
    private readonly loop: NativeLoop,
    /** The stream slot table: an entry that left it has nothing left to expire. */
    private readonly conns: readonly (Timed | undefined)[],
  ) {}

  /** A round begins: the one clock read its activity uses. */
  round(now: number): void {
    this.now = now;
  }

  /** Activity on `c` (callers check `idleMs > 0`): its idle deadline moves, the wheel catches up lazily. */
  touch(c: Timed): void {
    const at = (this.out.inRound ? this.now : Date.now()) + this.idleMs;
    // Touched already at this time (several writes in one round): nothing moves.
    if (at === c.idleAt) return;
    c.idleAt = at;
    this.reschedule(c);
  }

  /** One of `c`'s deadlines changed: the earliest goes on the wheel. */
  reschedule(c: Timed): void {
    const d = earliest(earliest(c.idleAt, c.readDl), c.writeDl);
    c.deadline = d;
    if (d > 0 && c.open) this.wheel.schedule(c);
  }

  /** The reactor stops: no more turns. */
  stop(): void {
    this.wheel.stop();
  }

  /** A deadline passed: close with ETIMEDOUT, saying which one. */
  private expire(c: Timed, now: number): void {
    if (!c.open || this.conns[c.slot] !== c) return;
    let why: string | undefined;
    if (c.readDl > 0 && c.readDl <= now) why = 'read deadline passed';
    else if (c.writeDl > 0 && c.writeDl <= now) {
      if (this.loop.outboundBuffered(c.slot) > 0) why = 'write deadline passed with output pending';
      else c.writeDl = 0; // nothing was waiting to be written: the deadline is moot
    } else if (c.idleAt > 0 && c.idleAt <= now) why = `idle for ${this.idleMs} ms`;
    if (!why) {
      this.reschedule(c);
      return;
    }
    c.abort(errnoError(ETIMEDOUT, why), ETIMEDOUT);
  }
}

/** A deadline as the Conn methods take it (Date, absolute ms, or null/0 for none), in ms. */
export function deadlineMs(t: Date | number | null): number {
  if (t === null || t === 0) return 0;
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`invalid deadline ${String(t)}`);
  return ms;
}

/** The earlier of two deadlines, 0 meaning none. */
function earliest(a: number, b: number): number {
  return a === 0 ? b : b === 0 ? a : Math.min(a, b);
}
