/**
 * The round clock: the time as one reactor round saw it. A reactor reads `Date.now()` once as a
 * round (one wake-up, one batch) begins; handlers that time deadlines, cache a `Date` header or
 * check expiries per connection then share that one read instead of a clock read each (a
 * `Date.now()` per request was 1% of an HTTP keep-alive server's samples). Each thread has its
 * own: the main thread and pool workers are never in a round.
 */

/** The round's `Date.now()`, or 0 outside a round. */
let roundMs = 0;

/**
 * Loop-only, internal: the reactor's round begins at `now` (a `Date.now()` it read) or ends (0).
 * @internal
 */
export function setRoundClock(now: number): void {
  roundMs = now;
}

/**
 * `Date.now()` as the current reactor round read it when it began, so every handler call of one
 * wake-up sees the same millisecond without a clock read of its own; outside a round (timers,
 * `tick`, messages, the main thread, pool jobs) it reads the clock. For deadlines and timestamps
 * of millisecond grain, e.g. `c.setReadDeadline(loopNow() + 5000)`, not for timing work inside a
 * handler (use `performance.now()` for that). Thread-safe: each thread has its own.
 */
export function loopNow(): number {
  return roundMs !== 0 ? roundMs : Date.now();
}
