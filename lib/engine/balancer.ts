/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * How the acceptor picks the reactor for a new connection.
 * - RoundRobin (default): in turn.
 * - LeastConnections: the reactor with the fewest open connections (plus hand-overs it has not
 *   picked up yet), so long-lived connections even out after churn.
 * - SourceAddrHash: a hash of the client's IP address (not its port): every connection from one
 *   host lands on the same reactor (affinity, e.g. for per-host state or caches).
 */
import type { Disruptor } from '../channel/disruptor.js';

export const LoadBalancing = {
  RoundRobin: 'round-robin',
  LeastConnections: 'least-connections',
  SourceAddrHash: 'source-addr-hash',
} as const;
export type LoadBalancing = (typeof LoadBalancing)[keyof typeof LoadBalancing];

const ALL: readonly string[] = Object.values(LoadBalancing);

export function checkLoadBalancing(v: unknown): LoadBalancing {
  if (v === undefined) return LoadBalancing.RoundRobin;
  if (typeof v !== 'string' || !ALL.includes(v)) {
    throw new RangeError(`option loadBalancing must be one of ${ALL.join(', ')}, got ${String(v)}`);
  }
  return v as LoadBalancing;
}

export class Balancer {
  private next = 0;
  /** Reactors that can take connections (a dead one is skipped until restarted). */
  readonly alive: boolean[];

  constructor(
    readonly strategy: LoadBalancing,
    private readonly inboxes: readonly Disruptor[],
  ) {
    this.alive = inboxes.map(() => true);
  }

  /** Whether the acceptor must hash peer addresses. */
  get needsPeerHash(): boolean {
    return this.strategy === LoadBalancing.SourceAddrHash;
  }

  /** The reactor for a new connection, or -1 when none is alive. */
  pick(peerHash: number): number {
    const k = this.choose(peerHash);
    if (this.alive[k]) return k;
    const n = this.inboxes.length;
    for (let i = 1; i < n; i++) if (this.alive[(k + i) % n]) return (k + i) % n;
    return -1;
  }

  private choose(peerHash: number): number {
    const n = this.inboxes.length;
    switch (this.strategy) {
      case LoadBalancing.SourceAddrHash:
        return peerHash % n;
      case LoadBalancing.LeastConnections: {
        let best = 0;
        let bestLoad = Infinity;
        for (let k = 0; k < n; k++) {
          if (!this.alive[(this.next + k) % n]) continue;
          const d = this.inboxes[(this.next + k) % n]!;
          const load = d.connections + d.pending;
          if (load < bestLoad) {
            bestLoad = load;
            best = (this.next + k) % n;
          }
        }
        this.next = (this.next + 1) % n; // ties rotate
        return best;
      }
      default: {
        const k = this.next;
        this.next = (k + 1) % n;
        return k;
      }
    }
  }
}
