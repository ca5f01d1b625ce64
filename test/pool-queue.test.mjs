// The pool's job channel on its own, with real threads: producers and consumers at once.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { fixture } from './helpers/engine.mjs';
import { withTimeout } from './helpers/net.mjs';

const { JobQueue } = await import(new URL('../dist/lib/pool/queue.js', import.meta.url).href);
const WORKER = fixture('pool-queue-worker.mjs');

function run(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

t.test('every job put by several threads is taken exactly once and intact, through a small ring that wraps and fills', { timeout: 120000 }, async (t) => {
  const PRODUCERS = 3;
  const CONSUMERS = 2;
  const N = 4000;
  // 64 slots of 64 bytes: jobs span 1 to 12 slots, the ring wraps hundreds of times and is often full.
  const sab = JobQueue.create({ maxThreads: CONSUMERS, minThreads: 0, concurrency: 1, maxQueue: -1, timeout: 0, linger: 0, slots: 64, slotBytes: 64 });
  const control = new SharedArrayBuffer(8);
  const consumers = Array.from({ length: CONSUMERS }, (_, id) => run({ role: 'consumer', sab, control, id, n: N }));
  const producers = await withTimeout(
    Promise.all(Array.from({ length: PRODUCERS }, (_, id) => run({ role: 'producer', sab, control, id, n: N }))),
    90000,
    'producers',
  );
  Atomics.store(new Int32Array(control), 0, 1);
  const results = await withTimeout(Promise.all(consumers), 30000, 'consumers');
  t.ok(producers.some((p) => p.full > 0), 'the ring was full at times (producers retried)');
  t.same(results.flatMap((r) => r.bad), [], 'every job arrived intact');
  const seen = new Set();
  let dup = 0;
  for (const r of results) {
    for (let k = 0; k < r.seen.length; k += 2) {
      const key = r.seen[k] * N + r.seen[k + 1];
      if (seen.has(key)) dup++;
      seen.add(key);
    }
  }
  t.equal(dup, 0, 'no job was taken twice');
  t.equal(seen.size, PRODUCERS * N, 'every job was taken');
  t.ok(results.every((r) => r.seen.length > 0), 'by both consumers');
});
