/** serve() options for the redis example (read by examples/run.ts): one owner reactor, expiry sweep. */
import type { ServeOptions } from '../../lib/index.js';

export function options(): ServeOptions {
  // The keyspace lives in one reactor, like redis itself (see handler.ts); tick sweeps expired keys.
  return { numEventLoop: 1, ticker: true };
}
