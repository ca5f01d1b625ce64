/**
 * The commands of the RESP example and their replies, written straight into the connection's
 * output (the reactor's out arena). Replies and errors follow redis 7.0 byte for byte where a
 * client could notice: `-ERR wrong number of arguments for 'get' command`, `-ERR unknown command
 * 'foo', with args beginning with: 'a' `, `-ERR value is not an integer or out of range`,
 * `-WRONGTYPE ...`; test/redis-compat.test.mjs compares them with a real redis-server's.
 *
 * This module has the string, keyspace and server commands and the dispatcher; lists, sets,
 * hashes and sorted sets have a module each. Commands are looked up by their bytes
 * (case-insensitively), without building a string.
 */
import { parseInt64 } from './resp.js';
import {
  Ctx,
  E_NOT_INT,
  E_OOM,
  E_SYNTAX,
  E_WRONGTYPE,
  L,
  R_EMPTY_ARRAY,
  digitCount,
  enc,
  eqLower,
  wrongArity,
  type Command,
  type Session,
  valueAt,
} from './ctx.js';
import { List, LIST_COMMANDS } from './list.js';
import { RSet, SET_COMMANDS } from './set.js';
import { Hash, HASH_COMMANDS } from './hash.js';
import { ZSet, ZSET_COMMANDS } from './zset.js';
import type { Value } from './store.js';
import { PubSub, PUBSUB_COMMANDS } from './pubsub.js';

/** Re-exported for the handler, which builds the one Ctx and runs commands through `execute`. */
export { Ctx, type Command, type Session };

const R_PONG = enc('+PONG\r\n');
const E_OVERFLOW = enc('-ERR increment or decrement would overflow\r\n');
const INT_MINUS_1 = enc(':-1\r\n');
const INT_MINUS_2 = enc(':-2\r\n');

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

/** redis's "unknown command" error: the name as sent and the first arguments, up to ~128 chars. */
function unknownCommand(x: Ctx): void {
  let args = '';
  for (let i = 1; i < x.argc && args.length < 128; i++) args += `'${x.str(i).slice(0, 128 - args.length)}' `;
  x.error(`ERR unknown command '${x.str(0).slice(0, 128)}', with args beginning with: ${args}`);
}

function unknownSubcommand(x: Ctx, container: string): void {
  x.error(`ERR unknown subcommand '${x.str(1).slice(0, 128)}'. Try ${container} HELP.`);
}

// ---- The commands ----

/** Largest deadline accepted (ms): keeps every computation on exact JS integers. */
const MAX_DEADLINE = Number.MAX_SAFE_INTEGER;

function ping(x: Ctx): void {
  if (PubSub.active(x.session.subs)) return PubSub.pong(x);
  if (x.argc > 2) return wrongArity(x, 'ping');
  if (x.argc === 1) x.raw(R_PONG);
  else x.bulk(x.bytes(1));
}

function echo(x: Ctx): void {
  x.bulk(x.bytes(1));
}

function set(x: Ctx): void {
  let nx = false;
  let xx = false;
  let keepTtl = false;
  let get = false;
  let unit = 0; // 0 none, 1 EX, 2 PX, 3 EXAT, 4 PXAT
  let timeArg = -1;
  for (let i = 3; i < x.argc; i++) {
    if (x.is(i, L.nx) && !xx) nx = true;
    else if (x.is(i, L.xx) && !nx) xx = true;
    else if (x.is(i, L.get)) get = true;
    else if (x.is(i, L.keepttl) && unit === 0) keepTtl = true;
    else if (unit === 0 && !keepTtl && i + 1 < x.argc) {
      if (x.is(i, L.ex)) unit = 1;
      else if (x.is(i, L.px)) unit = 2;
      else if (x.is(i, L.exat)) unit = 3;
      else if (x.is(i, L.pxat)) unit = 4;
      else return x.raw(E_SYNTAX);
      timeArg = ++i;
    } else return x.raw(E_SYNTAX);
  }
  let expireAt: number | undefined;
  if (unit !== 0) {
    const t = x.int(timeArg);
    if (t === null) return x.raw(E_NOT_INT);
    if (typeof t === 'bigint' || t <= 0) return x.error("ERR invalid expire time in 'set' command");
    const at = unit === 1 ? x.now + t * 1000 : unit === 2 ? x.now + t : unit === 3 ? t * 1000 : t;
    if (at > MAX_DEADLINE) return x.error("ERR invalid expire time in 'set' command");
    expireAt = at;
  } else if (keepTtl) {
    expireAt = -1;
  }
  const key = x.str(1);
  const store = x.store;
  const old = nx || xx || get ? store.get(key, x.now) : undefined;
  // SET ... GET answers the old value, so it refuses one that is not a string (SET alone replaces any type).
  if (get && old !== undefined && !(old instanceof Uint8Array)) return x.raw(E_WRONGTYPE);
  if ((nx && old !== undefined) || (xx && old === undefined)) {
    if (get && old !== undefined) x.bulk(old as Uint8Array);
    else x.nil();
    return;
  }
  // SET ... GET answers with the old value after the write, so it must not write into it.
  if (get) store.set(key, x.copy(2), expireAt);
  else x.storeArg(key, 2, expireAt);
  if (!get) x.ok();
  else if (old !== undefined) x.bulk(old as Uint8Array);
  else x.nil();
}

