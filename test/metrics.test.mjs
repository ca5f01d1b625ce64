// Metrics: each connection's bytes read and written (Conn.bytesRead/bytesWritten), and the pool's
// job counters in engine.stats().pool (queued, running, threads, completed, failed, mean wait and
// run time).
import t from 'tap';
import { fixture, start } from './helpers/engine.mjs';
import { openClient, withTimeout, sleep } from './helpers/net.mjs';

async function until(what, check, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function receiver(s) {
  let got = '';
  s.on('data', (d) => (got += d));
  return { text: () => got, until: (want) => until(`"${want}"`, () => got.includes(want)) };
}

t.test("a connection's bytes read and written, readable in onClosed", { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, fixture('metrics.mjs'));
  const s = await openClient(port);
  const r = receiver(s);
  await r.until('hi\n');
  s.write('abc'); // a partial line: react keeps it
  await sleep(50);
  s.write('def\n');
  await r.until('abcdef\n');
  s.write(`${'x'.repeat(1000)}\n`);
  await r.until(`${'x'.repeat(1000)}\n`);
  s.end();
  const [m] = await messages.waitForCount((msg) => msg.closed, 1, 5000, 'onClosed report');
  t.equal(m.bytesRead, 7 + 1001, 'every byte received once (kept bytes are not counted again)');
  t.equal(m.bytesWritten, 3 + 7 + 1001, 'the greeting and every echoed line');
});

t.test('engine.stats().pool counts queued, running, completed and failed jobs, with mean wait and run times', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, fixture('metrics.mjs'), { pool: { filename: fixture('metrics.mjs'), minThreads: 1, maxThreads: 1 } });
  t.same(
    { ...engine.stats().pool, threads: undefined },
    { queued: 0, running: 0, threads: undefined, completed: 0, failed: 0, waitTime: 0, runTime: 0 },
    'nothing yet',
  );
  const s = await openClient(port);
  const r = receiver(s);
  await r.until('hi\n');
  // One thread: the first job blocks it for 300 ms, the next two wait behind it.
  s.write('hold 300\nnap 50\nfail 0\n');
  const busy = await until('a running job', () => {
    const p = engine.stats().pool;
    return p.running === 1 && p.queued === 2 ? p : undefined;
  });
  t.equal(busy.threads, 1, 'one pool thread');
  await r.until('napped\n');
  // The counters are separate shared words the pool thread updates one after another (a job counts
  // as finished a moment before it stops counting as running): wait for the settled snapshot.
  const p = await until('three finished jobs', () => {
    const q = engine.stats().pool;
    return q.completed + q.failed === 3 && q.running === 0 && q.queued === 0 ? q : undefined;
  });
  t.equal(p.completed, 2, 'hold and nap completed');
  t.equal(p.failed, 1, 'fail failed');
  t.equal(p.queued, 0);
  t.equal(p.running, 0);
  t.ok(p.runTime >= (300 + 50) / 3 - 5, `mean run time covers the jobs' own time (${p.runTime.toFixed(1)} ms)`);
  t.ok(p.waitTime >= (300 + 350) / 3 - 5, `mean wait covers the two jobs queued behind the blocking one (${p.waitTime.toFixed(1)} ms)`);
  t.ok(r.text().includes('held\n'));
  s.destroy();
});

t.test('engine.stats() has no pool entry without the pool option', { timeout: 30000 }, async (t) => {
  const { engine } = await start(t, fixture('metrics.mjs'));
  t.equal(engine.stats().pool, undefined);
});
