/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * Binding serve's listen addresses. Each goes one of two ways: a listener of the acceptor on this
 * thread (TCP, Unix), or sockets the reactors own themselves (UDP always, TCP with reusePort: one
 * per reactor, see owned_sockets.ts). What is bound is recorded as it goes, so that a failure on a
 * later address can be undone, and the reactors' sockets wait here until they are handed over.
 */
import type { Disruptor } from '../channel/disruptor.js';
import { native, type NativeAcceptor } from '../channel/native.js';
import { fromNative } from '../errors.js';
import { formatAddress, type ListenAddress } from './address.js';
import type { ResolvedOptions } from './options.js';
import { openOwned, handOwned, type OwnedAddress } from './owned_sockets.js';
import { prepareUnixPath } from './unix_path.js';

/** What binding made besides the acceptor's listeners: filled in as it goes, so a failed serve can undo it. */
export interface BoundSockets {
  /** Addresses whose sockets the reactors own: kept so a restarted reactor gets fresh ones. */
  readonly owned: OwnedAddress[];
  /** Per reactor, its sockets until handed over (`handOver` empties it). */
  readonly ownedFds: number[][];
  /** Unix socket paths bound, removed at stop. */
  readonly unixPaths: string[];
}

/** An empty record for `listenAll`. */
export function boundSockets(): BoundSockets {
  return { owned: [], ownedFds: [], unixPaths: [] };
}

/**
 * Binds every address (port 0 resolved) and returns them formatted, in order. Addresses the
 * acceptor serves are added to `acceptor`; the rest are recorded in `into`.
 */
export async function listenAll(
  parsed: readonly ListenAddress[],
  opts: ResolvedOptions,
  acceptor: NativeAcceptor,
  into: BoundSockets,
): Promise<string[]> {
  const { owned, ownedFds, unixPaths } = into;
  const bound: string[] = [];
  for (const a of parsed) if (a.family === 0) await prepareUnixPath(a.host, a.input);
  parsed.forEach((a, i) => {
    let r: { fd: number; port: number };
    try {
      if (a.family !== 0 && (a.dgram || opts.reusePort)) {
        // UDP always, TCP in reusePort mode: one socket per reactor, the first resolving port 0.
        const plan = { listener: i, family: a.family, host: a.host, dgram: a.dgram, share: !a.dgram || opts.loops > 1 || opts.reusePort };
        r = openOwned(plan, a.port, opts);
        owned.push({ ...plan, port: r.port });
        for (let k = 0; k < opts.loops; k++) {
          ownedFds[k] ??= [];
          ownedFds[k]!.push(k === 0 ? r.fd : openOwned(plan, r.port, opts).fd);
        }
      } else {
        r = acceptor.listen(a.family, a.host, a.port, opts.backlog, opts.reusePort, i, opts.reuseAddr);
      }
    } catch (e) {
      throw fromNative(e, `cannot listen on ${a.input}`);
    }
    if (a.family === 0) unixPaths.push(a.host);
    bound.push(formatAddress(a, r.port));
  });
  return bound;
}

/** Gives each reactor its sockets (one MSG_LISTEN each); from then on the reactors own them. */
export function handOver(sockets: BoundSockets, inboxes: readonly Disruptor[]): void {
  sockets.ownedFds.forEach((fds, k) => handOwned(inboxes[k]!, sockets.owned, fds));
  sockets.ownedFds.length = 0;
}

/** After a failed serve: closes the reactors' sockets not handed over yet. */
export function closeUnowned(sockets: BoundSockets): void {
  for (const fds of sockets.ownedFds) for (const fd of fds) native.closeFd(fd);
}
