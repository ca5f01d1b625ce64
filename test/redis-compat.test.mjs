// The redis example answers as redis-server does, byte for byte: the same command sequences go to
// a real redis-server (started for this file: random port, no persistence, temp dir) and to the
// example, and their raw replies are compared, edge cases included (missing keys, wrong types,
// out-of-range and negative indexes, counts, arity errors). Replies that are random or unordered
// in redis itself (SPOP's pick, SMEMBERS's order) are compared for what is fixed about them.
import t from 'tap';
import { start } from './helpers/engine.mjs';
import { RawClient, elementsOf, has, startRedisServer } from './helpers/resp.mjs';

const HANDLER = new URL('../dist/examples/redis/handler.js', import.meta.url);
const SKIP = has('redis-server') ? false : 'redis-server is not installed (apt-get install redis-server): nothing to compare with';

/** A command to send; `{ unordered: args }` compares its array reply as a multiset, `{ shape: args }` only its first line. */
const unordered = (...args) => ({ args, compare: 'unordered' });
const shape = (...args) => ({ args, compare: 'shape' });

/** Both servers, fresh for the test, each behind one connection. */
async function servers(t) {
  const redisPort = await startRedisServer(t);
  const { port } = await start(t, HANDLER, { numEventLoop: 1 });
  const redis = await RawClient.open(redisPort);
  const example = await RawClient.open(port);
  t.teardown(() => Promise.all([redis.close(), example.close()]));
  return { redis, example };
}

function comparable(reply, compare) {
  if (compare === 'shape') return reply.toString('latin1', 0, reply.indexOf('\r\n'));
  if (compare === 'unordered') {
    const elements = elementsOf(reply);
    if (elements) return `${reply.toString('latin1', 0, reply.indexOf('\r\n'))} ${elements.map((e) => e.toString('latin1')).sort().join('')}`;
  }
  return reply.toString('latin1');
}

/**
 * Sends `steps` (arrays of arguments, or `unordered`/`shape` entries) to both servers, pipelined in
 * one write after a FLUSHALL, and checks every reply is the same; a mismatch names its command.
 */
async function same(t, { redis, example }, steps, label) {
  const list = [['FLUSHALL'], ...steps].map((s) => (Array.isArray(s) ? { args: s, compare: 'bytes' } : s));
  const [a, b] = await Promise.all([redis.pipeline(list.map((s) => s.args)), example.pipeline(list.map((s) => s.args))]);
  const mismatches = [];
  for (let i = 0; i < list.length; i++) {
    const want = comparable(a[i], list[i].compare);
    const got = comparable(b[i], list[i].compare);
    if (want !== got) mismatches.push({ command: list[i].args.join(' '), redis: want, example: got });
  }
  t.same(mismatches, [], `${label}: ${list.length - 1} replies identical to redis-server's`);
}

t.test('strings and keys across types: STRLEN, TYPE, GET, INCR, SET ... GET, MGET, DEL, EXISTS, EXPIRE', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  await same(t, both, [
    ['SET', 's', 'value'], ['STRLEN', 's'], ['STRLEN', 'nokey'], ['TYPE', 's'], ['TYPE', 'nokey'],
    ['SET', 'e', ''], ['STRLEN', 'e'], ['GET', 'e'],
    ['RPUSH', 'l', 'a'], ['SADD', 'st', 'a'], ['HSET', 'h', 'f', 'v'], ['ZADD', 'z', '1', 'm'],
    ['TYPE', 'l'], ['TYPE', 'st'], ['TYPE', 'h'], ['TYPE', 'z'],
    ['GET', 'l'], ['STRLEN', 'l'], ['INCR', 'st'], ['INCRBY', 'h', '2'], ['DECR', 'z'], ['DECRBY', 'l', '1'],
    ['SET', 'l', 'v', 'GET'], ['SET', 'l', 'v', 'NX', 'GET'], ['TYPE', 'l'],
    ['MGET', 's', 'l', 'st', 'h', 'z', 'nokey'],
    ['SET', 'h', 'replaced'], ['TYPE', 'h'], ['GET', 'h'],
    ['EXISTS', 's', 'l', 'st', 'h', 'z', 'nokey'], ['DBSIZE'],
    ['EXPIRE', 'z', '100'], ['TTL', 'z'], ['PERSIST', 'z'], ['TTL', 'z'],
    ['DEL', 'st', 'z', 'nokey'], ['EXISTS', 'st', 'z'], ['DBSIZE'],
    ['SET', 'n', '10'], ['INCR', 'n'], ['STRLEN', 'n'], ['TYPE', 'n'],
  ], 'strings and keys');
});

