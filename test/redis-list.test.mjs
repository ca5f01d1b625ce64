// Lists of the redis example (examples/redis/list.ts), which keeps elements packed in byte chunks
// (8 KiB, an element over 2 KiB in a chunk of its own, a new list's chunk starting small): pushes
// at both ends, pops with counts, LRANGE and LINDEX across chunk boundaries, binary elements, a
// seeded random sequence against a JS array model (and against a real redis-server when one is
// installed), and the memory estimate. Replies are compared byte for byte with what redis 7.0
// answers: the expected bytes are built from the model.
import t from 'tap';
import { start } from './helpers/engine.mjs';
import { RawClient, has, startRedisServer } from './helpers/resp.mjs';

const HANDLER = new URL('../dist/examples/redis/handler.js', import.meta.url);
const NO_REDIS = has('redis-server') ? false : 'redis-server is not installed (apt-get install redis-server): nothing to compare with';

// Replies as redis 7.0 writes them in RESP2.
const int = (n) => Buffer.from(`:${n}\r\n`);
const bulk = (b) => Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
const array = (items) => Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items.map(bulk)]);
const NIL = Buffer.from('$-1\r\n');
const NIL_ARRAY = Buffer.from('*-1\r\n');

/** A seeded PRNG (mulberry32): the same sequence every run, so a failure replays. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Element `i` of `size` bytes: binary (CR LF, 0x00 and 0xff at its start when it has room), its
 * index at its end (so elements of 8 bytes and more are all different), a pattern between.
 */
function element(size, i) {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  const head = [0x0d, 0x0a, 0x00, 0xff];
  for (let k = 0; k < Math.min(size, head.length); k++) b[k] = head[k];
  if (size >= 8) b.writeUInt32BE(i >>> 0, size - 4);
  return b;
}

/** One connection to the example (one loop), closed in teardown. */
async function example(t, options = {}) {
  const { port } = await start(t, HANDLER, { numEventLoop: 1, ...options });
  const c = await RawClient.open(port);
  t.teardown(() => c.close());
  return c;
}

/** Checks `got` is `want` byte for byte; on a mismatch names the first differing offset instead of printing megabytes. */
function sameBytes(t, got, want, label) {
  if (got.equals(want)) return t.pass(label);
  let at = 0;
  while (at < got.length && at < want.length && got[at] === want[at]) at++;
  t.fail(`${label}: ${got.length} bytes where ${want.length} were expected, first difference at ${at}: ` +
    `${JSON.stringify(got.toString('latin1', at, at + 40))} vs ${JSON.stringify(want.toString('latin1', at, at + 40))}`);
}

/** Sends `steps` ([args, expected reply]) pipelined, in batches, and checks every reply; stops at the first mismatch. */
async function expectAll(t, c, steps, label, batch = 500) {
  for (let i = 0; i < steps.length; i += batch) {
    const part = steps.slice(i, i + batch);
    const got = await c.pipeline(part.map(([args]) => args), 30000);
    for (let k = 0; k < part.length; k++) {
      if (!got[k].equals(part[k][1])) {
        sameBytes(t, got[k], part[k][1], `${label}: step ${i + k} (${part[k][0].slice(0, 3).map((a) => String(a).slice(0, 20)).join(' ')})`);
        return false;
      }
    }
  }
  t.pass(`${label}: ${steps.length} replies as expected`);
  return true;
}

/**
 * Pushes `n` elements of `size` bytes onto `key` from both ends (seeded: LPUSH or RPUSH of 1 to 5
 * elements at a time); returns the model, the list as it should be.
 */
async function fill(t, c, key, size, n, seed) {
  const rnd = prng(seed);
  const model = [];
  const steps = [];
  for (let i = 0; i < n;) {
    const k = Math.min(n - i, 1 + Math.floor(rnd() * 5));
    const els = Array.from({ length: k }, (_, j) => element(typeof size === 'function' ? size(i + j) : size, i + j));
    i += k;
    const front = rnd() < 0.5;
    if (front) for (const e of els) model.unshift(e);
    else model.push(...els);
    steps.push([[front ? 'LPUSH' : 'RPUSH', key, ...els], int(model.length)]);
  }
  await expectAll(t, c, steps, `${n} elements of ${typeof size === 'function' ? 'mixed sizes' : `${size} B`} pushed at both ends`);
  return model;
}

