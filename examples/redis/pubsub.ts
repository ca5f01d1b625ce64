/**
 * Pub/sub for the RESP example: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, with
 * redis 7.0's replies byte for byte (RESP2), including the subscribed context where only
 * (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET run (PING then answers `pong` as an
 * array).
 *
 * Delivery is ringloop's topics: a channel subscription is the connection's subscription to topic
 * `c<channel>`, a pattern's to topic `p<pattern>`. PUBLISH frames the `message` reply once and
 * publishes it to the channel's topic (`c.publish`: the publisher, which RESP2 keeps out of the
 * subscribed context anyway, is left out), then one `pmessage` frame per matching pattern to that
 * pattern's topic; the reactor writes each frame to every subscriber from one buffer, in the same
 * batch, with no handler call per subscriber. So a client subscribed to both hears `message` first, then its
 * `pmessage`s, as from redis. The example keeps its keyspace in one reactor, so the counts
 * (PUBLISH's receivers, each pattern's subscribers) are exact and kept here.
 */
import { Buffer } from 'node:buffer';
import type { Conn } from '../../lib/index.js';
import { enc, wrongArity, type Command, type Ctx } from './ctx.js';

/** One connection's subscriptions (latin1 strings, one char per byte), while it has any. */
export interface Subscriptions {
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
}

const H_SUBSCRIBE = enc('*3\r\n$9\r\nsubscribe\r\n');
const H_UNSUBSCRIBE = enc('*3\r\n$11\r\nunsubscribe\r\n');
const H_PSUBSCRIBE = enc('*3\r\n$10\r\npsubscribe\r\n');
const H_PUNSUBSCRIBE = enc('*3\r\n$12\r\npunsubscribe\r\n');
const H_PONG = enc('*2\r\n$4\r\npong\r\n');
const NULL_BULK = enc('$-1\r\n');
const H_MESSAGE = enc('*3\r\n$7\r\nmessage\r\n');

/** The subscriptions of the whole server (its one reactor) and the frames PUBLISH builds. */
export class PubSub {
  /** Subscribers per channel and per pattern. */
  private readonly channels = new Map<string, number>();
  private readonly patterns = new Map<string, number>();
  private frame = Buffer.allocUnsafe(64 * 1024);
  private topic = Buffer.allocUnsafe(1024);
  /** Topic bytes of the channels that have subscribers (see channelTopic). */
  private readonly topics = new Map<string, Uint8Array>();


  /** Whether the session is in the subscribed context (RESP2). */
  static active(s: Subscriptions | null): boolean {
    return s !== null && s.channels.size + s.patterns.size > 0;
  }

  /** The connection closed: its topics ended with it; the counts follow. */
  closed(s: Subscriptions | null): void {
    if (s === null) return;
    for (const ch of s.channels) this.dec(this.channels, ch);
    for (const p of s.patterns) this.dec(this.patterns, p);
  }

