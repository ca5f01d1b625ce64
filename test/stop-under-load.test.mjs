// engine.stop() under load: everything the handlers wrote before the stop reaches the clients.
import t from 'tap';
import net from 'node:net';
import { lib, fixture, MessageLog } from './helpers/engine.mjs';
import { withTimeout } from './helpers/net.mjs';

const BULK = fixture('bulk.mjs');
const N = 100;
const SIZE = 256 * 1024;

t.test(`stop with ${N} clients mid-stream loses no byte of output produced before it`, { timeout: 60000 }, async (t) => {
  const engine = await lib.serve(BULK, 'tcp://127.0.0.1:0', { numEventLoop: 2 });
  t.teardown(() => engine.stop()); // idempotent: only does something if the test failed before its stop
  const messages = new MessageLog(engine);
  const port = Number(engine.addrs[0].split(':').pop());
  const clients = [];
  for (let i = 0; i < N; i++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.pause(); // not reading yet: the answers pile up in the kernel and the reactors' rings
    s.write(`${SIZE}\n`);
    clients.push(s);
  }
  // Every request has been answered into the buffers (the output exists before the stop; a request
  // not read yet would be closed unanswered, and reset by the kernel as it has unread input).
  await messages.waitForCount((m) => m.ev === 'answered', N, 20000, 'answers written');
  const stopping = engine.stop({ timeout: 20000 });
  const results = clients.map(
    (s) =>
      new Promise((resolve) => {
        const chunks = [];
        s.on('data', (d) => chunks.push(d));
        s.on('error', (e) => resolve({ err: e.code }));
        s.on('end', () => resolve({ data: Buffer.concat(chunks) }));
        s.resume();
      }),
  );
  const got = await withTimeout(Promise.all(results), 30000, 'clients reading to EOF');
  await withTimeout(stopping, 30000, 'stop');
  const expected = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) expected[i] = (i * 7 + 3) & 0xff;
  const complete = got.filter((g) => g.data && g.data.equals(expected)).length;
  t.equal(complete, N, 'every client got its whole answer, then EOF');
  t.equal(messages.filter((m) => m.ev === 'closed').length, N, 'onClosed for every connection');
  t.equal(messages.filter((m) => m.ev === 'closed' && m.code).length, 0, 'all closed cleanly');
  for (const s of clients) s.destroy();
});
