/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * A dial asked of a reactor from another thread (engine.dial, a pool job): the request travels
 * in the reactor's inbox (MSG_DIAL, v8-serialized, so the context is structured-cloned), the
 * reactor's JS makes the connection, and the answer comes back through two slots of the engine's
 * ack table: the generation is stored first, then the slot (or -errno) settles the one awaited.
 */
import os from 'node:os';
import v8 from 'node:v8';
import type { ConnRef } from '../conn.js';
import type { DialOptions, ProxyHeaderSpec } from '../dial.js';
import type { AckTable } from './acks.js';
import type { Disruptor } from './disruptor.js';
import { errnoError } from '../errors.js';
import * as L from './layout.js';

/** What a MSG_DIAL carries. */
export interface DialRequest {
  target: { family: 0 | 4 | 6; host: string; port: number; name?: string; tls?: boolean };
  timeout?: number;
  proxyHeader?: ProxyHeaderSpec;
  tls?: DialOptions['tls'];
  context?: unknown;
  /** Ack-table tokens: the slot (or -errno) is settled on `token`, the generation stored in `genToken`. */
  token: number;
  genToken: number;
}

const PENDING = -0x80000000;

/** Reactor side: answers a request (slot >= 0 with its generation, or -errno). */
export function answerDial(acks: AckTable, req: DialRequest, slotOrErr: number, gen: number): void {
  Atomics.store(acks.i32, req.genToken - 1, gen | 0);
  acks.settle(req.token, slotOrErr);
}

/**
 * Sends a dial request to `inbox` (reactor `loop`) and resolves with the new connection's ref once
 * the reactor has started the connect (its outcome then reaches the handler: onOpened or onClosed).
 * Rejects with EAGAIN if the inbox or the ack table is full, ECANCELED if the engine stops first.
 */
export async function requestDial(
  inbox: Disruptor,
  acks: AckTable,
  loop: number,
  target: DialRequest['target'],
  options: DialOptions,
): Promise<ConnRef> {
  if (inbox.state !== L.STATE_RUNNING) throw errnoError(os.constants.errno.ECANCELED, 'dial');
  const token = acks.take();
  const genToken = token ? acks.take() : 0;
  if (!genToken) {
    if (token) acks.release(token);
    throw errnoError(os.constants.errno.EAGAIN, 'dial: too many completions in flight');
  }
  const req: DialRequest = {
    target, timeout: options.timeout, proxyHeader: options.proxyHeader, tls: options.tls, context: options.context, token, genToken,
  };
  let payload: Uint8Array;
  try {
    payload = v8.serialize(req);
  } catch (e) {
    acks.release(token);
    acks.release(genToken);
    throw new TypeError(`ringloop: engine.dial's context must be structured-cloneable (${(e as Error).message})`);
  }
  if (!inbox.publish(L.MSG_DIAL, 0, 0, 0, payload)) {
    acks.release(token);
    acks.release(genToken);
    throw errnoError(os.constants.errno.EAGAIN, 'dial: the reactor inbox is full');
  }
  const i32 = acks.i32;
  const w = Atomics.waitAsync(i32, token - 1, PENDING);
  if (w.async) {
    // A pending waitAsync does not keep the thread alive on its own.
    const keeper = setInterval(() => {}, 1 << 30);
    try {
      await w.value;
    } finally {
      clearInterval(keeper);
    }
  }
  const v = Atomics.load(i32, token - 1);
  const gen = Atomics.load(i32, genToken - 1);
  Atomics.store(i32, token - 1, 0);
  Atomics.store(i32, genToken - 1, 0);
  if (v < 0) throw errnoError(-v, 'dial');
  return Object.freeze({ loop, slot: v, generation: gen });
}