  subscribe(x: Ctx, pattern: boolean): void {
    const s = (x.session.subs ??= { channels: new Set(), patterns: new Set() });
    const mine = pattern ? s.patterns : s.channels;
    for (let i = 1; i < x.argc; i++) {
      const name = x.str(i);
      if (!mine.has(name)) {
        mine.add(name);
        x.c.subscribe(this.topicOf(pattern, name));
        const counts = pattern ? this.patterns : this.channels;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      x.raw(pattern ? H_PSUBSCRIBE : H_SUBSCRIBE);
      x.bulk(x.bytes(i));
      x.integer(s.channels.size + s.patterns.size);
    }
  }

  unsubscribe(x: Ctx, pattern: boolean): void {
    const s = x.session.subs;
    const mine = s === null ? undefined : pattern ? s.patterns : s.channels;
    const head = pattern ? H_PUNSUBSCRIBE : H_UNSUBSCRIBE;
    const total = (): number => (s === null ? 0 : s.channels.size + s.patterns.size);
    if (x.argc === 1) {
      // All of them; with none, one reply naming no channel.
      if (mine === undefined || mine.size === 0) {
        x.raw(head);
        x.raw(NULL_BULK);
        x.integer(total());
        return;
      }
      for (const name of [...mine]) {
        this.leave(x.c, mine, pattern, name);
        x.raw(head);
        x.bulk(Buffer.from(name, 'latin1'));
        x.integer(total());
      }
      return;
    }
    for (let i = 1; i < x.argc; i++) {
      const name = x.str(i);
      if (mine !== undefined && mine.has(name)) this.leave(x.c, mine, pattern, name);
      x.raw(head);
      x.bulk(x.bytes(i));
      x.integer(total());
    }
  }

  publish(x: Ctx): void {
    const name = x.str(1);
    let receivers = this.channels.get(name) ?? 0;
    if (receivers > 0) {
      // Built from the arguments' offsets: no views, no strings, per PUBLISH.
      const need = H_MESSAGE.length + x.argLength(1) + x.argLength(2) + 32;
      if (need > this.frame.length) this.frame = Buffer.allocUnsafe(need * 2);
      const f = this.frame;
      f.set(H_MESSAGE, 0);
      const len = x.bulkInto(2, f, x.bulkInto(1, f, H_MESSAGE.length));
      x.c.publish(this.channelTopic(name), f.subarray(0, len));
    }
    if (this.patterns.size === 0) return x.integer(receivers);
    const channel = x.bytes(1);
    const message = x.bytes(2);
    for (const [pattern, n] of this.patterns) {
      if (!globMatch(pattern, name)) continue;
      receivers += n;
      const len = this.build(['*4\r\n$8\r\npmessage\r\n', Buffer.from(pattern, 'latin1'), channel, message]);
      x.c.publish(this.topicOf(true, pattern), this.frame.subarray(0, len));
    }
    x.integer(receivers);
  }

  /** PING in the subscribed context: `pong` and the argument (or empty) as an array. */
  static pong(x: Ctx): void {
    if (x.argc > 2) return wrongArity(x, 'ping');
    x.raw(H_PONG);
    x.bulk(x.argc === 2 ? x.bytes(1) : new Uint8Array(0));
  }

  private leave(c: Conn, mine: Set<string>, pattern: boolean, name: string): void {
    mine.delete(name);
    c.unsubscribe(this.topicOf(pattern, name));
    this.dec(pattern ? this.patterns : this.channels, name);
  }

  private dec(counts: Map<string, number>, name: string): void {
    const n = (counts.get(name) ?? 1) - 1;
    if (n > 0) return void counts.set(name, n);
    counts.delete(name);
    // A channel nobody hears any more gives its topic bytes back (patterns keep none).
    if (counts === this.channels) this.topics.delete(name);
  }

  /**
   * A channel's topic bytes, kept while the channel has subscribers (PUBLISH names the same few
   * channels over and over; `topicOf` would encode the name each time).
   */
  private channelTopic(name: string): Uint8Array {
    let t = this.topics.get(name);
    if (t === undefined) {
      t = Buffer.from(this.topicOf(false, name));
      this.topics.set(name, t);
    }
    return t;
  }

  /** The topic of a channel or pattern: a one-byte kind, then its bytes (valid until the next call). */
  private topicOf(pattern: boolean, name: string): Uint8Array {
    const len = name.length + 1;
    if (len > this.topic.length) this.topic = Buffer.allocUnsafe(len * 2);
    this.topic[0] = pattern ? 0x70 : 0x63;
    this.topic.write(name, 1, 'latin1');
    return this.topic.subarray(0, len);
  }

  /** Writes a head string and bulk strings into the frame buffer; returns the length. */
  private build(parts: [string, ...Uint8Array[]]): number {
    let need = parts[0].length;
    for (let i = 1; i < parts.length; i++) need += (parts[i] as Uint8Array).length + 16;
    if (need > this.frame.length) this.frame = Buffer.allocUnsafe(need * 2);
    const f = this.frame;
    let o = f.write(parts[0], 0, 'latin1');
    for (let i = 1; i < parts.length; i++) {
      const b = parts[i] as Uint8Array;
      o += f.write(`$${b.length}\r\n`, o, 'latin1');
      f.set(b, o);
      o += b.length;
      f[o++] = 13;
      f[o++] = 10;
    }
    return o;
  }
}

/**
 * redis's glob (util.c stringmatchlen, case-sensitive): `*`, `?`, `[abc]`, `[^a-z]` (a reversed
 * range is swapped), `\` escaping the next character. Strings are latin1 (one char per byte).
 */
export function globMatch(pattern: string, s: string): boolean {
  const skip = { longer: false };
  return matchFrom(pattern, 0, s, 0, skip);
}

function matchFrom(p: string, pi: number, s: string, si: number, skip: { longer: boolean }): boolean {
  const pn = p.length;
  const sn = s.length;
  while (pi < pn && si < sn) {
    const ch = p.charCodeAt(pi);
    if (ch === 42 /* * */) {
      while (pi + 1 < pn && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === pn) return true;
      while (si < sn) {
        if (matchFrom(p, pi + 1, s, si, skip)) return true;
        if (skip.longer) return false;
        si++;
      }
      skip.longer = true;
      return false;
    } else if (ch === 63 /* ? */) {
      si++;
    } else if (ch === 91 /* [ */) {
      pi++;
      const not = p.charCodeAt(pi) === 94; /* ^ */
      if (not) pi++;
      let match = false;
      const c = s.charCodeAt(si);
      for (;;) {
        if (pi >= pn) {
          pi--; // an unterminated class ends the pattern (as in redis)
          break;
        }
        const q = p.charCodeAt(pi);
        if (q === 92 /* \ */ && pn - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === c) match = true;
        } else if (q === 93 /* ] */) {
          break;
        } else if (pn - pi >= 3 && p.charCodeAt(pi + 1) === 45 /* - */) {
          let lo = q;
          let hi = p.charCodeAt(pi + 2);
          if (lo > hi) [lo, hi] = [hi, lo];
          pi += 2;
          if (c >= lo && c <= hi) match = true;
        } else if (q === c) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      if (ch === 92 /* \ */ && pn - pi >= 2) pi++;
      if (p.charCodeAt(pi) !== s.charCodeAt(si)) return false;
      si++;
    }
    pi++;
    if (si === sn) {
      while (pi < pn && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === pn && si === sn;
}

/** The pub/sub commands (PING's subscribed form is in commands.ts). */
export const PUBSUB_COMMANDS: Command[] = [
  { name: 'subscribe', arity: -2, pubsub: true, run: (x) => x.pubsub.subscribe(x, false) },
  { name: 'unsubscribe', arity: -1, pubsub: true, run: (x) => x.pubsub.unsubscribe(x, false) },
  { name: 'psubscribe', arity: -2, pubsub: true, run: (x) => x.pubsub.subscribe(x, true) },
  { name: 'punsubscribe', arity: -1, pubsub: true, run: (x) => x.pubsub.unsubscribe(x, true) },
  { name: 'publish', arity: 3, run: (x) => x.pubsub.publish(x) },
];
