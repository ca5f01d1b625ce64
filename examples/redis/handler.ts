/**
 * A RESP2 (redis protocol) server on ringloop that unmodified `redis-cli` and `redis-benchmark`
 * (its whole default test set) talk to: PING, ECHO, SET (EX/PX/EXAT/PXAT/KEEPTTL/NX/XX/GET), GET,
 * STRLEN, TYPE, DEL, EXISTS, INCR/DECR/INCRBY/DECRBY, MGET, MSET, EXPIRE/PEXPIRE (NX/XX/GT/LT),
 * TTL/PTTL, PERSIST, DBSIZE, FLUSHALL/FLUSHDB, SELECT 0, COMMAND (empty docs), CONFIG GET, CLIENT
 * SETNAME/GETNAME/SETINFO/ID, INFO, QUIT; lists (LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LRANGE,
 * LLEN, LINDEX), sets (SADD, SREM, SPOP, SCARD, SISMEMBER, SMEMBERS), hashes (HSET, HGET, HDEL,
 * HLEN, HEXISTS, HGETALL), sorted sets (ZADD, ZPOPMIN, ZPOPMAX, ZCARD, ZSCORE, ZREM), pub/sub
 * (SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH: pubsub.ts, on ringloop's topics); inline
 * commands; replies and errors (WRONGTYPE, arity, ...) as redis 7.0 gives them, byte for byte.
 *
 * Data model: one owner, like redis itself. The whole keyspace lives in a single reactor, which
 * runs every command to completion in arrival order, so multi-key commands (MGET, MSET, DEL,
 * EXISTS) are atomic without locks. The example therefore needs exactly one loop:
 * `npm run example -- redis --loops 1`. With several reactors each would hold its own keyspace
 * and a client would see different data depending on the connection, so the handler factory
 * refuses to start (serve() rejects with the reason).
 *
 * Framing: the listener's `resp` codec (this handler's `codec`, with its limits) frames
 * commands in the native reactor, so `react` gets each command's argument offsets in `c.frames`
 * and walks no bytes; what the codec leaves to the handler (an inline command with quotes, a
 * protocol error: the message is this parser's, as redis words it) and a listener served with
 * `codec: false` go through the JS parser (resp.ts), which the codec's fuzz test holds it to.
 *
 * Pipelining: every command complete in what arrived is run and answered in order in one
 * `react`; the replies are written into the reactor's out arena and leave in one write. A command
 * split across reads stays unconsumed until the rest arrives (the parser resumes where it was).
 * A protocol error is answered `-ERR Protocol error: ...` and the connection is closed, after the
 * replies of the commands before it.
 *
 * Expiry: lazy (every access checks the deadline) plus an active sweep in `tick`, which the
 * engine runs on reactor 0 when served with `ticker: true` (config.ts asks for it, so
 * `npm run example -- redis` has it). Served without it, expiry is lazy only: an expired key
 * nobody touches again keeps its memory (and counts in DBSIZE, as in redis until its own sweep
 * gets to it).
 *
 * Limits: bulk strings up to 32 MiB and arrays up to 1M elements (see resp.ts); both can be set
 * with `handlerOptions: { maxBulk, maxArgs }`. The keyspace's estimated size is bounded by
 * `maxMemory` (bytes, default 256 MiB, 0 = none): past it, commands that may grow it get `-OOM`.
 *
 * Deadlines (config.ts has the reasons for the defaults): a command must be complete
 * `commandTimeout` ms (default 30 s, 0 = off) after its first byte arrived, or the connection is
 * closed (ETIMEDOUT), however slowly the bytes kept coming; a pipeline whose commands each
 * complete in time is never cut off. A silent client is closed by the engine's `idleTimeout`,
 * redis's `timeout` (examples/run.ts sets 300 s). Both are the reactor's timing wheel: no timer
 * per connection, and the read deadline is only moved when a command is left incomplete at the
 * end of a read, or completed after such a read.
 */
import { Action, FrameStatus, defineHandler, loopNow, type Conn, type EventHandler, type InitInfo } from '../../lib/index.js';
import { FrameArgs, RespParser, PROTOCOL_ERROR, type RespLimits } from './resp.js';
import { Ctx, execute, type Session } from './commands.js';
import { Store } from './store.js';
import { DEFAULT_COMMAND_TIMEOUT, DEFAULT_MAXMEMORY } from './config.js';
import { PubSub } from './pubsub.js';

interface Client {
  readonly parser: RespParser;
  readonly session: Session;
  /** Whether a command deadline is set on the connection (a command is incomplete). */
  armed: boolean;
  /**
   * The JS parser stopped inside a command (it keeps its progress): the next read goes on with
   * it, not with the codec's frames, until it is back at a command boundary.
   */
  inParser: boolean;
}

