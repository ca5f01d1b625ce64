/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * The topic directory and the publish side of topics. The directory is a SharedArrayBuffer of
 * `TOPIC_BUCKETS x loops` Int32 counts: bucket = FNV-1a(topic bytes) mod TOPIC_BUCKETS, and each
 * reactor keeps its own column, the number of its subscriptions (connection, topic) that hash
 * there (native/reactor_fanout.cc counts up before `subscribe` returns, down after the subscriber
 * left its table). A publisher, on any thread, reads the bucket's row and posts one inbox message
 * to each reactor whose count is above zero; that reactor looks the topic up exactly and writes
 * the message to its subscribers. Collisions cost a message the reactor ignores, never a lost
 * one: a publish that starts after `subscribe` returned sees the count and reaches the subscriber.
 */
import { Buffer } from 'node:buffer';
import { Disruptor } from './disruptor.js';
import * as L from './layout.js';
import type { PublishResult } from '../conn.js';

/** Buckets of the directory (a power of two; the native side takes any power of two). */
export const TOPIC_BUCKETS = 8192;

/** Longest topic, in bytes (UTF-8 for strings). */
export const MAX_TOPIC_BYTES = 65536;

/** Allocates the directory for `loops` reactors (the engine does, at serve). */
export function createTopicDirectory(loops: number): SharedArrayBuffer {
  return new SharedArrayBuffer(TOPIC_BUCKETS * loops * 4);
}

/** FNV-1a, 32 bits, as native/reactor_fanout.cc hashes, of `bytes[from .. from + len)`. */
export function topicHash(bytes: Uint8Array, len: number, from = 0): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * One thread's publisher over an engine's inboxes and directory: frames each message once into a
 * reusable buffer (topic length, topic, bytes) and posts it to the reactors that hold the topic.
 * Not shared between threads (each thread builds its own through `Remote`); reentrant-free.
 */
export class Publisher {
  private readonly dir: Int32Array;
  private readonly loops: number;
  private scratch = new Uint8Array(4096);
  private readonly enc = new TextEncoder();

  constructor(
    private readonly inboxes: readonly Disruptor[],
    directory: SharedArrayBuffer,
  ) {
    this.loops = inboxes.length;
    this.dir = new Int32Array(directory);
    if (this.dir.length < TOPIC_BUCKETS * this.loops) throw new RangeError('ringloop: the topic directory does not match the engine');
  }

  /**
   * Posts `data` under `topic` to every reactor whose directory count is above zero, leaving out
   * the connection `exSlot/exGen` of reactor `exLoop` (-1: none). With `local`, reactor `exLoop`'s
   * copy (the framed message, valid during the call) is offered to it first. 'full' when a
   * reactor's inbox had no room (its subscribers miss this message; the others got it), 'stopped'
   * when every target was stopped.
   */
  publish(
    topic: string | Uint8Array,
    data: Uint8Array | string,
    exLoop: number,
    exSlot: number,
    exGen: number,
    local?: (framed: Uint8Array) => boolean,
  ): PublishResult {
    const tlen = this.frame(topic, data);
    const bucket = topicHash(this.scratch, tlen, 4) & (TOPIC_BUCKETS - 1);
    const msg = this.scratch.subarray(0, this.framed);
    const row = bucket * this.loops;
    let result: PublishResult = 'queued';
    let reached = 0;
    let stopped = 0;
    for (let i = 0; i < this.loops; i++) {
      if (Atomics.load(this.dir, row + i) <= 0) continue;
      const d = this.inboxes[i]!;
      reached++;
      if (d.state !== L.STATE_RUNNING) {
        stopped++;
        continue;
      }
      const own = i === exLoop;
      // The publisher's own reactor takes it in its current batch when it can (local), else by inbox.
      if (own && local !== undefined && local(msg)) continue;
      if (!d.publish(L.MSG_PUBLISH, own ? exSlot : -1, own ? exGen : 0, 0, msg)) result = 'full';
    }
    return reached > 0 && stopped === reached ? 'stopped' : result;
  }

  /** Upper bound of the subscriptions to `topic` over all reactors (exact unless another topic shares its bucket). */
  subscribers(topic: string | Uint8Array): number {
    const tlen = this.topicBytes(topic);
    const row = (topicHash(this.scratch, tlen, 4) & (TOPIC_BUCKETS - 1)) * this.loops;
    let n = 0;
    for (let i = 0; i < this.loops; i++) n += Math.max(0, Atomics.load(this.dir, row + i));
    return n;
  }

