/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * Sockets the reactors own themselves: every UDP address, and every TCP address in reusePort
 * mode. Each reactor gets its own socket per such address (SO_REUSEPORT when there are several,
 * so the kernel spreads peers over them). Kept as a plan so a restarted reactor gets fresh ones.
 */
import { native } from '../channel/native.js';
import { Disruptor } from '../channel/disruptor.js';
import * as L from '../channel/layout.js';
import type { ResolvedOptions } from './options.js';

export interface OwnedAddress {
  /** Index of the address in serve's list (`c.listener`). */
  readonly listener: number;
  readonly family: 4 | 6;
  readonly host: string;
  /** The bound port (port 0 resolved by the first socket). */
  readonly port: number;
  readonly dgram: boolean;
  /** SO_REUSEPORT: several sockets on the port (always for TCP here; UDP with several reactors). */
  readonly share: boolean;
}

/** Opens one socket for `a` (on `port`, which may be 0 for the first); returns fd and bound port. */
export function openOwned(a: Omit<OwnedAddress, 'port'>, port: number, opts: ResolvedOptions): { fd: number; port: number } {
  if (a.dgram) {
    // Never SO_REUSEADDR on UDP: it would let another socket take our datagrams.
    return native.listen(a.family, a.host, port, 0, a.share, false, true, opts.socket.recvBuf, opts.socket.sendBuf);
  }
  return native.listen(a.family, a.host, port, opts.backlog, true, opts.reuseAddr);
}

/** Hands a reactor its sockets, one MSG_LISTEN each; from then the reactor owns (and closes) them. */
export function handOwned(inbox: Disruptor, owned: readonly OwnedAddress[], fds: readonly number[]): void {
  owned.forEach((a, j) => {
    // Called on an empty inbox (start, restart): the publish cannot be refused.
    inbox.publish(L.MSG_LISTEN, fds[j]!, a.listener, a.dgram ? 1 : 0);
  });
}
