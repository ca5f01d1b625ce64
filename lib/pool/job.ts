/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * What an offloaded job gets as its second argument: thread-safe operations on the connection
 * that submitted it. Everything here is safe from any thread (it goes through the owning
 * reactor's inbox); the job needs no reactor round trip to answer.
 *
 * @example
 * ```ts
 * // pool.ts, the module named by serve's `pool.filename`
 * export function lookup(payload: Uint8Array, job: Job) {
 *   const answer = slowBlockingLookup(payload);
 *   job.asyncWrite(answer);
 * }
 * ```
 */
import { Buffer } from 'node:buffer';
import type { ConnRef, PublishResult } from '../conn.js';
import { Delivery } from '../conn.js';
import type { Remote } from '../channel/remote.js';
import type { WriteAck } from '../channel/acks.js';
import type { DialOptions } from '../dial.js';


export class Job {
  constructor(
    /** The connection that submitted the job (loop, slot, generation). */
    readonly ref: ConnRef,
    private readonly remote: Remote,
  ) {}

  /**
   * Queues bytes for the connection (copied now, delivered in call order, never interleaved with
   * another asyncWrite). 'full' means nothing was queued; `asyncWriteWait` waits for room instead.
   * If the connection closed meanwhile the reactor drops the bytes; they never reach a newer
   * connection on the same fd.
   */
  asyncWrite(data: Uint8Array | string): Delivery {
    return this.remote.asyncWrite(this.ref, data);
  }

  /** As `asyncWrite`, resolving with the outcome (written to the kernel, or dropped and why). */
  asyncWriteAck(data: Uint8Array | string): Promise<WriteAck> {
    return this.remote.asyncWriteAck(this.ref, data);
  }

  /** As `asyncWrite`, waiting (polling) while the inbox is full. */
  asyncWriteWait(data: Uint8Array | string, timeoutMs?: number): Promise<Delivery> {
    return this.remote.asyncWriteWait(this.ref, data, timeoutMs);
  }

  /** Several chunks written as one unit (one inbox message): nothing interleaves between them. */
  asyncWritev(chunks: readonly (Uint8Array | string)[]): Delivery {
    return this.remote.asyncWrite(this.ref, concat(chunks));
  }

  /**
   * Opens an outbound connection on the reactor of the connection that submitted the job (or
   * `options.loop`); see `Engine.dial`. The context is structured-cloned.
   */
  dial(addr: string, options: DialOptions = {}): Promise<ConnRef> {
    return this.remote.dial(options.loop ?? this.ref.loop, addr, options);
  }

  /** Makes the reactor call `react` for the connection. */
  wake(): Delivery {
    return this.remote.wake(this.ref);
  }

  /** Closes the connection once what is queued has been flushed. */
  close(): Delivery {
    return this.remote.close(this.ref);
  }

  /** Sends bytes to every subscriber of `topic`, on every reactor (see `Remote.publish`). */
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.remote.publish(topic, data);
  }

  /** Sends bytes to every open connection (see `Remote.broadcast`). */
  broadcast(data: Uint8Array | string): PublishResult {
    return this.remote.broadcast(data);
  }
}

function concat(chunks: readonly (Uint8Array | string)[]): Uint8Array {
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

export { Delivery };
