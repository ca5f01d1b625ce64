// Writes and closes made outside a reactor round (timers, job errors, deadlines) go out exactly once.
import t from 'tap';
import net from 'node:net';
import { lib } from './helpers/engine.mjs';
import { withTimeout } from './helpers/net.mjs';

function collect(port, send) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(send));
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', () => {});
  });
}

async function serveObject(t, handler) {
  const engine = await lib.serve(handler, 'tcp://127.0.0.1:0', { numEventLoop: 1 });
  t.teardown(() => engine.stop());
  return Number(engine.addrs[0].split(':').pop());
}

t.test('a write from a timer after a write in react is sent, once', { timeout: 15000 }, async (t) => {
  const port = await serveObject(t, {
    react(c) {
      c.discard();
      c.write('A');
      setTimeout(() => {
        c.write('B');
        setTimeout(() => c.close(), 20);
      }, 30);
    },
  });
  t.equal(await withTimeout(collect(port, 'go'), 5000, 'collect'), 'AB');
});

t.test("a close from a timer does not resend the last round's output", { timeout: 15000 }, async (t) => {
  const port = await serveObject(t, {
    react(c) {
      c.discard();
      c.write('A');
      setTimeout(() => c.close(), 30);
    },
  });
  t.equal(await withTimeout(collect(port, 'go'), 5000, 'collect'), 'A');
});

t.test('many timer writes in a row coalesce and all arrive in order', { timeout: 15000 }, async (t) => {
  const port = await serveObject(t, {
    react(c) {
      c.discard();
      setTimeout(() => {
        for (let i = 0; i < 100; i++) c.write(`${i},`);
        c.close();
      }, 10);
    },
  });
  const want = Array.from({ length: 100 }, (_, i) => `${i},`).join('');
  t.equal(await withTimeout(collect(port, 'go'), 5000, 'collect'), want);
});
