// Faults in handlers and from peers stay with the connection they belong to.
import t from 'tap';
import net from 'node:net';
import { start, fixture, lib } from './helpers/engine.mjs';
import { sleep, withTimeout, openClient as client, ask } from './helpers/net.mjs';

const F = fixture('faults.mjs');

function errorsOf(engine) {
  const seen = [];
  engine.on('handlerError', (err, event, loop) => seen.push({ message: err.message, event, loop }));
  return seen;
}

t.test('an exception in react closes only that connection, with the error, and is reported', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F);
  const seen = errorsOf(engine);
  const good = await client(port);
  const bad = await client(port);
  bad.on('error', () => {});
  bad.write('boom');
  const closed = await messages.waitFor((m) => m.ev === 'closed');
  t.equal(closed.message, 'react exploded', 'onClosed receives the thrown error');
  t.same(seen.map((e) => [e.event, e.message]), [['react', 'react exploded']], 'engine emits handlerError');
  await withTimeout(new Promise((r) => (bad.destroyed ? r() : bad.once('close', r))), 5000, 'bad closed');
  t.equal(await ask(good, 'still'), 'still', 'the other connection is served');
  good.destroy();
});

t.test('an exception in onOpened refuses that connection only', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, F, { handlerOptions: { throwOnOpen: true } });
  const seen = errorsOf(engine);
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await withTimeout(new Promise((r) => s.once('close', r)), 5000, 'closed');
  t.same(seen.map((e) => e.event), ['onOpened']);
  t.equal(engine.countConnections(), 0);
});

t.test('exceptions in onClosed and tick are reported and serving goes on', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F, { ticker: true, handlerOptions: { throwOnClose: true } });
  const seen = errorsOf(engine);
  const a = await client(port);
  a.end();
  await messages.waitFor((m) => m.ev === 'closed');
  await messages.waitForCount((m) => m.ev === 'tick', 4, 5000, 'ticks');
  // handlerError travels on its own channel: wait for both reports (a fixed pause lost the race on
  // a loaded machine) rather than assume they beat the tick messages.
  for (let i = 0; i < 100 && !(seen.some((e) => e.event === 'onClosed') && seen.some((e) => e.event === 'tick')); i++) await sleep(50);
  t.ok(seen.some((e) => e.event === 'onClosed'), 'onClosed error reported');
  t.ok(seen.some((e) => e.event === 'tick'), 'tick error reported, and ticking went on');
  const b = await client(port);
  t.equal(await ask(b, 'ok?'), 'ok?');
  b.destroy();
});

t.test('a peer that resets in the middle of a large write: onClosed once with the error, engine unharmed', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F);
  const s = await client(port);
  s.on('error', () => {});
  s.write('big');
  await new Promise((r) => s.once('data', r));
  s.resetAndDestroy();
  const closed = await messages.waitFor((m) => m.ev === 'closed');
  t.ok(['ECONNRESET', 'EPIPE'].includes(closed.code), `closed with ${closed.code}`);
  await sleep(200);
  t.equal(messages.filter((m) => m.ev === 'closed').length, 1, 'exactly once');
  t.equal(engine.countConnections(), 0);
  const b = await client(port);
  t.equal(await ask(b, 'after'), 'after');
  b.destroy();
});

t.test('half-close: the peer ends its side, pending output is flushed, then the connection closes', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, F);
  const s = await client(port);
  const payload = 'z'.repeat(3 << 20);
  let got = 0;
  s.on('data', (d) => (got += d.length));
  s.end(payload);
  await withTimeout(new Promise((r) => s.once('end', r)), 15000, 'EOF from server');
  t.equal(got, payload.length, 'every byte echoed before the close');
  const closed = await messages.waitFor((m) => m.ev === 'closed');
  t.equal(closed.code, undefined, 'a clean close');
});

t.test('zero-length writes and empty outputs are harmless', { timeout: 30000 }, async (t) => {
  const engine = await lib.serve(
    { react: (c) => { c.write(new Uint8Array(0)); c.write(''); c.writev([]); return c.next(); } },
    'tcp://127.0.0.1:0',
    { numEventLoop: 1 },
  );
  t.teardown(() => engine.stop());
  const s = await client(Number(engine.addrs[0].split(':').pop()));
  t.equal(await ask(s, 'plain'), 'plain');
  s.destroy();
});