t.test('counters: INCR/DECR/INCRBY across digit counts, signs and 1024 (values rewritten in place), GET/STRLEN of each', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const steps = [['SET', 'c', '1020']];
  for (let i = 0; i < 6; i++) steps.push(['INCR', 'c'], ['GET', 'c'], ['STRLEN', 'c']);
  steps.push(['SET', 'd', '3']);
  for (let i = 0; i < 6; i++) steps.push(['DECRBY', 'd', '2'], ['GET', 'd']);
  steps.push(['SET', 'w', '99'], ['INCR', 'w'], ['GET', 'w'], ['DECR', 'w'], ['GET', 'w'], ['STRLEN', 'w']);
  steps.push(['INCRBY', 'w', '9007199254740000'], ['GET', 'w'], ['INCRBY', 'w', '9007199254740000'], ['GET', 'w']);
  steps.push(['SET', 'neg', '-1000'], ['INCR', 'neg'], ['GET', 'neg'], ['DECRBY', 'neg', '-1999'], ['GET', 'neg']);
  steps.push(['SET', 'v', '7'], ['GET', 'v'], ['INCR', 'v'], ['SET', 'v2', '7'], ['INCR', 'v2'], ['GET', 'v'], ['GET', 'v2']);
  steps.push(['MSET', 'm', '5', 'mm', '6'], ['INCR', 'm'], ['INCR', 'mm'], ['MGET', 'm', 'mm']);
  await same(t, both, steps, 'counters');
});

t.test('SET and MSET over a value of the same size (written in place): GET, TTL, KEEPTTL and SET ... GET see the right bytes', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const big = (c) => c.repeat(100);
  await same(t, both, [
    ['SET', 'a', 'one'], ['SET', 'a', 'two'], ['GET', 'a'], ['SET', 'a', 'six', 'GET'], ['GET', 'a'],
    ['SET', 'a', 'ten', 'EX', '100'], ['SET', 'a', 'tin'], ['TTL', 'a'], ['GET', 'a'],
    ['SET', 'a', 'ten', 'EX', '100'], ['SET', 'a', 'tan', 'KEEPTTL'], ['TTL', 'a'], ['GET', 'a'],
    ['SET', 'a', 'abc', 'PX', '100000'], ['SET', 'a', 'xyz', 'EX', '5'], ['TTL', 'a'], ['GET', 'a'],
    ['SET', 'b', big('p')], ['SET', 'b', big('q')], ['GET', 'b'], ['MSET', 'b', big('r'), 'a', 'mmm'], ['MGET', 'a', 'b'],
    ['SET', 'a', 'xx', 'NX'], ['SET', 'a', 'yyy', 'XX'], ['GET', 'a'], ['SET', 'a', 'zzz', 'XX', 'GET'], ['GET', 'a'],
    ['RPUSH', 'l', 'abc'], ['SET', 'l', 'abc'], ['TYPE', 'l'], ['GET', 'l'],
  ], 'same-size overwrites');
});