function get(x: Ctx): void {
  const v = valueAt(x, Uint8Array);
  if (v === undefined) x.nil();
  else if (v !== null) x.bulk(v);
}

function strlen(x: Ctx): void {
  const v = valueAt(x, Uint8Array);
  if (v !== null) x.integer(v === undefined ? 0 : v.length);
}

function typeOf(v: Value | undefined): string {
  if (v === undefined) return 'none';
  if (v instanceof Uint8Array) return 'string';
  if (v instanceof List) return 'list';
  if (v instanceof RSet) return 'set';
  if (v instanceof Hash) return 'hash';
  if (v instanceof ZSet) return 'zset';
  return 'none';
}

function type(x: Ctx): void {
  x.raw(enc(`+${typeOf(x.store.get(x.str(1), x.now))}\r\n`));
}

function del(x: Ctx): void {
  let n = 0;
  for (let i = 1; i < x.argc; i++) if (x.store.delete(x.str(i), x.now)) n++;
  x.integer(n);
}

function exists(x: Ctx): void {
  let n = 0;
  for (let i = 1; i < x.argc; i++) if (x.store.has(x.str(i), x.now)) n++;
  x.integer(n);
}

/** INCR and friends: adds `delta` to the integer at argv[1], keeping its deadline. */
function incrBy(x: Ctx, delta: number | bigint): void {
  const key = x.str(1);
  const held = x.store.get(key, x.now);
  if (held !== undefined && !(held instanceof Uint8Array)) return x.raw(E_WRONGTYPE);
  const cur = held;
  const value = cur === undefined ? 0 : parseInt64(cur, 0, cur.length);
  if (value === null) return x.raw(E_NOT_INT);
  let r: number | bigint;
  if (typeof value === 'number' && typeof delta === 'number' && Number.isSafeInteger(value + delta)) {
    r = value + delta;
  } else {
    const big = BigInt(value) + BigInt(delta);
    if (big > I64_MAX || big < I64_MIN) return x.raw(E_OVERFLOW);
    r = Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  if (typeof r === 'bigint') {
    x.store.set(key, enc(String(r)), -1);
    return x.integer(r);
  }
  // The value is this key's own buffer (SET, MSET and INCR store copies), so while its length
  // holds, the next INCR rewrites its digits in place, as redis reuses an int-encoded object.
  const len = digitCount(r);
  if (cur !== undefined && cur.length === len) return x.integerInto(r, cur);
  const bytes = new Uint8Array(len);
  x.integerInto(r, bytes);
  x.store.set(key, bytes, -1);
}

function incrByArg(x: Ctx, sign: 1 | -1): void {
  const d = x.int(2);
  if (d === null) return x.raw(E_NOT_INT);
  if (sign === -1) {
    if (d === I64_MIN) return x.error('ERR decrement would overflow');
    return incrBy(x, typeof d === 'bigint' ? -d : -d);
  }
  incrBy(x, d);
}

function mget(x: Ctx): void {
  x.array(x.argc - 1);
  for (let i = 1; i < x.argc; i++) {
    const v = x.store.get(x.str(i), x.now);
    // Keys holding another type read as missing, as in redis.
    if (v instanceof Uint8Array) x.bulk(v);
    else x.nil();
  }
}

function mset(x: Ctx): void {
  if ((x.argc - 1) % 2 !== 0) return wrongArity(x, 'mset');
  for (let i = 1; i < x.argc; i += 2) x.storeArg(x.str(i), i + 1);
  x.ok();
}

function expireGeneric(x: Ctx, name: string, unitMs: number): void {
  const t = x.int(2);
  if (t === null) return x.raw(E_NOT_INT);
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let i = 3; i < x.argc; i++) {
    if (x.is(i, L.nx)) nx = true;
    else if (x.is(i, L.xx)) xx = true;
    else if (x.is(i, L.gt)) gt = true;
    else if (x.is(i, L.lt)) lt = true;
    else return x.error(`ERR Unsupported option ${x.str(i)}`);
  }
  if (nx && (xx || gt || lt)) return x.error('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) return x.error('ERR GT and LT options at the same time are not compatible');
  if (typeof t === 'bigint' || Math.abs(t * unitMs) + x.now > MAX_DEADLINE) {
    return x.error(`ERR invalid expire time in '${name}' command`);
  }
  const at = x.now + t * unitMs;
  const key = x.str(1);
  const dl = x.store.deadline(key, x.now);
  if (dl === undefined) return x.integer(0);
  if ((nx && dl !== -1) || (xx && dl === -1) || (gt && (dl === -1 || at <= dl)) || (lt && dl !== -1 && at >= dl)) {
    return x.integer(0);
  }
  x.store.expireAt(key, at, x.now);
  x.integer(1);
}

function ttlGeneric(x: Ctx, ms: boolean): void {
  const dl = x.store.deadline(x.str(1), x.now);
  if (dl === undefined) return x.raw(INT_MINUS_2);
  if (dl === -1) return x.raw(INT_MINUS_1);
  const left = Math.max(0, dl - x.now);
  x.integer(ms ? left : Math.floor((left + 500) / 1000));
}

function persist(x: Ctx): void {
  x.integer(x.store.persist(x.str(1), x.now) ? 1 : 0);
}

function dbsize(x: Ctx): void {
  x.integer(x.store.size);
}

function flushall(x: Ctx): void {
  if (x.argc > 2) return x.raw(E_SYNTAX);
  if (x.argc === 2 && !x.is(1, L.async) && !x.is(1, L.sync)) return x.raw(E_SYNTAX);
  x.store.clear();
  x.ok();
}

function command(x: Ctx): void {
  if (x.argc === 1) return x.raw(R_EMPTY_ARRAY);
  if (x.is(1, L.docs) || x.is(1, L.info)) return x.raw(R_EMPTY_ARRAY);
  if (x.is(1, L.count)) return x.integer(TABLE.length);
  if (x.is(1, L.list)) {
    x.array(TABLE.length);
    for (const cmd of TABLE) x.bulkString(cmd.name);
    return;
  }
  unknownSubcommand(x, 'COMMAND');
}

function quit(x: Ctx): void {
  x.session.quit = true;
  x.ok();
}

function select(x: Ctx): void {
  const n = x.int(1);
  if (n === null) return x.raw(E_NOT_INT);
  if (n !== 0) return x.error('ERR DB index is out of range');
  x.ok();
}

/** What CONFIG GET reports: what redis-benchmark asks for at start, and the memory limit. */
function configOf(x: Ctx): (readonly [string, string])[] {
  return [['save', ''], ['appendonly', 'no'], ['databases', '1'], ['maxmemory', String(x.store.maxMemory)], ['maxmemory-policy', 'noeviction']];
}

function config(x: Ctx): void {
  if (x.is(1, L.get)) {
    if (x.argc < 3) return wrongArity(x, 'config|get');
    const found: (readonly [string, string])[] = [];
    for (let i = 2; i < x.argc; i++) {
      const want = x.str(i).toLowerCase();
      for (const kv of configOf(x)) if ((want === '*' || want === kv[0]) && !found.some((f) => f[0] === kv[0])) found.push(kv);
    }
    x.array(found.length * 2);
    for (const [k, v] of found) {
      x.bulkString(k);
      x.bulkString(v);
    }
    return;
  }
  if (x.is(1, L.resetstat)) return x.ok();
  if (x.is(1, L.set)) return x.error('ERR CONFIG SET is not supported by this server');
  unknownSubcommand(x, 'CONFIG');
}

function client(x: Ctx): void {
  if (x.is(1, L.setname)) {
    if (x.argc !== 3) return wrongArity(x, 'client|setname');
    const name = x.copy(2);
    for (const b of name) {
      if (b < 33 || b > 126) return x.error('ERR Client names cannot contain spaces, newlines or special characters.');
    }
    x.session.name = name.length > 0 ? name : null;
    return x.ok();
  }
  if (x.is(1, L.getname)) {
    if (x.session.name) x.bulk(x.session.name);
    else x.nil();
    return;
  }
  if (x.is(1, L.setinfo)) {
    if (x.argc !== 4) return wrongArity(x, 'client|setinfo');
    return x.ok();
  }
  if (x.is(1, L.id)) return x.integer(x.session.id);
  unknownSubcommand(x, 'CLIENT');
}

function info(x: Ctx): void {
  x.bulkString(
    '# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nserver:ringloop-example\r\n\r\n' +
      `# Memory\r\nused_memory:${x.store.used}\r\nmaxmemory:${x.store.maxMemory}\r\nmaxmemory_policy:noeviction\r\n\r\n` +
      `# Keyspace\r\ndb0:keys=${x.store.size},expires=${x.store.volatileSize},avg_ttl=0\r\n`,
  );
}

const TABLE: Command[] = [
  { name: 'ping', arity: -1, pubsub: true, run: ping },
  { name: 'echo', arity: 2, run: echo },
  { name: 'set', arity: -3, denyoom: true, run: set },
  { name: 'get', arity: 2, run: get },
  { name: 'strlen', arity: 2, run: strlen },
  { name: 'type', arity: 2, run: type },
  { name: 'del', arity: -2, run: del },
  { name: 'exists', arity: -2, run: exists },
  { name: 'incr', arity: 2, denyoom: true, run: (x) => incrBy(x, 1) },
  { name: 'decr', arity: 2, denyoom: true, run: (x) => incrBy(x, -1) },
  { name: 'incrby', arity: 3, denyoom: true, run: (x) => incrByArg(x, 1) },
  { name: 'decrby', arity: 3, denyoom: true, run: (x) => incrByArg(x, -1) },
  { name: 'mget', arity: -2, run: mget },
  { name: 'mset', arity: -3, denyoom: true, run: mset },
  { name: 'expire', arity: -3, run: (x) => expireGeneric(x, 'expire', 1000) },
  { name: 'pexpire', arity: -3, run: (x) => expireGeneric(x, 'pexpire', 1) },
  { name: 'ttl', arity: 2, run: (x) => ttlGeneric(x, false) },
  { name: 'pttl', arity: 2, run: (x) => ttlGeneric(x, true) },
  { name: 'persist', arity: 2, run: persist },
  { name: 'dbsize', arity: 1, run: dbsize },
  { name: 'flushall', arity: -1, run: flushall },
  { name: 'flushdb', arity: -1, run: flushall },
  { name: 'command', arity: -1, run: command },
  { name: 'quit', arity: -1, pubsub: true, run: quit },
  { name: 'select', arity: 2, run: select },
  { name: 'config', arity: -2, run: config },
  { name: 'client', arity: -2, run: client },
  { name: 'info', arity: -1, run: info },
  ...LIST_COMMANDS,
  ...SET_COMMANDS,
  ...HASH_COMMANDS,
  ...ZSET_COMMANDS,
  ...PUBSUB_COMMANDS,
];

/** Buckets by (name length, first letter): a lookup compares a handful of names at most. */
const MAX_NAME = 16;
const BUCKETS: ({ cmd: Command; lower: Uint8Array }[] | undefined)[] = new Array((MAX_NAME + 1) * 32);
for (const c of TABLE) {
  const lower = enc(c.name);
  const k = (lower.length << 5) | (lower[0]! & 31);
  // Every entry gets the same shape (both flags present), so the dispatcher's loads of them stay
  // monomorphic: the table's literals omit the flags they do not set.
  const cmd: Command = { name: c.name, arity: c.arity, denyoom: c.denyoom === true, pubsub: c.pubsub === true, run: c.run };
  (BUCKETS[k] ??= []).push({ cmd, lower });
}

/** The command named by argument 0 of what `x` holds, or undefined. */
function lookup(src: Uint8Array, off: number, len: number): Command | undefined {
  if (len === 0 || len > MAX_NAME) return undefined;
  const list = BUCKETS[(len << 5) | (src[off]! & 31)];
  if (list === undefined) return undefined;
  for (const e of list) if (eqLower(src, off, len, e.lower)) return e.cmd;
  return undefined;
}

/** Runs the command `x` was loaded with and writes its reply. */
export function execute(x: Ctx): void {
  const p = x.p;
  const cmd = lookup(p.src, p.argOff[0]!, p.argLen[0]!);
  if (cmd === undefined) return unknownCommand(x);
  if (!arityOk(cmd.arity, p.argc)) return wrongArity(x, cmd.name);
  if (cmd.pubsub !== true && PubSub.active(x.session.subs)) {
    return x.error(`ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
  }
  // After the name and arity checks, as in redis: over the limit, what may grow memory is refused.
  if (cmd.denyoom === true && x.store.overLimit) return x.raw(E_OOM);
  cmd.run(x);
}

/** Names of every command (lowercase). */
export const COMMAND_NAMES: readonly string[] = TABLE.map((c) => c.name);
