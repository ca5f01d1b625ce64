// The worker pool: jobs offloaded from react answer their connection from a pool thread.
import t from 'tap';
import net from 'node:net';
import { start, fixture } from './helpers/engine.mjs';
import { Reader, sleep, withTimeout } from './helpers/net.mjs';

const POOL = fixture('pool.mjs');
const HOOK = fixture('pool-jobhook.mjs');
const POOL_OPTS = { pool: { filename: POOL, minThreads: 2, maxThreads: 4 } };

async function client(port) {
  const s = net.connect(port, '127.0.0.1');
  const r = new Reader(s);
  await new Promise((res, rej) => {
    s.once('connect', res);
    s.once('error', rej);
  });
  return { s, r };
}

async function readUntil(r, marker, ms = 10000) {
  let got = '';
  while (!got.includes(marker)) got += (await r.readLine(ms)).toString();
  return got;
}

t.test('async writes from one job arrive in call order', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, POOL, POOL_OPTS);
  const { s, r } = await client(port);
  s.write('seq 2000\n');
  const got = await readUntil(r, 'END');
  const nums = got.replace('END\n', '').split(',').filter(Boolean).map(Number);
  t.same(nums, Array.from({ length: 2000 }, (_, i) => i));
  s.destroy();
});

t.test('writes from many concurrent jobs to one connection never interleave within one asyncWrite', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, POOL, POOL_OPTS);
  const { s, r } = await client(port);
  const K = 24;
  const SIZE = 100_000; // staged (larger than a slot), several kernel writes each
  s.write(`blocks ${K} ${SIZE}\n`);
  const all = await r.readExactly(K * SIZE, 20000);
  const seen = [];
  for (let i = 0; i < K; i++) {
    const block = all.subarray(i * SIZE, (i + 1) * SIZE);
    const v = block[0];
    if (!block.every((b) => b === v)) t.fail(`block ${i} mixes bytes of several writes`);
    seen.push(v);
  }
  t.same(seen.sort((a, b) => a - b), Array.from({ length: K }, (_, i) => i + 1), 'each write arrived once, whole');
  s.destroy();
});

t.test('a write to a closed connection is dropped, reported, and never reaches the newer connection on its slot', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, POOL, { ...POOL_OPTS, numEventLoop: 1 });
  const a = await client(port);
  const { ref: refA } = await messages.waitFor((m) => m.ev === 'opened');
  const lateJob = engine.offload(refA, { ms: 400, text: 'LATE-FOR-A\n' }, { name: 'late' });
  a.s.destroy();
  await messages.waitFor((m) => m.ev === 'closed' && m.ref.slot === refA.slot);
  const b = await client(port);
  const opened = await messages.waitForCount((m) => m.ev === 'opened', 2);
  const refB = opened[1].ref;
  t.equal(refB.slot, refA.slot, 'the new connection reuses the slot');
  t.not(refB.generation, refA.generation, 'with a new generation');
  const ack = await withTimeout(lateJob, 10000, 'late job');
  t.same(ack, { status: 'dropped', code: 'ENOTCONN' }, 'the job learns its write was dropped');
  t.same(await engine.asyncWriteAck(refA, 'STALE\n'), { status: 'dropped', code: 'ENOTCONN' }, 'so does the main thread');
  await sleep(200);
  t.equal(b.r.length, 0, 'nothing reached the new connection');
  b.s.write('ping\n');
  t.equal((await b.r.readLine()).toString(), 'echo ping\n', 'the new connection works');
  t.same(await engine.asyncWriteAck(refB, 'direct\n'), { status: 'written', bytes: 7 }, 'a live write is acknowledged with its byte count');
  t.equal((await b.r.readLine()).toString(), 'direct\n');
  b.s.destroy();
});