t.test('keys that differ by one byte, or only in case, stay different keys', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const keys = ['key:1', 'key:2', 'Key:1', 'key:1 ', 'key:\x001', 'k'.repeat(64), 'k'.repeat(65), 'k'.repeat(63) + 'j'];
  const steps = keys.map((k, i) => ['SET', k, `v${i}`]);
  steps.push(['DBSIZE'], ...keys.map((k) => ['GET', k]), ...keys.map((k) => ['INCR', k]), ['MGET', ...keys]);
  for (let i = 0; i < 1500; i++) steps.push(['SET', `many:${i}`, String(i)]);
  for (let i = 0; i < 1500; i += 7) steps.push(['GET', `many:${i}`]);
  steps.push(['DBSIZE']);
  await same(t, both, steps, 'keys');
});

t.test('GET and LPOP of values around the short-reply size (0 to 70 bytes, binary) answer byte for byte', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const steps = [];
  for (let n = 0; n <= 70; n++) {
    const v = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 37 + n) % 256)).join('');
    steps.push(['SET', `v${n}`, v], ['GET', `v${n}`], ['RPUSH', `l${n}`, v], ['LPOP', `l${n}`]);
  }
  steps.push(['MGET', 'v56', 'v57', 'v58', 'v9', 'v10', 'v0']);
  await same(t, both, steps, 'short bulk replies');
});

t.test('lists: pushes, pops with counts, LRANGE and LINDEX with negative and out-of-range indexes', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const many = Array.from({ length: 700 }, (_, i) => `e${i}`);
  await same(t, both, [
    ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'], ['LPUSH', 'l', 'z', 'y'], ['LLEN', 'l'], ['LLEN', 'nokey'],
    ['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l', '-3', '-1'], ['LRANGE', 'l', '-100', '100'], ['LRANGE', 'l', '5', '2'],
    ['LRANGE', 'l', '7', '10'], ['LRANGE', 'l', '6', '10'], ['LRANGE', 'l', '-1', '-3'], ['LRANGE', 'l', '0', '0'],
    ['LRANGE', 'l', '-7', '-7'], ['LRANGE', 'l', '-8', '-8'], ['LRANGE', 'l', '2', '-2'],
    ['LRANGE', 'l', '9223372036854775807', '-9223372036854775808'], ['LRANGE', 'l', '-9223372036854775808', '9223372036854775807'],
    ['LRANGE', 'l', '0', '9223372036854775808'], ['LRANGE', 'l', '1.5', '2'], ['LRANGE', 'l', 'x', '1'], ['LRANGE', 'l', '0', ' 1'],
    ['LRANGE', 'l', '+1', '2'], ['LRANGE', 'l', '-0', '2'], ['LRANGE', 'l', '00', '2'], ['LRANGE', 'nokey', '0', '-1'], ['LRANGE', 'nokey', 'x', '1'],
    ['LINDEX', 'l', '0'], ['LINDEX', 'l', '-1'], ['LINDEX', 'l', '6'], ['LINDEX', 'l', '7'], ['LINDEX', 'l', '-7'], ['LINDEX', 'l', '-8'],
    ['LINDEX', 'l', 'x'], ['LINDEX', 'nokey', 'x'], ['LINDEX', 'nokey', '0'],
    ['LPOP', 'l'], ['RPOP', 'l'], ['LPOP', 'l', '2'], ['RPOP', 'l', '2'], ['LPOP', 'l', '0'], ['RPOP', 'l', '0'],
    ['LPOP', 'l', '-1'], ['LPOP', 'l', 'x'], ['RPOP', 'l', '1.0'], ['LPOP', 'l', '1', '2'], ['LRANGE', 'l', '0', '-1'],
    ['RPOP', 'l', '100'], ['EXISTS', 'l'], ['LPOP', 'l'], ['LPOP', 'l', '1'], ['RPOP', 'l', '0'], ['LLEN', 'l'],
    ['RPUSH', 'one', 'x'], ['RPOP', 'one'], ['EXISTS', 'one'], ['RPUSH', 'one', 'x'], ['LPOP', 'one', '9223372036854775807'], ['EXISTS', 'one'],
    ['LPUSHX', 'nokey', 'a'], ['RPUSHX', 'nokey', 'a'], ['EXISTS', 'nokey'],
    ['RPUSH', 'l2', 'x'], ['LPUSHX', 'l2', 'a', 'b'], ['RPUSHX', 'l2', 'c', 'd'], ['LRANGE', 'l2', '0', '-1'],
    ['RPUSH', 'bin', Buffer.from([0, 13, 10, 255]), ''], ['LRANGE', 'bin', '0', '-1'], ['LINDEX', 'bin', '1'],
    ['RPUSH', 'big', ...many], ['LPUSH', 'big', 'head'], ['LLEN', 'big'], ['LRANGE', 'big', '0', '99'], ['LRANGE', 'big', '250', '260'],
    ['LRANGE', 'big', '-5', '-1'], ['LINDEX', 'big', '500'], ['LPOP', 'big', '300'], ['RPOP', 'big', '300'], ['LRANGE', 'big', '0', '-1'],
    // Replies larger than the example's 64 KiB reply scratch, and elements over 1 KiB.
    ['RPUSH', 'large', ...[1, 2, 3, 4, 5].map((i) => String(i).repeat(40000)), 'small'], ['LRANGE', 'large', '0', '-1'], ['LRANGE', 'large', '1', '2'], ['LRANGE', 'large', '-1', '-1'],
  ], 'lists');
});

