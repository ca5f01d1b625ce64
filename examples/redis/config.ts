/**
 * serve() options and flags of the redis example (read by examples/run.ts): one owner reactor
 * with the expiry sweep (see handler.ts), and the bounds a server facing untrusted clients needs.
 * Durations are in seconds and 0 turns one off, as redis's own `timeout` setting.
 *
 * - `--timeout` (default 300 s): close a client silent that long, as redis's `timeout`. redis
 *   ships with 0 (never), which lets idle or vanished clients hold descriptors for ever; 300 s is
 *   redis's default `tcp-keepalive` period (the scale on which it notices dead peers anyway), and
 *   long enough that pooled clients that go quiet between bursts keep their connections.
 * - `--command-timeout` (default 30 s): a command must arrive whole within this time of its first
 *   byte, or the connection is closed: the slowloris defence (a client dribbling a command one
 *   byte at a time resets any idle timer). redis has no such bound; 30 s lets even the largest
 *   bulk string this example takes (32 MiB) through a link of about 9 Mbit/s, and bounds what a
 *   client holding a half-sent command costs.
 * - `--maxmemory` (default 256mb): the bound on the keyspace's estimated size (store.ts), past
 *   which commands that may grow it are refused with redis's `-OOM` error (its `noeviction`
 *   policy); reads, deletes and pops still run. The keyspace lives in one reactor's heap, and
 *   running out of heap would end the reactor and every connection with it; 256 MiB of estimate
 *   stays well inside Node's default heap on small machines too. `0` = no limit.
 */
import type { ServeOptions } from '../../lib/index.js';
import { bytesFlag, secondsFlag, type FlagValues } from '../flags.js';

/** Default of `--timeout`, in seconds: serve's `idleTimeout` under examples/run.ts. */
export const DEFAULT_TIMEOUT = 300;
/** Default of `--command-timeout`, in seconds (the handler's too, when served directly). */
export const DEFAULT_COMMAND_TIMEOUT = 30;
/** Default of `--maxmemory`, in bytes (the handler's too, when served directly). */
export const DEFAULT_MAXMEMORY = 256 * 1024 * 1024;

/** The example's own flags, with their help lines (examples/run.ts lists them in its usage). */
export const flags = {
  timeout: `seconds a client may stay silent before it is closed, as redis's timeout (default ${DEFAULT_TIMEOUT}, 0 = off)`,
  'command-timeout': `seconds a command may take to arrive, from its first byte (default ${DEFAULT_COMMAND_TIMEOUT}, 0 = off)`,
  maxmemory: `bound on the keyspace's estimated size, bytes or with kb/mb/gb; past it writes get -OOM (default 256mb, 0 = none)`,
};

/** The serve() options for the flags given (their defaults for the others); throws on a bad value. */
export function options(args: { flags?: FlagValues }): ServeOptions {
  const f = args.flags ?? {};
  // The keyspace lives in one reactor, like redis itself (see handler.ts); tick sweeps expired keys.
  return {
    numEventLoop: 1,
    ticker: true,
    // The engine's idle timer (one timing wheel per reactor): redis's `timeout`.
    idleTimeout: secondsFlag(f, 'timeout', DEFAULT_TIMEOUT),
    handlerOptions: {
      commandTimeout: secondsFlag(f, 'command-timeout', DEFAULT_COMMAND_TIMEOUT),
      maxMemory: bytesFlag(f, 'maxmemory', DEFAULT_MAXMEMORY),
    },
  };
}