/** How often the sweep runs (ms) and how many keys with a deadline it looks at per run. */
const SWEEP_EVERY = 100;
const SWEEP_BUDGET = 2000;

function optionsOf(options: unknown): Record<string, unknown> {
  return (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
}

function limitsFrom(options: unknown): RespLimits {
  const o = optionsOf(options);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
  return { maxBulk: num(o.maxBulk), maxArgs: num(o.maxArgs) };
}

/** A non-negative number option (0 = off), or its default. */
function nonNegative(v: unknown, fallback: number): number {
  return typeof v === 'number' && v >= 0 ? v : fallback;
}

export default defineHandler((info: InitInfo): EventHandler => {
  if (info.loops !== 1) {
    throw new Error(
      `the redis example keeps its keyspace in one reactor (one owner, like redis itself) and needs exactly one ` +
        `event loop, got ${info.loops}: run it with --loops 1 (serve option numEventLoop: 1)`,
    );
  }
  const limits = limitsFrom(info.options);
  const o = optionsOf(info.options);
  const commandTimeout = nonNegative(o.commandTimeout, DEFAULT_COMMAND_TIMEOUT * 1000);
  const store = new Store(nonNegative(o.maxMemory, DEFAULT_MAXMEMORY));
  const pubsub = new PubSub();
  const x = new Ctx(store, pubsub);
  const args = new FrameArgs();
  let nextId = 1;

  /**
   * After a read that consumed `off` of `len` bytes: a command left incomplete gets the deadline,
   * counted from this read, unless the one it has belongs to this same command (nothing was
   * consumed since it was set); with nothing left over, the deadline is cleared.
   */
  function track(c: Conn, client: Client, off: number, len: number, now: number): void {
    if (commandTimeout === 0) return;
    if (off < len) {
      if (client.armed && off === 0) return;
      c.setReadDeadline(now + commandTimeout);
      client.armed = true;
    } else if (client.armed) {
      c.setReadDeadline(0);
      client.armed = false;
    }
  }

  return {
    // Framed natively by the reactor (the JS parser handles what the codec leaves to it).
    codec: { type: 'resp', maxArgs: limits.maxArgs, maxBulk: limits.maxBulk },
    onOpened(c) {
      const client: Client = {
        parser: new RespParser(limits),
        session: { id: nextId++, name: null, quit: false, subs: null },
        armed: false,
        inParser: false,
      };
      c.context = client;
    },
    onClosed(c) {
      pubsub.closed((c.context as Client).session.subs);
    },
    react(c) {
      const client = c.context as Client;
      const len = c.inboundBuffered;
      if (len === 0) return;
      const p = client.parser;
      const now = loopNow(); // the round's clock: one read per wake-up, not per connection
      let off = 0;
      const f = c.frames;
      if (f !== null && !client.inParser) {
        // Whole commands, framed natively: run them from their argument offsets, read in the
        // round's arena itself (no view is made per read).
        const t = f.table;
        const src = f.source;
        const base = f.base;
        let at = f.first;
        for (let i = 0; i < f.count; i++) {
          if (t[at] === 0) {
            at++;
            continue;
          }
          at = args.load(src, base, t, at);
          x.load(c, args, client.session, now);
          execute(x);
          if (client.session.quit) {
            c.discard();
            return Action.Close;
          }
        }
        off = f.consumed;
        const st = f.status;
        if (st === FrameStatus.Stopped) {
          // The rest is framed in the next round: the deadline stays as it is meanwhile.
          c.discard(off);
          return;
        }
        if (st === FrameStatus.Ok || off === len) {
          track(c, client, off, len, now);
          c.discard(off);
          return;
        }
        // What the codec leaves to us starts at `off`: the JS parser, from a clean state.
        p.reset();
      }
      const buf = c.peek()!;
      for (;;) {
        const r = p.parse(buf, off);
        if (r > 0) {
          off += r;
          if (p.argc > 0) {
            x.load(c, p, client.session, now);
            execute(x);
            if (client.session.quit) {
              c.discard();
              return Action.Close;
            }
          }
          if (off === buf.length) break;
        } else if (r === PROTOCOL_ERROR) {
          c.write(`-ERR Protocol error: ${p.error.replace(/[\r\n]/g, ' ')}\r\n`);
          c.discard();
          return Action.Close;
        } else {
          break;
        }
      }
      client.inParser = off < buf.length;
      track(c, client, off, buf.length, now);
      c.discard(off);
    },
    tick() {
      store.sweep(Date.now(), SWEEP_BUDGET);
      return SWEEP_EVERY;
    },
  };
});