/** Pops `key` empty from alternating ends with growing counts; checks every reply and that the key is gone. */
async function drain(t, c, key, model, label) {
  const steps = [];
  const counts = [1, 2, 7, 30, 100, 333, 1000];
  for (let i = 0; model.length > 0; i++) {
    const front = i % 2 === 0;
    const k = counts[i % counts.length];
    const popped = front ? model.splice(0, k) : model.splice(Math.max(0, model.length - k), k).reverse();
    steps.push([[front ? 'LPOP' : 'RPOP', key, String(k)], array(popped)]);
  }
  steps.push([['EXISTS', key], int(0)], [['TYPE', key], Buffer.from('+none\r\n')], [['LLEN', key], int(0)], [['LPOP', key], NIL], [['RPOP', key, '3'], NIL_ARRAY]);
  await expectAll(t, c, steps, `${label}: popped empty from both ends with counts, then gone`);
}

/** LINDEX of every index, from the front and from the back (so every chunk boundary), and out of range. */
function lindexSteps(key, model) {
  const steps = [];
  for (let i = 0; i < model.length; i++) {
    steps.push([['LINDEX', key, String(i)], bulk(model[i])]);
    steps.push([['LINDEX', key, String(-1 - i)], bulk(model[model.length - 1 - i])]);
  }
  steps.push([['LINDEX', key, String(model.length)], NIL], [['LINDEX', key, String(-1 - model.length)], NIL]);
  return steps;
}

/** LRANGE over ranges that start and end anywhere (negative indexes and out-of-range ends included), as redis clamps them. */
function lrangeSteps(key, model, rnd, n) {
  const steps = [[['LRANGE', key, '0', '-1'], array(model)]];
  const len = model.length;
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rnd() * (len + 4)) - 2 - (rnd() < 0.3 ? len : 0);
    const b = Math.floor(rnd() * (len + 4)) - 2 - (rnd() < 0.3 ? len : 0);
    let s = a < 0 ? a + len : a;
    let e = b < 0 ? b + len : b;
    if (s < 0) s = 0;
    if (e >= len) e = len - 1;
    steps.push([['LRANGE', key, String(a), String(b)], array(s > e || s >= len ? [] : model.slice(s, e + 1))]);
  }
  return steps;
}

const SIZES = [
  // [bytes, elements]: enough of each to span many chunks, both ways.
  [0, 6000],
  [1, 6000],
  [64, 1500],
  [65, 1500],
  [2048, 60],
  [3072, 24],
  [100 * 1024, 8],
];

for (const [size, n] of SIZES) {
  t.test(`${size}-byte elements pushed at both ends read back in order, by index and popped with counts`, { timeout: 60000 }, async (t) => {
    const c = await example(t);
    const model = await fill(t, c, 'l', size, n, 1000 + size);
    const rnd = prng(size);
    await expectAll(t, c, [[['LLEN', 'l'], int(model.length)], ...lrangeSteps('l', model, rnd, 30)], 'LLEN and LRANGE');
    await expectAll(t, c, lindexSteps('l', model), 'LINDEX at every index, positive and negative', 2000);
    await drain(t, c, 'l', model, `${size} B`);
  });
}

t.test('elements of every size mixed in one list (shared chunks between own ones)', { timeout: 60000 }, async (t) => {
  const c = await example(t);
  const sizes = [0, 1, 64, 65, 2048, 3072, 5, 300, 100 * 1024];
  // The 100 KiB ones rarer, to keep the test's traffic to a few MiB.
  const sizeOf = (i) => (i % 50 === 49 ? sizes[8] : sizes[i % 8]);
  const model = await fill(t, c, 'mixed', sizeOf, 1200, 7);
  const rnd = prng(8);
  await expectAll(t, c, lrangeSteps('mixed', model, rnd, 40), 'LRANGE');
  await expectAll(t, c, lindexSteps('mixed', model), 'LINDEX at every index', 400);
  await drain(t, c, 'mixed', model, 'mixed sizes');
});

t.test('binary elements: NUL, 0xff and CR LF inside and at the ends come back unchanged', async (t) => {
  const c = await example(t);
  const els = [Buffer.from([0]), Buffer.from([0xff]), Buffer.from('\r\n'), Buffer.from('a\r\nb'), Buffer.from([0, 0xff, 13, 10, 0]), Buffer.alloc(0), Buffer.from('$3\r\nabc\r\n'), Buffer.from('*1\r\n')];
  const model = [];
  const steps = [];
  for (const [i, e] of els.entries()) {
    if (i % 2) model.unshift(e);
    else model.push(e);
    steps.push([[i % 2 ? 'LPUSH' : 'RPUSH', 'bin', e], int(model.length)]);
  }
  steps.push([['LRANGE', 'bin', '0', '-1'], array(model)]);
  for (let i = 0; i < model.length; i++) steps.push([['LINDEX', 'bin', String(i)], bulk(model[i])]);
  steps.push([['LPOP', 'bin'], bulk(model[0])], [['RPOP', 'bin'], bulk(model[model.length - 1])]);
  await expectAll(t, c, steps, 'pushed, read and popped');
});

