/**
 * serve() options and flags of the proxy example (read by examples/run.ts):
 *
 * - `--backend URL` (repeatable, at least one): where connections go (`tcp://h:p`, `tcp6://[h]:p`,
 *   `unix:///path`; numeric hosts or localhost).
 * - `--balance round-robin|least-connections` (default round-robin).
 * - `--proxy-protocol 0|1|2` (default 0): send a PROXY protocol v1/v2 header to the backend with
 *   the client's address.
 * - `--connect-timeout S` (default 5 s): a backend that does not answer within it counts as down.
 * - `--retry-after S` (default 2 s): a backend that refused or timed out is skipped this long.
 */
import type { ServeOptions } from '../../lib/index.js';
import { secondsFlag, type FlagValues } from '../flags.js';
import type { ProxyOptions } from './handler.js';

export const flags = {
  backend: 'backend address (repeat for several): tcp://host:port, tcp6://[host]:port or unix:///path',
  balance: 'round-robin (default) or least-connections',
  'proxy-protocol': 'send a PROXY protocol header to the backends: 0 (default, none), 1 or 2',
  'connect-timeout': 'seconds a backend has to accept a connection (default 5)',
  'retry-after': 'seconds a refusing backend is skipped (default 2)',
};

export const repeatable = ['backend'];

export function options(args: { flags?: FlagValues }): ServeOptions {
  const f = args.flags ?? {};
  const backends = (f.backend ?? '').split('\n').filter((b) => b !== '');
  if (backends.length === 0) throw new Error('the proxy needs at least one --backend URL');
  const balance = f.balance ?? 'round-robin';
  if (balance !== 'round-robin' && balance !== 'least-connections') {
    throw new Error(`--balance must be round-robin or least-connections, got "${balance}"`);
  }
  const pp = Number(f['proxy-protocol'] ?? '0');
  if (pp !== 0 && pp !== 1 && pp !== 2) throw new Error(`--proxy-protocol must be 0, 1 or 2, got "${f['proxy-protocol']}"`);
  const handlerOptions: ProxyOptions = {
    backends,
    balance,
    proxyProtocol: pp,
    connectTimeout: secondsFlag(f, 'connect-timeout', 5),
    retryAfter: secondsFlag(f, 'retry-after', 2),
  };
  return { handlerOptions };
}