t.test('sets: SADD, SREM, SCARD, SISMEMBER, SMEMBERS and SPOP with counts', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  await same(t, both, [
    ['SADD', 's', 'a', 'b', 'c', 'a'], ['SADD', 's', 'c', 'd'], ['SCARD', 's'], ['SCARD', 'nokey'],
    ['SISMEMBER', 's', 'a'], ['SISMEMBER', 's', 'z'], ['SISMEMBER', 'nokey', 'a'],
    ['SREM', 's', 'a', 'z'], ['SREM', 'nokey', 'a'], ['SCARD', 's'], unordered('SMEMBERS', 's'), ['SMEMBERS', 'nokey'],
    ['SPOP', 'nokey'], ['SPOP', 'nokey', '0'], ['SPOP', 'nokey', '5'], ['SPOP', 's', '-1'], ['SPOP', 's', 'x'], ['SPOP', 's', '1', '2'],
    ['SPOP', 's', '0'], ['SCARD', 's'],
    ['SADD', 'one', 'x'], ['SPOP', 'one'], ['EXISTS', 'one'], ['SADD', 'one', 'x'], ['SPOP', 'one', '1'], ['EXISTS', 'one'],
    ['SADD', 'two', 'x', 'y'], unordered('SPOP', 'two', '5'), ['EXISTS', 'two'],
    ['SADD', 'ints', '3', '1', '2', '10'], unordered('SPOP', 'ints', '4'), ['EXISTS', 'ints'],
    ['SADD', 'r', 'a', 'b', 'c', 'd', 'e'], shape('SPOP', 'r', '2'), ['SCARD', 'r'], shape('SPOP', 'r'), ['SCARD', 'r'], shape('SPOP', 'r', '9223372036854775807'), ['EXISTS', 'r'],
    ['SADD', 'bin', Buffer.from([0, 13, 10]), ''], ['SISMEMBER', 'bin', ''], ['SCARD', 'bin'],
    ['SREM', 'bin', Buffer.from([0, 13, 10]), '', 'more'], ['EXISTS', 'bin'],
  ], 'sets');
});