  /** Posts `data` to every reactor, for every open connection (but `exSlot/exGen` of reactor `exLoop`). */
  broadcast(data: Uint8Array | string, exLoop: number, exSlot: number, exGen: number): PublishResult {
    checkData(data);
    const bytes = typeof data === 'string' ? this.enc.encode(data) : data;
    let result: PublishResult = 'stopped';
    for (let i = 0; i < this.loops; i++) {
      const d = this.inboxes[i]!;
      if (d.state !== L.STATE_RUNNING) continue;
      if (result === 'stopped') result = 'queued';
      const own = i === exLoop;
      if (!d.publish(L.MSG_BROADCAST, own ? exSlot : -1, own ? exGen : 0, 0, bytes)) result = 'full';
    }
    return result;
  }

  private framed = 0;

  /** Writes topic length, topic and data into the scratch buffer; returns the topic's length. */
  private frame(topic: string | Uint8Array, data: Uint8Array | string): number {
    checkData(data);
    const tlen = this.topicBytes(topic);
    const dlen = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.room(4 + tlen + dlen);
    const s = this.scratch;
    if (typeof data === 'string') this.enc.encodeInto(data, s.subarray(4 + tlen));
    else s.set(data, 4 + tlen);
    // The topic length, u32 little-endian, by hand: a DataView per publish was an allocation per
    // message.
    s[0] = tlen & 0xff;
    s[1] = (tlen >>> 8) & 0xff;
    s[2] = (tlen >>> 16) & 0xff;
    s[3] = tlen >>> 24;
    this.framed = 4 + tlen + dlen;
    return tlen;
  }

  /** Places the topic's bytes at scratch offset 4; returns their length. */
  private topicBytes(topic: string | Uint8Array): number {
    let tlen: number;
    if (typeof topic === 'string') {
      tlen = Buffer.byteLength(topic);
      if (tlen > MAX_TOPIC_BYTES) throw new RangeError(`ringloop: a topic of ${tlen} bytes exceeds ${MAX_TOPIC_BYTES}`);
      this.room(4 + tlen);
      this.enc.encodeInto(topic, this.scratch.subarray(4));
    } else if (topic instanceof Uint8Array) {
      tlen = topic.byteLength;
      if (tlen > MAX_TOPIC_BYTES) throw new RangeError(`ringloop: a topic of ${tlen} bytes exceeds ${MAX_TOPIC_BYTES}`);
      this.room(4 + tlen);
      this.scratch.set(topic, 4);
    } else {
      throw new TypeError('ringloop: a topic is a string or a Uint8Array');
    }
    return tlen;
  }

  /** Grows the scratch buffer (keeping its first bytes) to hold `n`. */
  private room(n: number): void {
    if (n <= this.scratch.byteLength) return;
    let size = this.scratch.byteLength;
    while (size < n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.scratch);
    this.scratch = next;
  }
}

/** Published bytes are a string (UTF-8) or a Uint8Array (a Buffer is one). */
function checkData(data: unknown): void {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError('ringloop: published data is a string or a Uint8Array');
}

const viewEncoder = new TextEncoder();
let viewScratch = new Uint8Array(1024);

/**
 * A topic as bytes: a Uint8Array as it is, a string encoded (UTF-8) into a buffer reused by the
 * next call, so the view is valid only until then. Throws past MAX_TOPIC_BYTES. This thread only.
 */
export function topicView(topic: string | Uint8Array): Uint8Array {
  if (topic instanceof Uint8Array) {
    if (topic.byteLength > MAX_TOPIC_BYTES) throw new RangeError(`ringloop: a topic of ${topic.byteLength} bytes exceeds ${MAX_TOPIC_BYTES}`);
    return topic;
  }
  if (typeof topic !== 'string') throw new TypeError('ringloop: a topic is a string or a Uint8Array');
  const len = Buffer.byteLength(topic);
  if (len > MAX_TOPIC_BYTES) throw new RangeError(`ringloop: a topic of ${len} bytes exceeds ${MAX_TOPIC_BYTES}`);
  if (len > viewScratch.byteLength) viewScratch = new Uint8Array(Math.max(len, viewScratch.byteLength * 2));
  viewEncoder.encodeInto(topic, viewScratch);
  return viewScratch.subarray(0, len);
}
