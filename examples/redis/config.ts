/**
 * serve() options and flags of the redis example (read by examples/run.ts): one owner reactor
 * with the expiry sweep (see handler.ts), and the bounds a server facing untrusted clients needs.
 *
 * - `--maxmemory` (default 256mb): the bound on the keyspace's estimated size (store.ts), past
 *   which commands that may grow it are refused with redis's `-OOM` error (its `noeviction`
 *   policy); reads, deletes and pops still run. The keyspace lives in one reactor's heap, and
 *   running out of heap would end the reactor and every connection with it; 256 MiB of estimate
 *   stays well inside Node's default heap on small machines too. `0` = no limit.
 */
import type { ServeOptions } from '../../lib/index.js';
import { bytesFlag, type FlagValues } from '../flags.js';

/** Defaults of the flags (seconds, bytes). */
export const DEFAULT_MAXMEMORY = 256 * 1024 * 1024;

export const flags = {
  maxmemory: `bound on the keyspace's estimated size, bytes or with kb/mb/gb; past it writes get -OOM (default 256mb, 0 = none)`,
};

export function options(args: { flags?: FlagValues }): ServeOptions {
  const f = args.flags ?? {};
  // The keyspace lives in one reactor, like redis itself (see handler.ts); tick sweeps expired keys.
  return {
    numEventLoop: 1,
    ticker: true,
    handlerOptions: {
      maxMemory: bytesFlag(f, 'maxmemory', DEFAULT_MAXMEMORY),
    },
  };
}