t.test('hashes: HSET, HGET, HDEL, HLEN, HEXISTS, HGETALL', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  await same(t, both, [
    ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'], ['HSET', 'h', 'f1', 'new', 'f3', 'v3'], ['HGET', 'h', 'f1'], ['HGET', 'h', 'nof'], ['HGET', 'nokey', 'f'],
    ['HLEN', 'h'], ['HLEN', 'nokey'], ['HEXISTS', 'h', 'f1'], ['HEXISTS', 'h', 'no'], ['HEXISTS', 'nokey', 'f'],
    ['HGETALL', 'h'], ['HGETALL', 'nokey'], ['HDEL', 'h', 'f1', 'no'], ['HDEL', 'nokey', 'f'], ['HGETALL', 'h'],
    ['HSET', 'h', 'f2', 'again', 'f2', 'twice'], ['HGET', 'h', 'f2'], ['HSET', 'h', 'f1', 'back'], ['HGETALL', 'h'],
    ['HDEL', 'h', 'f1', 'f2', 'f3', 'f4'], ['EXISTS', 'h'], ['HLEN', 'h'],
    ['HSET', 'e', '', ''], ['HGET', 'e', ''], ['HGETALL', 'e'],
    ['HSET', 'bin', Buffer.from([0, 13, 10]), Buffer.from([255, 0])], ['HGET', 'bin', Buffer.from([0, 13, 10])], ['HGETALL', 'bin'],
    ['HSET', 'n', 'f', '12'], ['HGET', 'n', 'f'],
  ], 'hashes');
});

t.test('sorted sets: ZADD options, scores as redis reads and writes them, ZPOPMIN/ZPOPMAX with counts', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  await same(t, both, [
    ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'CH', '5', 'a', '2', 'b'], ['ZADD', 'z', 'NX', '10', 'a', '4', 'd'],
    ['ZADD', 'z', 'XX', '20', 'a', '30', 'e'], ['ZSCORE', 'z', 'a'], ['ZSCORE', 'z', 'e'], ['ZSCORE', 'nokey', 'a'],
    ['ZADD', 'z', 'GT', '1', 'a'], ['ZSCORE', 'z', 'a'], ['ZADD', 'z', 'LT', 'CH', '1', 'a'], ['ZSCORE', 'z', 'a'],
    ['ZADD', 'z', 'GT', 'CH', '100', 'a', '0', 'new'], ['ZADD', 'z', 'xx', 'gt', 'ch', '50', 'a', '200', 'b'],
    ['ZADD', 'z', 'INCR', '5', 'a'], ['ZADD', 'z', 'INCR', 'NX', '5', 'a'], ['ZADD', 'z', 'XX', 'INCR', '1', 'nomember'], ['ZADD', 'z', 'INCR', 'GT', '-1', 'a'],
    ['ZADD', 'z', 'INCR', '1.5', 'fresh'], ['ZADD', 'nokey', 'XX', '1', 'a'], ['ZADD', 'nokey', 'XX', 'INCR', '1', 'a'], ['EXISTS', 'nokey'],
    ['ZADD', 'z', '1.5', 'f', '0.1', 'g', '-2.5e-3', 'h', '1e300', 'i', '-inf', 'j', '+inf', 'k', '0x10', 'l', '1E2', 'm', '.5', 'n', '5.', 'o'],
    ['ZADD', 'z', '123456789012345678', 'p', '0.30000000000000004', 'q', '1e-5', 'r', '4.9e-324', 's', '-1.7976931348623157e308', 't'],
    ['ZSCORE', 'z', 'g'], ['ZSCORE', 'z', 'i'], ['ZSCORE', 'z', 'j'], ['ZSCORE', 'z', 'p'], ['ZSCORE', 'z', 'r'], ['ZCARD', 'z'], ['ZCARD', 'nokey'],
    ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z'], ['ZPOPMIN', 'z', '3'], ['ZPOPMAX', 'z', '0'], ['ZPOPMIN', 'z', '-1'], ['ZPOPMIN', 'z', 'x'],
    ['ZPOPMIN', 'z', '1', '2'], ['ZPOPMIN', 'nokey'], ['ZPOPMIN', 'nokey', '3'], ['ZPOPMAX', 'nokey', '0'],
    ['ZADD', 't', '1', 'b', '1', 'a', '1', 'c', '1', 'ab', '0', 'z', '1', ''], ['ZPOPMIN', 't', '10'], ['EXISTS', 't'],
    ['ZADD', 't', '1', 'b', '1', 'a', '1', 'c', '1', 'ab'], ['ZPOPMAX', 't', '3'], ['ZCARD', 't'],
    ['ZADD', 'z', 'nan', 'a'], ['ZADD', 'z', '1'], ['ZADD', 'z', '1', 'a', '2'], ['ZADD', 'z', 'NX', 'XX', '1', 'a'], ['ZADD', 'z', 'GT', 'LT', '1', 'a'],
    ['ZADD', 'z', 'NX', 'GT', '1', 'a'], ['ZADD', 'z', 'INCR', '1', 'a', '2', 'b'], ['ZADD', 'z', 'abc', 'a'], ['ZADD', 'z', ' 1', 'a'], ['ZADD', 'z', '1 ', 'a'],
    ['ZADD', 'z', '', 'a'], ['ZADD', 'z', '1e400', 'a'], ['ZADD', 'z', '1e-400', 'a'], ['ZADD', 'z', '0x', 'a'], ['ZADD', 'z', '1_0', 'a'], ['ZADD', 'z', 'infinity', 'inf'],
    ['ZADD', 'z', 'NX'], ['ZADD', 'z', 'CH', 'CH', '1', 'a'], ['ZADD', 'z', '1', 'ok', 'bad', 'notadded'], ['ZSCORE', 'z', 'ok'],
    ['ZADD', 'z', '-inf', 'minf'], ['ZADD', 'z', 'INCR', '+inf', 'minf'], ['ZSCORE', 'z', 'minf'],
    ['ZADD', 'zero', '-0', 'x'], ['ZSCORE', 'zero', 'x'], ['ZADD', 'zero', 'INCR', '-0', 'y'], ['ZPOPMIN', 'zero', '2'],
    ['ZREM', 'z', 'a', 'nomember'], ['ZREM', 'nokey', 'a'], ['ZCARD', 'z'], ['ZPOPMAX', 'z', '100'], ['EXISTS', 'z'],
    ['ZADD', 'one', '1', 'x'], ['ZREM', 'one', 'x', 'y'], ['EXISTS', 'one'],
  ], 'sorted sets');
});

