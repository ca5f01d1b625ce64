// The inbox ring: JS producers (lib/channel/disruptor.ts) against the real native consumer code path.
import t from 'tap';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Disruptor } from '../dist/lib/channel/disruptor.js';
import { native } from '../dist/lib/channel/native.js';
import * as L from '../dist/lib/channel/layout.js';

const disruptorUrl = new URL('../dist/lib/channel/disruptor.js', import.meta.url).href;
const layoutUrl = new URL('../dist/lib/channel/layout.js', import.meta.url).href;

function fnv1a(bytes) {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619);
  return h | 0;
}

function drain(d, max = 4096) {
  const out = new Int32Array(max * 6);
  const n = native.inboxDrainForTest(d.i32, out);
  const msgs = [];
  for (let i = 0; i < n; i++) {
    const o = i * 6;
    msgs.push({ type: out[o], a: out[o + 1], b: out[o + 2], c: out[o + 3], len: out[o + 4], hash: out[o + 5] });
  }
  return msgs;
}

t.test('4 producer threads x 1,000,000 messages: none lost, duplicated or reordered per producer', { timeout: 120000 }, async (t) => {
  const PRODUCERS = 4;
  const PER = 1_000_000;
  const d = Disruptor.create({ slots: 1024 });
  const fullCount = new Int32Array(new SharedArrayBuffer(4 * PRODUCERS));
  // Bumped and notified by the consumer after each drain that took something. A producer that
  // finds the ring full waits for that instead of spinning: four spinning producers on two cores
  // starve the consumer under load (minutes instead of seconds for the 4,000,000 messages).
  const drained = new Int32Array(new SharedArrayBuffer(4));
  const code = `
    const { workerData } = require('node:worker_threads');
    (async () => {
      const { Disruptor } = await import(${JSON.stringify(disruptorUrl)});
      const L = await import(${JSON.stringify(layoutUrl)});
      const d = new Disruptor(workerData.sab);
      const full = new Int32Array(workerData.full);
      const drained = new Int32Array(workerData.drained);
      for (let i = 0; i < workerData.per; i++) {
        while (!d.tryPublish(L.MSG_TEST, workerData.id, i, i ^ 0x5a5a5a5a)) {
          full[workerData.id]++;
          const seen = Atomics.load(drained, 0);
          if (d.tryPublish(L.MSG_TEST, workerData.id, i, i ^ 0x5a5a5a5a)) break;
          Atomics.wait(drained, 0, seen, 50);
        }
      }
    })();`;
  const workers = [];
  for (let id = 0; id < PRODUCERS; id++) {
    workers.push(new Worker(code, { eval: true, workerData: { sab: d.sab, full: fullCount.buffer, drained: drained.buffer, id, per: PER } }));
  }
  const exited = workers.map((w) => new Promise((res, rej) => { w.on('exit', res); w.on('error', rej); }));
  const next = new Array(PRODUCERS).fill(0);
  let total = 0;
  let bad = 0;
  const deadline = Date.now() + 100000;
  const out = new Int32Array(4096 * 6);
  while (total < PRODUCERS * PER && Date.now() < deadline) {
    const n = native.inboxDrainForTest(d.i32, out);
    for (let i = 0; i < n; i++) {
      const o = i * 6;
      const id = out[o + 1];
      const seq = out[o + 2];
      if (out[o] !== L.MSG_TEST || id < 0 || id >= PRODUCERS || seq !== next[id] || out[o + 3] !== (seq ^ 0x5a5a5a5a)) bad++;
      else next[id]++;
    }
    total += n;
    if (n > 0) {
      Atomics.add(drained, 0, 1);
      Atomics.notify(drained, 0);
    } else {
      await new Promise((r) => setImmediate(r));
    }
  }
  // Past the deadline producers may still wait for room: end them so the counts below report it.
  if (total < PRODUCERS * PER) for (const w of workers) void w.terminate();
  await Promise.all(exited);
  t.equal(bad, 0, 'every message arrives in its producer order, intact');
  t.same(next, new Array(PRODUCERS).fill(PER), 'every producer delivered all its messages');
  t.equal(total, PRODUCERS * PER, 'no duplicates');
  t.equal(d.pending, 0, 'ring drained');
  t.ok(fullCount.reduce((a, b) => a + b, 0) > 0, 'producers met a full ring (backpressure) along the way');
});

