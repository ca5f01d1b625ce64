/**
 * serve() options and flags of the http example (read by examples/run.ts): the deadlines a
 * production server puts on its clients, so that slow or idle ones cannot hold connections
 * (descriptors, buffered bytes) for ever. Durations are in seconds, 0 turns one off.
 *
 * - `--header-timeout` (default 10 s): time to send a whole request head, counted from the
 *   connection's open for its first request, and from the first byte of each later one. As Go's
 *   `ReadHeaderTimeout` or nginx's `client_header_timeout`: the defence against slowloris clients,
 *   which keep a head unfinished by dribbling bytes (every byte resets an idle timer, not this).
 *   10 s is minutes more than a real client needs for a head of at most 8 KiB, and six times less
 *   than nginx's 60 s default.
 * - `--body-timeout` (default 60 s): time to send a request's body once its head is complete (the
 *   "slow POST" variant). A body is at most 1 MiB here, so that asks for about 17 KiB/s.
 * - `--idle-timeout` (default 60 s): how long a connection may stay silent, in either direction,
 *   before it is closed: what a keep-alive connection waits for its next request (nginx's
 *   `keepalive_timeout` is 75 s). An idle
 *   connection costs under 1 KiB here, so a minute of keep-alive is cheap; a client that opens a
 *   connection and never sends anything is closed by the header timeout, after 10 s.
 */
import type { ServeOptions } from '../../lib/index.js';
import { secondsFlag, type FlagValues } from '../flags.js';

/** Default of `--header-timeout`, in seconds (the handler's too, when served directly). */
export const DEFAULT_HEADER_TIMEOUT = 10;
/** Default of `--body-timeout`, in seconds (the handler's too, when served directly). */
export const DEFAULT_BODY_TIMEOUT = 60;
/** Default of `--idle-timeout`, in seconds: serve's `idleTimeout` under examples/run.ts. */
export const DEFAULT_IDLE_TIMEOUT = 60;

/** The example's own flags, with their help lines (examples/run.ts lists them in its usage). */
export const flags = {
  'header-timeout': `seconds to send a request head, from the connection's open or the head's first byte (default ${DEFAULT_HEADER_TIMEOUT}, 0 = off)`,
  'body-timeout': `seconds to send a request body once its head is complete (default ${DEFAULT_BODY_TIMEOUT}, 0 = off)`,
  'idle-timeout': `seconds a connection may stay silent, e.g. keep-alive between requests (default ${DEFAULT_IDLE_TIMEOUT}, 0 = off)`,
};

/** The serve() options for the flags given (their defaults for the others); throws on a bad value. */
export function options(args: { flags?: FlagValues }): ServeOptions {
  const f = args.flags ?? {};
  return {
    // The engine's idle timer: one timing wheel per reactor, touched by every read and write.
    idleTimeout: secondsFlag(f, 'idle-timeout', DEFAULT_IDLE_TIMEOUT),
    handlerOptions: {
      headerTimeout: secondsFlag(f, 'header-timeout', DEFAULT_HEADER_TIMEOUT),
      bodyTimeout: secondsFlag(f, 'body-timeout', DEFAULT_BODY_TIMEOUT),
    },
  };
}