const KEYS = { string: 'kstr', list: 'klist', set: 'kset', hash: 'khash', zset: 'kzset' };
const BY_TYPE = {
  string: [['GET'], ['STRLEN'], ['INCR'], ['INCRBY', '1'], ['DECR'], ['DECRBY', '1'], ['SET', 'x', 'GET']],
  list: [['LPUSH', 'a'], ['RPUSH', 'a'], ['LPUSHX', 'a'], ['RPUSHX', 'a'], ['LPOP'], ['RPOP'], ['LPOP', '1'], ['RPOP', '0'], ['LRANGE', '0', '-1'], ['LLEN'], ['LINDEX', '0']],
  set: [['SADD', 'a'], ['SREM', 'a'], ['SPOP'], ['SPOP', '1'], ['SCARD'], ['SISMEMBER', 'a'], ['SMEMBERS']],
  hash: [['HSET', 'f', 'v'], ['HGET', 'f'], ['HDEL', 'f'], ['HLEN'], ['HEXISTS', 'f'], ['HGETALL']],
  zset: [['ZADD', '1', 'a'], ['ZADD', 'INCR', '1', 'a'], ['ZPOPMIN'], ['ZPOPMAX', '1'], ['ZCARD'], ['ZSCORE', 'a'], ['ZREM', 'a']],
};

t.test('every command on a key of another type is a WRONGTYPE error, and changes nothing', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  const steps = [['SET', KEYS.string, '1'], ['RPUSH', KEYS.list, 'a', 'b'], ['SADD', KEYS.set, 'a'], ['HSET', KEYS.hash, 'f', 'v'], ['ZADD', KEYS.zset, '1', 'a']];
  for (const [type, commands] of Object.entries(BY_TYPE)) {
    for (const [name, ...rest] of commands) {
      for (const [other, key] of Object.entries(KEYS)) if (other !== type) steps.push([name, key, ...rest]);
    }
  }
  steps.push(['GET', KEYS.string], ['LRANGE', KEYS.list, '0', '-1'], ['SMEMBERS', KEYS.set], ['HGETALL', KEYS.hash], ['ZPOPMIN', KEYS.zset, '5'], ['DBSIZE']);
  await same(t, both, steps, 'wrong types');
});

