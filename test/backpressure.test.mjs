// Backpressure: clients that send without reading cannot make the server's memory grow.
import t from 'tap';
import net from 'node:net';
import { start, fixture } from './helpers/engine.mjs';
import { sleep, withTimeout } from './helpers/net.mjs';

const ECHO = fixture('echo.mjs');
const MiB = 1024 * 1024;

function pusher(port, total, stats) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.pause(); // never reads its echoes
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += chunk.length;
      stats.sent += chunk.length;
      if (!s.write(chunk)) return s.once('drain', pump);
    }
  };
  s.once('connect', pump);
  return s;
}

t.test('100 clients pushing 100 MiB each without reading: server memory stays bounded, others are served', { timeout: 90000 }, async (t) => {
  const { port } = await start(t, ECHO);
  const rss0 = process.memoryUsage().rss;
  const stats = { sent: 0 };
  const pushers = Array.from({ length: 100 }, () => pusher(port, 100 * MiB, stats));
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  t.teardown(() => clearInterval(sampler));
  // Wait until the pushers stall: the server has stopped reading them.
  let last = -1;
  for (let i = 0; i < 60 && stats.sent !== last; i++) {
    last = stats.sent;
    await sleep(500);
  }
  t.equal(stats.sent, last, `the pushers stalled (after ${(stats.sent / MiB).toFixed(0)} MiB in all)`);
  const ok = net.connect(port, '127.0.0.1');
  await new Promise((r) => ok.once('connect', r));
  const t0 = performance.now();
  ok.write('still served');
  const answer = String(await withTimeout(new Promise((r) => ok.once('data', r)), 5000, 'echo'));
  t.equal(answer, 'still served', `another client is answered (${(performance.now() - t0).toFixed(1)} ms)`);
  const growth = (peak - rss0) / MiB;
  // Bound: 100 x (1 MiB high water + 64 KiB read chunk + ring rounding to a power of two) ~ 200 MiB.
  t.ok(growth < 300, `RSS grew by ${growth.toFixed(0)} MiB (bound 300 MiB for 100 stalled clients)`);
  ok.destroy();
  for (const s of pushers) s.destroy();
});

t.test('writeBufferHighWater = writeBufferCap closes a client that will not read, with ENOBUFS', { timeout: 60000 }, async (t) => {
  const { port, messages } = await start(t, new URL('./fixtures/bulk.mjs', import.meta.url).pathname, {
    writeBufferCap: 1 * MiB,
    writeBufferHighWater: 1 * MiB,
  });
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.pause();
  await new Promise((r) => s.once('connect', r));
  // 64 MiB of answers: more than the kernel buffers hold, and 1 MiB allowed in user space.
  for (let i = 0; i < 64; i++) s.write(`${1 * MiB}\n`);
  const closed = await messages.waitFor((m) => m.ev === 'closed', 10000);
  t.equal(closed.code, 'ENOBUFS', 'closed with ENOBUFS, never a silent drop');
  s.destroy();
});
