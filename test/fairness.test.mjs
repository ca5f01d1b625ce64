// Fairness is a guarantee of the reactor: a ready connection is served within a bounded number
// of rounds whatever its neighbours do. Flooders pipeline requests without ever reading (so
// their replies back up too) beside one ordinary client, all on one reactor; the ordinary
// client's replies must keep coming while the flood lasts. Before the reactor shared each
// round's read arena and queued deferred reads, the probe behind 50 flooders of the redis
// example waited 5-9 s; the bound here is generous for a loaded 2-core machine.
import t from 'tap';
import net from 'node:net';
import { fixture, start } from './helpers/engine.mjs';
import { floodProbe, quantile } from './helpers/flood.mjs';
import { withTimeout } from './helpers/net.mjs';

const BOUND_MS = 1500;
const REDIS = new URL('../dist/examples/redis/handler.js', import.meta.url);

function summary(r) {
  return `${r.latencies.length} probes, p50 ${quantile(r.latencies, 0.5).toFixed(0)} ms, ` +
    `max ${Math.max(...r.latencies).toFixed(0)} ms, flood ${(r.floodBytes / 1e6).toFixed(0)} MB`;
}

/** 50 non-reading PING flooders and one probe against `handler` on one reactor, for 3 s. */
async function floodedProbeStaysAnswered(t, handler) {
  const { port } = await start(t, handler, { numEventLoop: 1 });
  const r = await floodProbe({ port, flooders: 50, ms: 3000, everyMs: 100, request: 'PING\r\n', reply: '+PONG\r\n' });
  t.comment(summary(r));
  t.notOk(r.unanswered, 'the probe was answered during the flood');
  t.ok(r.latencies.length >= 5, 'the probe kept getting replies during the flood');
  t.ok(Math.max(...r.latencies) < BOUND_MS, `every probe reply within ${BOUND_MS} ms`);
}

t.test('an ordinary client is answered within the bound while 50 non-reading clients flood a per-request handler', (t) =>
  floodedProbeStaysAnswered(t, fixture('fair.mjs')));

t.test('an ordinary redis client is answered within the bound while 50 non-reading clients pipeline PING', (t) =>
  floodedProbeStaysAnswered(t, REDIS));

t.test('a small reply is not held back by megabytes pending for another connection', async (t) => {
  const { port } = await start(t, fixture('fair.mjs'), { numEventLoop: 1 });
  // The bulk reader asks for 32 MiB at a time and reads it all, as fast as it can, again and again.
  const bulk = net.connect({ port, host: '127.0.0.1' });
  let received = 0;
  let asked = 0;
  let running = true;
  const ask = () => {
    asked += 32 << 20;
    bulk.write('BULK 32\r\n');
  };
  bulk.on('data', (d) => {
    received += d.length;
    if (running && received === asked) ask();
  });
  bulk.on('error', () => {});
  bulk.on('connect', ask);
  const probe = net.connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => probe.once('connect', resolve));
  const latencies = [];
  const end = Date.now() + 2500;
  while (Date.now() < end) {
    const t0 = Date.now();
    const got = new Promise((resolve) => probe.once('data', resolve));
    probe.write('PING\r\n');
    await withTimeout(got, 10000, 'the probe reply');
    latencies.push(Date.now() - t0);
    await new Promise((r) => setTimeout(r, 50));
  }
  running = false;
  t.comment(`bulk ${(received / 2 ** 20).toFixed(0)} MiB; probe p50 ${quantile(latencies, 0.5)} ms, max ${Math.max(...latencies)} ms`);
  t.ok(received > 64 << 20, 'the bulk reader was served at the same time');
  t.ok(Math.max(...latencies) < BOUND_MS, `every probe reply within ${BOUND_MS} ms`);
  bulk.destroy();
  probe.destroy();
  await Promise.all([bulk, probe].map((s) => (s.closed ? null : new Promise((r) => s.once('close', r)))));
});