t.test('arity errors, and the checks redis makes before the type', { skip: SKIP, timeout: 60000 }, async (t) => {
  const both = await servers(t);
  // Too few arguments for each command; one too many for those with a fixed arity.
  const fixed = { GET: 1, STRLEN: 1, TYPE: 1, LRANGE: 3, LLEN: 1, LINDEX: 2, SCARD: 1, SISMEMBER: 2, SMEMBERS: 1, HGET: 2, HLEN: 1, HEXISTS: 2, HGETALL: 1, ZCARD: 1, ZSCORE: 2 };
  const atLeast = { SET: 2, MSET: 2, LPUSH: 2, RPUSH: 2, LPUSHX: 2, RPUSHX: 2, LPOP: 1, RPOP: 1, SADD: 2, SREM: 2, SPOP: 1, HSET: 3, HDEL: 2, ZADD: 3, ZPOPMIN: 1, ZPOPMAX: 1, ZREM: 2 };
  const steps = [['RPUSH', 'l', 'a'], ['SET', 's', 'v']];
  for (const [name, n] of Object.entries(fixed)) {
    steps.push([name, ...Array.from({ length: n - 1 }, () => 'k')]);
    steps.push([name, ...Array.from({ length: n + 1 }, () => 'k')]);
  }
  for (const [name, n] of Object.entries(atLeast)) steps.push([name, ...Array.from({ length: n - 1 }, () => 'k')]);
  steps.push(
    ['HSET', 'h', 'f', 'v', 'g'], ['MSET', 'a', '1', 'b'], ['LPOP', 'l', '1', '2'], ['RPOP', 's', '1', '2'], ['SPOP', 'k', '1', '2'], ['ZPOPMAX', 'k', '1', '2'],
    // Count and index errors come before the key's type is looked at, or after it, as in redis.
    ['LPOP', 's', 'x'], ['SPOP', 's', '-1'], ['ZPOPMIN', 's', 'x'], ['LRANGE', 's', 'x', '0'], ['LINDEX', 's', 'x'], ['ZADD', 's', 'x', 'a'], ['ZADD', 's', 'NX', 'XX', '1', 'a'],
    ['lpush', 'l', 'lower'], ['LrAnGe', 'l', '0', '-1'],
  );
  await same(t, both, steps, 'arity and argument errors');
});

t.test('over its memory limit the example refuses writes with redis\'s own OOM error', { skip: SKIP, timeout: 60000 }, async (t) => {
  // redis-server with a 1-byte maxmemory is over it from the start; the example, after one write.
  const redis = await RawClient.open(await startRedisServer(t, ['--maxmemory', '1']));
  const { port } = await start(t, HANDLER, { numEventLoop: 1, handlerOptions: { maxMemory: 1 } });
  const example = await RawClient.open(port);
  t.teardown(() => Promise.all([redis.close(), example.close()]));
  await example.pipeline([['SET', 'first', 'fills it']]);
  const steps = [['SET', 'k', 'v'], ['LPUSH', 'l', 'a'], ['SADD', 's', 'a'], ['HSET', 'h', 'f', 'v'], ['ZADD', 'z', '1', 'a'], ['INCR', 'n'], ['MSET', 'a', 'b'], ['SET', 'k'], ['GET', 'k'], ['DEL', 'k'], ['LPOP', 'l'], ['PING']];
  const [a, b] = await Promise.all([redis.pipeline(steps), example.pipeline(steps)]);
  t.same(b.map(String), a.map(String), 'the same replies: -OOM for what may grow memory, arity errors first, reads and deletes served');
  t.equal(String(b[0]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
});
