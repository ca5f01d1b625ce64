/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * Thread-safe operations on connections by reference, from any thread: the engine's thread, pool
 * workers, other reactors, or any worker of the application that received an `EngineHandle`.
 * Bytes go through the owning reactor's inbox; the reactor writes them itself, with no JS round
 * trip on its side. Payloads above the inline size (224 bytes by default) are copied once into
 * native memory and passed by pointer.
 */
import { Disruptor } from './disruptor.js';
import type { ConnRef } from '../conn.js';
import { Delivery } from '../conn.js';
import * as L from './layout.js';
import { AckTable, type WriteAck } from './acks.js';
import { native } from './native.js';
import { Publisher } from './topics.js';
import type { PublishResult } from '../conn.js';
import type { DialOptions } from '../dial.js';
import { requestDial } from './dial_request.js';
import { resolveDialAddress } from './dial_address.js';
import { buildProxyHeader } from './proxy_header.js';

/** A structured-cloneable description of an engine's inboxes (send it to any thread). */
export interface EngineHandle {
  readonly inboxes: readonly SharedArrayBuffer[];
  /** Completion slots for asyncWriteAck (acks.ts). */
  readonly acks: SharedArrayBuffer;
  /** The topic directory (topics.ts): which reactors hold subscribers of which topic buckets. */
  readonly topics: SharedArrayBuffer;
}

const encoder = new TextEncoder();

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

export class Remote {
  private readonly inboxes: Disruptor[];
  private readonly acks: AckTable;
  private readonly topics: SharedArrayBuffer;
  private publisher: Publisher | undefined;

  constructor(handle: EngineHandle) {
    this.inboxes = handle.inboxes.map((s) => new Disruptor(s));
    this.acks = new AckTable(handle.acks);
    this.topics = handle.topics;
  }

  private get pub(): Publisher {
    return (this.publisher ??= new Publisher(this.inboxes, this.topics));
  }

  /**
   * Thread-safe. Sends `data` to every connection subscribed to `topic` (`c.subscribe`), on every
   * reactor: one inbox message per reactor that holds subscribers (the shared topic directory says
   * which), and that reactor writes the one copy to each of its subscribers. A topic is a string
   * (its UTF-8 bytes) or bytes, up to 64 KiB. Returns 'queued' (also when nobody is subscribed),
   * 'full' when some reactor's inbox had no room (its subscribers miss this message, the others
   * get it; nothing is queued without bound), or 'stopped'.
   *
   * Order: the messages of one publisher (one thread) reach each subscriber in publish order.
   * A subscription made before this call began is reached; one removed (unsubscribe, close)
   * before the reactor handles the message is not, and a newer connection on a reused slot
   * never gets an older one's messages. A subscriber whose unsent output would pass
   * `writeBufferCap` is closed with ENOBUFS (its `onClosed` hears it); the publisher and the other
   * subscribers are not slowed by it.
   */
  publish(topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.pub.publish(topic, data, -1, -1, 0);
  }

  /** As `publish`, leaving out the connection `except` (a connection publishing to its own topic). */
  publishExcept(except: ConnRef, topic: string | Uint8Array, data: Uint8Array | string): PublishResult {
    return this.pub.publish(topic, data, except.loop, except.slot, except.generation);
  }

  /**
   * @internal A handler's publish on reactor `except.loop`: `local` takes that reactor's framed copy
   * (into its out-records, so it is delivered in batch order) or declines (then it goes by inbox).
   */
  publishFrom(except: ConnRef, topic: string | Uint8Array, data: Uint8Array | string, local: (framed: Uint8Array) => boolean): PublishResult {
    return this.pub.publish(topic, data, except.loop, except.slot, except.generation, local);
  }

  /**
   * Thread-safe. How many subscriptions `topic` has over all reactors, read from the shared
   * directory: exact unless another topic shares its hash bucket (then an upper bound), and
   * racing with subscribes and closes in flight.
   */
  subscribers(topic: string | Uint8Array): number {
    return this.pub.subscribers(topic);
  }

  /**
   * Thread-safe. Sends `data` to every open stream connection of every reactor (a topic every
   * connection is in), one inbox message per reactor; same order, backpressure and result as
   * `publish`. Connections still in their TLS handshake are not included.
   */
  broadcast(data: Uint8Array | string, except?: ConnRef): PublishResult {
    return except ? this.pub.broadcast(data, except.loop, except.slot, except.generation) : this.pub.broadcast(data, -1, -1, 0);
  }

  private inbox(ref: ConnRef): Disruptor {
    const d = this.inboxes[ref.loop];
    if (!d) throw new RangeError(`ConnRef names loop ${ref.loop}, but the engine has ${this.inboxes.length}`);
    return d;
  }

