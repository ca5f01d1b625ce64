/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The hand-out of accepted connections: the acceptor reports a batch of fds, and each goes to the
 * reactor the balancer picks, as an ACCEPT message in that reactor's inbox (the disruptor), with one
 * coalesced wake-up per reactor per batch. From then on the reactor owns the fd. Kept apart from
 * the Engine because it is the one hot path on this thread and holds its own small state: fds
 * waiting for a full inbox, what each reactor was handed, and the count of refused connections.
 */
import type { Disruptor } from '../channel/disruptor.js';
import { native, type NativeAcceptor } from '../channel/native.js';
import * as L from '../channel/layout.js';
import { Balancer, type LoadBalancing } from './balancer.js';

/** An accepted connection not yet handed out: fd, listener index, peer hash. */
type Accepted = [fd: number, listener: number, hash: number];

/** Hands accepted fds to the reactors; never drops one (it is handed out, refused or closed). */
export class Handout {
  private refusedCount = 0;
  private pending: Accepted[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly balancer: Balancer;
  /** ACCEPT messages published per reactor (compared with what each consumed: hand-overs in flight). */
  private readonly published: number[];

  /**
   * @param acceptOut the acceptor's output: (fd, listener, peer hash) triples.
   * @param maxConnections refuse past this many connections (0: no limit).
   */
  constructor(
    private readonly acceptor: NativeAcceptor,
    private readonly acceptOut: Int32Array,
    private readonly inboxes: readonly Disruptor[],
    loadBalancing: LoadBalancing,
    private readonly maxConnections: number,
  ) {
    this.balancer = new Balancer(loadBalancing, inboxes);
    this.published = inboxes.map(() => 0);
  }

  /** Connections refused: past `maxConnections`, or with no reactor alive. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Called by the acceptor with `n` (fd, listener, peer hash) triples: hand them out. */
  onAccept(n: number): void {
    const out = this.acceptOut;
    const woke = new Set<number>();
    for (let i = 0; i < n; i++) this.handOut(out[3 * i]!, out[3 * i + 1]!, out[3 * i + 2]!, woke);
    for (const k of woke) this.inboxes[k]!.wakeIfParked();
  }

  /** Whether reactor `loop` may be picked for new connections (false while dead). */
  setAlive(loop: number, alive: boolean): void {
    this.balancer.alive[loop] = alive;
  }

  /** ACCEPT messages published to reactor `loop` so far. */
  publishedTo(loop: number): number {
    return this.published[loop]!;
  }

  /** Stops handing out for good (at stop): closes the acceptor and the fds still waiting here. */
  close(): void {
    this.closed = true;
    this.acceptor.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const [fd] of this.pending) native.closeFd(fd);
    this.pending = [];
  }

  private handOut(fd: number, listener: number, hash: number, woke: Set<number>): void {
    if (this.maxConnections > 0 && this.load() >= this.maxConnections) {
      // Refuse politely: close at once, the client sees the connection end instead of hanging.
      native.closeFd(fd);
      this.refusedCount++;
      return;
    }
    if (this.pending.length > 0) {
      this.pending.push([fd, listener, hash]);
      return;
    }
    const k = this.balancer.pick(hash);
    if (k < 0) {
      native.closeFd(fd); // no reactor alive
      this.refusedCount++;
      return;
    }
    if (this.inboxes[k]!.tryPublish(L.MSG_ACCEPT, fd, listener, 0)) {
      this.published[k]!++;
      woke.add(k);
      return;
    }
    // That reactor's inbox is full: stop accepting (the kernel backlog holds new clients) and
    // retry shortly, keeping the fds already accepted. Never drop one.
    this.pending.push([fd, listener, hash]);
    this.acceptor.pause();
    this.retryTimer ??= setTimeout(this.retryPending, 1);
  }

  private retryPending = (): void => {
    this.retryTimer = undefined;
    if (this.closed) return;
    const woke = new Set<number>();
    while (this.pending.length > 0) {
      const [fd, listener, hash] = this.pending[0]!;
      const k = this.balancer.pick(hash);
      if (k < 0) {
        native.closeFd(fd);
        this.refusedCount++;
        this.pending.shift();
        continue;
      }
      if (!this.inboxes[k]!.tryPublish(L.MSG_ACCEPT, fd, listener, 0)) break;
      this.published[k]!++;
      woke.add(k);
      this.pending.shift();
    }
    for (const k of woke) this.inboxes[k]!.wakeIfParked();
    if (this.pending.length > 0) this.retryTimer = setTimeout(this.retryPending, 1);
    else this.acceptor.resume();
  };

  /** Open connections plus hand-overs not yet taken by their reactor, plus fds waiting here. */
  private load(): number {
    let n = this.pending.length;
    this.inboxes.forEach((d, k) => (n += d.connections + (this.published[k]! - d.accepted)));
    return n;
  }
}
