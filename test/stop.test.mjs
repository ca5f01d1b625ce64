// Graceful stop: connections are closed, threads exit, every fd is released; stop is idempotent.
import t from 'tap';
import { connect, connectExpectingError, destroyAll, localAddrOf, readerOf, withTimeout } from './helpers/net.mjs';
import { MessageLog, fixture, lib, portOf } from './helpers/engine.mjs';
import { fdList, settleTo, snapshot, warmUp } from './helpers/resources.mjs';

const ECHO = fixture('echo.mjs');
const serve = (options = {}) => lib.serve(ECHO, 'tcp://127.0.0.1:0', { numEventLoop: 2, ...options });

// Lazily created process-wide resources (libuv thread pool, the addon, worker bootstrap) are not
// the engine's to release; create them once before any baseline is taken.
t.before(() => warmUp(lib, ECHO));

/** Asserts that fds, threads and handles are back to `before`. */
async function assertReleased(t, before) {
  const after = await settleTo(before, 5000);
  t.equal(after.fds, before.fds, 'open fd count is back to what it was before serve', {
    fdsNow: after.fds > before.fds ? fdList() : undefined,
  });
  t.equal(after.threads, before.threads, 'thread count is back (every reactor thread exited)');
  t.same(after.handles, before.handles, 'no extra libuv handles on this thread');
}

t.test('an engine started and stopped with no connections releases its fds and threads', { timeout: 30000 }, async (t) => {
  const before = snapshot();
  const engine = await serve();
  const running = snapshot();
  t.ok(running.threads >= before.threads + 2, `reactor threads run while serving (${before.threads} → ${running.threads})`);
  t.ok(running.fds > before.fds, 'the engine holds fds while serving');
  await withTimeout(engine.stop(), 10000, 'stop');
  await assertReleased(t, before);
});

t.test('stop() with 50 open connections closes them and releases everything', { timeout: 60000 }, async (t) => {
  const before = snapshot();
  const engine = await serve();
  const port = portOf(engine.addrs[0]);
  const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(port)));
  t.teardown(() => destroyAll(sockets));
  // Prove each connection is live (and handed to a reactor) before stopping.
  await Promise.all(sockets.map((s, i) => {
    s.write(`ping${i}|`);
    return readerOf(s).readExactly(`ping${i}|`.length, 5000);
  }));
  t.equal(engine.countConnections(), 50, '50 connections open');

  await withTimeout(engine.stop({ timeout: 3000 }), 10000, 'stop');
  const ends = await Promise.all(sockets.map((s) => readerOf(s).waitEnded(5000).catch((e) => ({ timeout: e.message }))));
  t.equal(ends.filter((e) => e.ended || e.closed).length, 50, 'every client saw EOF or close');

  await destroyAll(sockets);
  await assertReleased(t, before);
});

t.test('stop() is idempotent', { timeout: 30000 }, async (t) => {
  const before = snapshot();
  const engine = await serve();
  const [a, b] = await withTimeout(Promise.allSettled([engine.stop(), engine.stop()]), 10000, 'two concurrent stops');
  t.equal(a.status, 'fulfilled', 'first stop resolves');
  t.equal(b.status, 'fulfilled', 'concurrent second stop resolves');
  await withTimeout(engine.stop(), 5000, 'third stop');
  t.pass('stop after stop resolves');
  await assertReleased(t, before);
});

t.test('engine.done resolves when stop() completes', { timeout: 30000 }, async (t) => {
  const engine = await serve();
  let done = false;
  engine.done.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(done, 'done is pending while serving');
  await withTimeout(engine.stop(), 10000, 'stop');
  await withTimeout(engine.done, 5000, 'engine.done');
  t.pass('done resolved');
});

t.test('after stop() the port refuses connections', { timeout: 30000 }, async (t) => {
  const engine = await serve();
  const port = portOf(engine.addrs[0]);
  const s = await connect(port);
  await destroyAll([s]);
  await withTimeout(engine.stop(), 10000, 'stop');
  const err = await connectExpectingError(port);
  t.equal(err.code, 'ECONNREFUSED');
});

t.test('the same port can be served again right after stop()', { timeout: 30000 }, async (t) => {
  const first = await serve();
  const port = portOf(first.addrs[0]);
  const s = await connect(port);
  s.write('x');
  await readerOf(s).readExactly(1, 5000);
  await withTimeout(first.stop(), 10000, 'stop');
  await destroyAll([s]);
  const second = await lib.serve(ECHO, `tcp://127.0.0.1:${port}`, { numEventLoop: 2 });
  t.teardown(() => second.stop());
  const s2 = await connect(port);
  t.teardown(() => destroyAll([s2]));
  s2.write('y');
  t.equal((await readerOf(s2).readExactly(1, 5000)).toString(), 'y', 'the new engine serves the port');
});

t.test('thread-safe operations report stopped after stop()', { timeout: 30000 }, async (t) => {
  const engine = await serve();
  await withTimeout(engine.stop(), 10000, 'stop');
  const ref = { loop: 0, slot: 0, generation: 0 };
  t.equal(engine.asyncWrite(ref, new Uint8Array([1])), 'stopped', 'asyncWrite');
  t.equal(engine.wake(ref), 'stopped', 'wake');
  t.equal(engine.close(ref), 'stopped', 'close');
});

t.test('stop() calls onClosed exactly once for every open connection', { timeout: 30000 }, async (t) => {
  const engine = await lib.serve(fixture('recorder.mjs'), 'tcp://127.0.0.1:0', { numEventLoop: 2 });
  t.teardown(() => engine.stop());
  const messages = new MessageLog(engine);
  const port = portOf(engine.addrs[0]);
  const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(port)));
  t.teardown(() => destroyAll(sockets));
  const mes = sockets.map(localAddrOf);
  await messages.waitForCount((m) => m.ev === 'opened' && mes.includes(m.remoteAddr), 10, 5000, 'onOpened');
  await withTimeout(engine.stop(), 10000, 'stop');
  await new Promise((r) => setTimeout(r, 100));
  for (const [i, me] of mes.entries()) {
    t.equal(messages.filter((m) => m.ev === 'closed' && m.remoteAddr === me).length, 1, `connection ${i}: one onClosed`);
  }
});