t.test('a full inbox gives the producer backpressure, never loss', { timeout: 60000 }, async (t) => {
  const { port } = await start(t, POOL, { ...POOL_OPTS, inboxSlots: 16 });
  for (const mode of ['nowait', 'wait']) {
    const { s, r } = await client(port);
    const N = 20000;
    s.write(`flood ${N} ${mode}\n`);
    const text = await readUntil(r, 'REFUSED', 30000);
    const lines = text.trim().split('\n');
    const refused = Number(lines.pop().split(' ')[1]);
    const nums = lines.map(Number);
    t.ok(nums.every((v, i) => i === 0 || v > nums[i - 1]), `${mode}: what arrives is in order`);
    t.equal(nums.length + refused, N, `${mode}: every write was delivered or reported refused`);
    if (mode === 'nowait') t.ok(refused > 0, 'the small inbox refused some writes (reported as full)');
    else t.equal(refused, 0, 'asyncWriteWait waits for room instead');
    s.destroy();
  }
});

t.test('1 MiB and 8 MiB async writes arrive byte for byte', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, POOL, POOL_OPTS);
  for (const size of [1 << 20, 8 << 20]) {
    const { s, r } = await client(port);
    s.write(`big ${size}\n`);
    const got = await r.readExactly(size, 20000);
    let bad = -1;
    for (let i = 0; i < size; i++) if (got[i] !== ((i * 131 + 7) & 0xff)) { bad = i; break; }
    t.equal(bad, -1, `${size} bytes intact`);
    s.destroy();
  }
});

for (const [cmd, code] of [['throw', 'EJOBFAILED'], ['slow', 'EJOBTIMEOUT'], ['die', 'EJOBFAILED'], ['missing', 'EJOBFAILED']]) {
  t.test(`a job that fails (${cmd}) closes only its connection with ${code}; the reactor keeps serving`, { timeout: 30000 }, async (t) => {
    const { port, messages } = await start(t, POOL, POOL_OPTS);
    const other = await client(port);
    const victim = await client(port);
    const opened = await messages.waitForCount((m) => m.ev === 'opened', 2);
    victim.s.write(`${cmd}\n`);
    const closed = await messages.waitFor((m) => m.ev === 'closed', 15000);
    t.equal(closed.code, code, 'onClosed gets the job error');
    t.ok(opened.some((o) => o.ref.slot === closed.ref.slot && o.ref.loop === closed.ref.loop), 'for the connection that offloaded it');
    await withTimeout(new Promise((res) => (victim.r.closed ? res() : victim.s.once('close', res))), 5000, 'victim closed');
    other.s.write('still there\n');
    t.equal((await other.r.readLine()).toString(), 'echo still there\n', 'other connections are served');
    other.s.write('seq 3\n');
    t.equal((await other.r.readLine()).toString(), '0,1,2,END\n', 'and the pool still runs jobs');
    other.s.destroy();
  });
}

t.test('with onJobError the handler decides and the connection stays open', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, HOOK, { pool: { filename: HOOK, maxThreads: 2 } });
  const { s, r } = await client(port);
  s.write('throw\n');
  t.equal((await r.readLine(10000)).toString(), 'JOBERR EJOBFAILED\n');
  s.write('slow\n');
  t.equal((await r.readLine(10000)).toString(), 'JOBERR EJOBTIMEOUT\n');
  s.write('seq 2\n');
  t.equal((await r.readLine()).toString(), '0,1,END\n');
  s.destroy();
});

t.test('offload without a pool is a clear error', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, POOL, {});
  const { s } = await client(port);
  s.write('seq 1\n');
  const closed = await messages.waitFor((m) => m.ev === 'closed', 10000);
  t.match(closed.message, /offload needs the pool option/);
  s.destroy();
});

t.test('pool: true makes the handler module the pool module', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, POOL, { pool: true });
  const { s, r } = await client(port);
  s.write('seq 3\n');
  t.equal((await r.readLine()).toString(), '0,1,2,END\n');
  s.destroy();
});

t.test('a missing pool module rejects serve clearly', { timeout: 30000 }, async (t) => {
  const { lib } = await import('./helpers/engine.mjs');
  await t.rejects(lib.serve(POOL, 'tcp://127.0.0.1:0', { pool: { filename: '/nonexistent/pool.mjs' } }), /pool module not found/);
});