/**
 * A seeded sequence of `n` list commands on a few keys (LPUSH/RPUSH of 1-4 elements of sizes that
 * straddle the chunk rules, LPOP/RPOP with and without counts, LRANGE, LINDEX, LLEN), with the
 * reply a JS array model expects for each. Lists are popped empty now and then, and so deleted.
 */
function randomSteps(seed, n) {
  const rnd = prng(seed);
  const lists = new Map();
  const sizes = [0, 1, 3, 17, 64, 65, 200, 1000, 2048, 2049, 3072, 8192];
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const steps = [];
  let serial = 0;
  for (let i = 0; i < n; i++) {
    const key = pick(['a', 'b', 'c']);
    const m = lists.get(key) ?? [];
    const r = rnd();
    const len = m.length;
    const index = () => String(Math.floor(rnd() * (2 * len + 6)) - len - 3);
    if (r < 0.4) {
      const front = rnd() < 0.5;
      const els = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => element(rnd() < 0.01 ? 100 * 1024 : pick(sizes), serial++));
      if (front) for (const e of els) m.unshift(e);
      else m.push(...els);
      lists.set(key, m);
      steps.push([[front ? 'LPUSH' : 'RPUSH', key, ...els], int(m.length)]);
    } else if (r < 0.65) {
      const front = rnd() < 0.5;
      const name = front ? 'LPOP' : 'RPOP';
      if (rnd() < 0.4) {
        steps.push([[name, key], len === 0 ? NIL : bulk(front ? m.shift() : m.pop())]);
      } else {
        const k = pick([0, 1, 2, 5, 20, 100, 1000]);
        const want = len === 0 ? NIL_ARRAY : array(front ? m.splice(0, k) : m.splice(Math.max(0, len - k), k).reverse());
        steps.push([[name, key, String(k)], want]);
      }
      if (m.length === 0) lists.delete(key);
    } else if (r < 0.8) {
      const a = Number(index());
      const b = Number(index());
      let s = a < 0 ? a + len : a;
      let e = b < 0 ? b + len : b;
      if (s < 0) s = 0;
      if (e >= len) e = len - 1;
      steps.push([['LRANGE', key, String(a), String(b)], array(s > e || s >= len ? [] : m.slice(s, e + 1))]);
    } else if (r < 0.95) {
      const s = index();
      const at = Number(s) < 0 ? Number(s) + len : Number(s);
      steps.push([['LINDEX', key, s], at >= 0 && at < len ? bulk(m[at]) : NIL]);
    } else {
      steps.push([['LLEN', key], int(len)]);
    }
  }
  for (const key of ['a', 'b', 'c']) steps.push([['LRANGE', key, '0', '-1'], array(lists.get(key) ?? [])], [['EXISTS', key], int(lists.has(key) ? 1 : 0)]);
  return steps;
}

t.test('2000 seeded random list commands answer as a JS array model does', { timeout: 60000 }, async (t) => {
  const c = await example(t);
  for (const seed of [1, 2, 3]) {
    await c.pipeline([['FLUSHALL']]);
    await expectAll(t, c, randomSteps(seed, 2000), `seed ${seed}`, 100);
  }
});

t.test('the same random sequence gets byte-identical replies from redis-server', { skip: NO_REDIS, timeout: 60000 }, async (t) => {
  const c = await example(t);
  const redis = await RawClient.open(await startRedisServer(t));
  t.teardown(() => redis.close());
  const steps = randomSteps(4, 2000);
  for (let i = 0; i < steps.length; i += 100) {
    const part = steps.slice(i, i + 100).map(([args]) => args);
    const [a, b] = await Promise.all([redis.pipeline(part, 30000), c.pipeline(part, 30000)]);
    for (let k = 0; k < part.length; k++) {
      if (!a[k].equals(b[k])) return sameBytes(t, b[k], a[k], `step ${i + k} (${part[k].slice(0, 3).map((x) => String(x).slice(0, 20)).join(' ')})`);
    }
  }
  t.pass(`${steps.length} replies the same`);
});

/** INFO's used_memory: the example's estimate of the bytes its keyspace holds. */
async function usedMemory(c) {
  const [info] = await c.pipeline([['INFO']]);
  return Number(/used_memory:(\d+)/.exec(info.toString('latin1'))[1]);
}