  private send(ref: ConnRef, type: number, payload?: Uint8Array): Delivery {
    const d = this.inbox(ref);
    if (d.state !== L.STATE_RUNNING) return Delivery.Stopped;
    return d.publish(type, ref.slot, ref.generation, 0, payload) ? Delivery.Queued : Delivery.Full;
  }

  /**
   * Queues bytes for the connection (copied now). A ref whose connection has closed meanwhile is
   * dropped by the reactor (the generation no longer matches); it never reaches a newer connection.
   * A ref with a `peer` (UDP) sends the bytes as one datagram to that peer; it throws a TypeError
   * for a malformed peer and a RangeError past the engine's `maxDatagramSize`.
   */
  asyncWrite(ref: ConnRef, data: Uint8Array | string): Delivery {
    const [type, payload] = this.message(ref, data);
    return this.send(ref, type, payload);
  }

  /** The inbox message for a write: bytes as they are, or a peer record + bytes for a datagram. */
  private message(ref: ConnRef, data: Uint8Array | string): [number, Uint8Array] {
    const bytes = bytesOf(data);
    if (ref.peer === undefined) return [L.MSG_WRITE, bytes];
    const max = Atomics.load(this.inbox(ref).i32, L.DGRAM_MAX);
    if (bytes.byteLength > max) throw new RangeError(`ringloop: a datagram of ${bytes.byteLength} bytes exceeds maxDatagramSize (${max})`);
    const msg = new Uint8Array(L.PEER_BYTES + bytes.byteLength);
    if (!native.peerParse(ref.peer, msg, 0)) {
      throw new TypeError(`ringloop: ref.peer "${ref.peer}" is not a numeric address "host:port" or "[ipv6]:port"`);
    }
    msg.set(bytes, L.PEER_BYTES);
    return [L.MSG_SENDTO, msg];
  }

  /** As `asyncWrite`, but waits (polling) while the inbox is full instead of returning 'full'. */
  async asyncWriteWait(ref: ConnRef, data: Uint8Array | string, timeoutMs?: number): Promise<Delivery> {
    const d = this.inbox(ref);
    if (d.state !== L.STATE_RUNNING) return Delivery.Stopped;
    const [type, payload] = this.message(ref, data);
    const ok = await d.publishWait(type, ref.slot, ref.generation, 0, payload, timeoutMs);
    return ok ? Delivery.Queued : d.state !== L.STATE_RUNNING ? Delivery.Stopped : Delivery.Full;
  }

  /**
   * As `asyncWrite`, and resolves once the outcome is known: `{status: 'written', bytes}` when the
   * bytes have been handed to the kernel, `{status: 'dropped', code}` when the connection had
   * closed (ENOTCONN: the bytes reached nobody) or failed while flushing (EPIPE, ECONNRESET) or the
   * engine stopped (ECANCELED); `{status: 'full'}` when the inbox had no room (nothing queued).
   */
  async asyncWriteAck(ref: ConnRef, data: Uint8Array | string): Promise<WriteAck> {
    const d = this.inbox(ref);
    if (d.state !== L.STATE_RUNNING) return { status: 'stopped' };
    const [type, payload] = this.message(ref, data);
    const token = this.acks.take();
    if (token === 0) return { status: 'full' };
    if (!d.publish(type, ref.slot, ref.generation, 0, payload, token)) {
      this.acks.release(token);
      return { status: 'full' };
    }
    return this.acks.wait(token);
  }

  /** Asks the reactor to call `react` for the connection even with no new data. */
  wake(ref: ConnRef): Delivery {
    return this.send(ref, L.MSG_WAKE);
  }

  /** Closes the connection after its pending output is flushed. */
  close(ref: ConnRef): Delivery {
    return this.send(ref, L.MSG_CLOSE);
  }

  /** Reactors this handle reaches. */
  get loops(): number {
    return this.inboxes.length;
  }

  /**
   * Dials `addr` from reactor `loop` (names resolved here first); resolves with the connection's
   * ref once the reactor has started the connect (see dial_request.ts). The context is cloned.
   */
  async dial(loop: number, addr: string, options: DialOptions = {}): Promise<ConnRef> {
    const d = this.inboxes[loop];
    if (!d) throw new RangeError(`ringloop: dial names loop ${loop}, but the engine has ${this.inboxes.length}`);
    if (options.proxyHeader) buildProxyHeader(options.proxyHeader); // a malformed one throws here, with its reason
    const target = await resolveDialAddress(addr);
    return requestDial(d, this.acks, loop, target, options);
  }
}

/** Opens a handle received from another thread. */
export function connect(handle: EngineHandle): Remote {
  return new Remote(handle);
}
