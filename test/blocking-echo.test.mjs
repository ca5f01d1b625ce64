// examples/blocking-echo: blocking jobs run in the pool, never on the reactors.
import t from 'tap';
import net from 'node:net';
import { lib, portOf } from './helpers/engine.mjs';
import { withTimeout } from './helpers/net.mjs';

const handler = new URL('../dist/examples/blocking-echo/handler.js', import.meta.url);
const { options } = await import(new URL('../dist/examples/blocking-echo/config.js', import.meta.url).href);

async function serveExample(t, mode) {
  const engine = await lib.serve(handler, ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0'], { ...options({ mode }), numEventLoop: 2 });
  t.teardown(() => withTimeout(engine.stop(), 20000, 'stop'));
  return { blockingPort: portOf(engine.addrs[0]), plainPort: portOf(engine.addrs[1]) };
}

function roundTrip(port, msg) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(msg));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.length >= msg.length) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

async function pingLoop(port, stopped) {
  const lat = [];
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  while (!stopped()) {
    const t0 = performance.now();
    s.write('ping');
    await new Promise((r) => s.once('data', r));
    lat.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  s.destroy();
  return lat.sort((a, b) => a - b);
}

t.test('16 clients each blocking a pool thread for 1 s are answered in about 2 s with 8 threads, while plain echo stays fast', { timeout: 60000 }, async (t) => {
  const { blockingPort, plainPort } = await serveExample(t, 'block');
  await roundTrip(plainPort, 'warm');
  let done = false;
  const pings = pingLoop(plainPort, () => done);
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => roundTrip(blockingPort, `client-${i}`)));
  const elapsed = performance.now() - t0;
  done = true;
  const lat = await pings;
  t.same(answers, Array.from({ length: 16 }, (_, i) => `client-${i}`), 'every client got its own message back');
  t.ok(elapsed >= 1900, `two waves of 8 blocking jobs take at least ~2 s (took ${elapsed.toFixed(0)} ms)`);
  t.ok(elapsed < 6000, `and the 8 threads run in parallel (took ${elapsed.toFixed(0)} ms)`);
  const median = lat[Math.floor(lat.length / 2)];
  t.ok(lat.length >= 20, `the plain echo kept answering throughout (${lat.length} round trips)`);
  t.ok(median <= 50, `plain echo median ${median.toFixed(1)} ms <= 50 ms`);
  // A blocked job holds its thread 1000 ms; a loaded machine alone delayed a ping by 392 ms.
  t.ok(lat.at(-1) < 800, `no plain echo waited for a blocked job (max ${lat.at(-1).toFixed(1)} ms)`);
});

t.test('awaiting jobs share pool threads: 1000 concurrent clients are served in a few seconds', { timeout: 60000 }, async (t) => {
  const { blockingPort } = await serveExample(t, 'async');
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => roundTrip(blockingPort, `c${i}`)));
  const elapsed = performance.now() - t0;
  t.equal(answers.filter((a, i) => a === `c${i}`).length, 1000, 'all 1000 answered correctly');
  t.ok(elapsed < 10000, `in ${elapsed.toFixed(0)} ms (1 s of waiting each, 8 threads)`);
});