t.test('pushing N elements and popping them all gives the memory estimate back to the byte', { timeout: 60000 }, async (t) => {
  const c = await example(t);
  await c.pipeline([['SET', 'other', 'x'], ['RPUSH', 'keep', 'a', 'b']]);
  const before = await usedMemory(c);
  t.ok(before > 0, `${before} bytes for the other keys`);
  const model = await fill(t, c, 'l', (i) => [3, 100, 5000][i % 3], 3000, 11);
  const full = await usedMemory(c);
  const payload = model.reduce((n, e) => n + e.length, 0);
  t.ok(full - before >= payload, `the list is charged ${full - before} bytes, at least its ${payload} bytes of elements`);
  t.ok(full - before < 2 * payload, 'and well below a JS object per element on top');
  await drain(t, c, 'l', model, 'N elements');
  t.equal(await usedMemory(c), before, 'back where it was once the list is gone');
});

t.test('a list\'s charge is its chunks: small elements cost no JS object each', { timeout: 60000 }, async (t) => {
  const c = await example(t);
  const n = 20000;
  await c.pipeline([['RPUSH', 'l', ...Array.from({ length: n }, (_, i) => String(i % 1000).padStart(3, '0'))]], 30000);
  const used = await usedMemory(c);
  // 3 bytes and a 4-byte boundary each, chunks of 2048 of them; a Uint8Array each would be ~200 more.
  t.ok(used >= n * 3 && used < n * 16, `${used} bytes estimated for ${n} 3-byte elements`);
  const [r] = await c.pipeline([['LPOP', 'l', String(n)]], 30000);
  t.equal(r.toString('latin1', 0, 10), `*${n}\r\n$3`, 'popped empty');
  t.equal(await usedMemory(c), 0, 'and the estimate is back to 0');
});

t.test('a list grows up to maxMemory, then pushes get -OOM; popping it empty lets them in again', { timeout: 60000 }, async (t) => {
  const limit = 256 * 1024;
  const c = await example(t, { handlerOptions: { maxMemory: limit } });
  const oom = Buffer.from("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  const value = Buffer.alloc(100, 'v');
  let pushed = 0;
  for (;;) {
    const [r] = await c.pipeline([['RPUSH', 'l', value]]);
    if (r.equals(oom)) break;
    if (!r.equals(int(pushed + 1))) return sameBytes(t, r, int(pushed + 1), `push ${pushed + 1}`);
    pushed++;
    if (pushed > 10000) return t.fail('no -OOM after 1 MB of pushes');
  }
  const used = await usedMemory(c);
  t.ok(pushed * 100 > limit / 2 && used > limit && used < limit + 16 * 1024, `refused after ${pushed} pushes at ${used} bytes: over the limit by one chunk at most`);
  const [lpushx] = await c.pipeline([['LPUSHX', 'l', value]]);
  sameBytes(t, lpushx, oom, 'LPUSHX too');
  const [len] = await c.pipeline([['LLEN', 'l']]);
  sameBytes(t, len, int(pushed), 'reads are served');
  const [popped] = await c.pipeline([['RPOP', 'l', String(pushed)]], 30000);
  sameBytes(t, popped, array(Array.from({ length: pushed }, () => value)), 'pops are served');
  t.equal(await usedMemory(c), 0, 'the estimate is back to 0');
  const [again] = await c.pipeline([['LPUSH', 'l', value]]);
  sameBytes(t, again, int(1), 'pushes are served again');
});

t.test('a queue moving 50000 elements through (RPUSH at the back, LPOP at the front) holds a few chunks, not its history', { timeout: 60000 }, async (t) => {
  const c = await example(t);
  // One element ahead of each round's, so the queue is never popped empty (which would delete it).
  const model = [element(20, 0)];
  await c.pipeline([['RPUSH', 'q', model[0]]]);
  let serial = 1;
  let most = 0;
  for (let round = 0; round < 100; round++) {
    const els = Array.from({ length: 500 }, () => element(20, serial++));
    model.push(...els);
    const [pushed, popped] = await c.pipeline([['RPUSH', 'q', ...els], ['LPOP', 'q', '500']]);
    const want = model.splice(0, 500);
    if (!pushed.equals(int(model.length + 500)) || !popped.equals(array(want))) {
      sameBytes(t, pushed, int(model.length + 500), `round ${round}: RPUSH`);
      return sameBytes(t, popped, array(want), `round ${round}: LPOP 500`);
    }
    most = Math.max(most, await usedMemory(c));
  }
  t.pass('every reply in order');
  // A chunk: 8 KiB of bytes, at most 2049 boundary slots, CHUNK_COST; the queue spans two or three and keeps one spare.
  t.ok(most < 4 * (8192 + 4 * 2049 + 480), `the estimate peaked at ${most} bytes`);
  const [range] = await c.pipeline([['LRANGE', 'q', '0', '-1']]);
  sameBytes(t, range, array(model), 'what is left, in order');
});