t.test('a full ring refuses the next message and accepts again once a slot is consumed', async (t) => {
  const d = Disruptor.create({ slots: 16 });
  for (let i = 0; i < 16; i++) t.ok(d.tryPublish(L.MSG_TEST, 1, i, 0), `message ${i} accepted`);
  t.notOk(d.tryPublish(L.MSG_TEST, 1, 16, 0), 'refused when full');
  t.equal(d.pending, 16, 'nothing was claimed by the refused publish');
  const first = drain(d, 1);
  t.equal(first[0].b, 0, 'consumer reads the oldest first');
  t.ok(d.tryPublish(L.MSG_TEST, 1, 16, 0), 'accepted again after one slot was freed');
  t.same(drain(d).map((m) => m.b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 'order kept, nothing lost');
});

t.test('payloads travel inline up to inlineBytes and staged in native memory above it, byte for byte', async (t) => {
  const d = Disruptor.create({ slots: 64 });
  const sizes = [0, 1, d.inlineBytes - 1, d.inlineBytes, d.inlineBytes + 1, 65536, 1 << 20, 4 << 20];
  const payloads = sizes.map((n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff;
    return b;
  });
  for (const p of payloads) t.ok(d.publish(L.MSG_WRITE, 0, 0, 0, p), `published ${p.length} bytes`);
  const got = drain(d);
  t.same(got.map((m) => m.len), sizes, 'lengths');
  t.same(got.map((m) => m.hash), payloads.map(fnv1a), 'contents');
});

t.test('a refused staged payload is released, not leaked into the ring', async (t) => {
  const d = Disruptor.create({ slots: 2 });
  const big = new Uint8Array(10000).fill(7);
  t.ok(d.tryPublish(L.MSG_WRITE, 0, 0, 0, big));
  t.ok(d.tryPublish(L.MSG_WRITE, 0, 0, 0, big));
  t.notOk(d.tryPublish(L.MSG_WRITE, 0, 0, 0, big), 'full');
  t.equal(native.inboxDiscard(d.i32), 2, 'the two queued staged payloads are reclaimed');
});

t.test('wakeIfParked signals only a parked consumer, and only once for racing producers', async (t) => {
  const d = Disruptor.create({ slots: 16 });
  const fd = native.createWakeFd();
  Atomics.store(d.i32, L.WAKE_FD, fd);
  t.notOk(d.wakeIfParked(), 'an awake consumer is not signalled');
  Atomics.store(d.i32, L.PARKED, 1);
  t.ok(d.wakeIfParked(), 'the first producer wakes the parked consumer');
  t.notOk(d.wakeIfParked(), 'the second finds it already woken');
  const buf = Buffer.alloc(8);
  t.equal(fs.readSync(fd, buf, 0, 8, null), 8);
  t.equal(buf.readBigUInt64LE(0), 1n, 'exactly one eventfd write');
  t.equal(d.detachWakeFd(), fd, 'detach hands the fd back for closing');
  Atomics.store(d.i32, L.PARKED, 1);
  t.ok(d.wakeIfParked());
  t.throws(() => fs.readSync(fd, buf, 0, 8, null), { code: 'EAGAIN' }, 'no signal reaches a detached fd');
  native.closeFd(fd);
});

t.test('bad inbox geometry is rejected', async (t) => {
  t.throws(() => Disruptor.create({ slots: 1000 }), /power of two/);
  t.throws(() => Disruptor.create({ slotBytes: 60 }), /multiple of 8/);
});

t.test('layout constants agree with the native side', async (t) => {
  for (const [k, v] of Object.entries(native.constants)) t.equal(L[k], v, k);
});
