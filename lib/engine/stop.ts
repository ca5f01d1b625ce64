/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The graceful stop, in its order: stop accepting, let pool jobs answer, ask every reactor to flush
 * and close its connections (forcing those still flushing at the timeout), end the threads, then
 * release every fd and path the engine made. The order is the contract: each step relies on the
 * one before (a reactor told to stop receives no more connections; an inbox is released only once
 * nobody publishes into it), so it is kept in one function.
 */
import fs from 'node:fs';
import type { Disruptor } from '../channel/disruptor.js';
import * as L from '../channel/layout.js';
import { AckTable } from '../channel/acks.js';
import type { EngineHandle } from '../channel/remote.js';
import type { Pool } from '../pool/pool.js';
import type { Handout } from './handout.js';
import { releaseInboxes } from './inboxes.js';
import { releaseAll, type TlsListenerPlan } from './tls_options.js';
import type { ReactorHost } from './reactor_host.js';

/** What a running engine holds that stopping must end or release. */
export interface StopParts {
  readonly handout: Handout;
  readonly pool: Pool | undefined;
  readonly inboxes: Disruptor[];
  readonly wakeFds: number[];
  /** The live hosts (read when the stop gets to them: a restart may have replaced one). */
  readonly hosts: readonly ReactorHost[];
  readonly handle: EngineHandle;
  readonly unixPaths: readonly string[];
  /** TLS contexts of the listeners, released once the reactors are gone. */
  readonly tls: readonly (TlsListenerPlan | null)[];
}

/**
 * Stops everything in `p`: connections still flushing after `timeout` ms are closed with
 * ECANCELED. Resolves once every thread ended and every fd is released.
 */
export async function stopAll(p: StopParts, timeout: number): Promise<void> {
  p.handout.close();
  // Jobs in flight may still answer their connections: let them, within the timeout.
  if (p.pool) await p.pool.drain(timeout);
  await Promise.all(
    p.inboxes.map(async (d) => {
      if (d.state === L.STATE_RUNNING) await d.publishWait(L.MSG_STOP, 0, 0, 0, undefined, timeout + 1000);
    }),
  );
  const force = setTimeout(() => {
    for (const h of p.hosts) h.forceClose();
  }, timeout);
  await Promise.all(p.hosts.map((h) => h.stopped));
  clearTimeout(force);
  await Promise.all(p.hosts.map((h) => h.terminate()));
  if (p.pool) await p.pool.destroy();
  releaseInboxes(p.inboxes, p.wakeFds);
  new AckTable(p.handle.acks).cancelPending();
  for (const path of p.unixPaths) fs.rmSync(path, { force: true });
  releaseAll(p.tls);
}
