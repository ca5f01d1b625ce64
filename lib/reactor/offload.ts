/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * Offload to the engine's worker pool: `c.offload(payload)` queues a job, and the jobs of one
 * round leave together when the round ends (one hand-over per round, not per job); outside a
 * round a microtask sends them. Payloads are detached from the read arena first. A failed job
 * comes back through Reactor.jobFailed, which finds its connection or socket.
 */
import type { Conn } from '../conn.js';
import type { JobRequest } from '../pool/tasks.js';
import type { ReactorHooks } from './config.js';
import type { OutRecords } from './out_records.js';
import { isDebugView } from './debug.js';

/** The jobs queued on this reactor and not yet handed to the pool. */
export class Offload {
  private jobs: JobRequest[] = [];
  private queued = false;

  constructor(
    /** For the round state and the read arena. */
    private readonly out: OutRecords,
    private readonly hooks: ReactorHooks,
  ) {}

  /** Queues one job for `c`'s ref (Conn.offload). */
  offload(c: Conn, payload: unknown, name: string, timeout: number): void {
    if (!this.hooks.offload) throw new Error('ringloop: offload needs the pool option on serve()');
    if (typeof name !== 'string' || name === '') throw new TypeError('offload: name must be a non-empty string');
    payload = this.detachFromArena(payload);
    this.jobs.push({ ref: c.ref, name, payload, timeout });
    if (!this.out.inRound && !this.queued) {
      this.queued = true;
      queueMicrotask(() => {
        this.queued = false;
        this.send();
      });
    }
  }

  /** Hands the queued jobs to the pool, if any. */
  send(): void {
    if (this.jobs.length === 0) return;
    const jobs = this.jobs;
    this.jobs = [];
    this.hooks.offload!(jobs);
  }

  /**
   * A view into the read arena would be structured-cloned with the whole arena (megabytes), and
   * the arena is reused after the event: send just its bytes. Checks the payload and, for a plain
   * object, its own properties.
   */
  private detachFromArena(payload: unknown): unknown {
    const arena = this.out.readBuf;
    if (payload instanceof Uint8Array) return payload.buffer === arena || isDebugView(payload) ? payload.slice() : payload;
    if (payload === null || typeof payload !== 'object' || Object.getPrototypeOf(payload) !== Object.prototype) return payload;
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(payload)) {
      if (v instanceof Uint8Array && (v.buffer === arena || isDebugView(v))) (copy ??= { ...(payload as Record<string, unknown>) })[k] = v.slice();
    }
    return copy ?? payload;
  }
}
