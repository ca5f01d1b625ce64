// serve() rejects bad input with an Error that names the problem, and leaks nothing when it does.
import t from 'tap';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { once, withTimeout } from './helpers/net.mjs';
import { fixture, lib, portOf } from './helpers/engine.mjs';
import { fdList, settleTo, snapshot, warmUp } from './helpers/resources.mjs';

const ECHO = fixture('echo.mjs');

t.before(() => warmUp(lib, ECHO));

/**
 * Calls serve(...args), expects a rejection whose message matches `pattern`, and checks that fds
 * and threads are back to what they were before. Resolves with the error.
 */
async function rejectsCleanly(t, args, pattern) {
  const before = snapshot();
  let engine;
  let err;
  let promise;
  try {
    promise = lib.serve(...args);
  } catch (e) {
    t.fail(`serve threw synchronously instead of returning a rejected promise: ${e?.message}`);
    promise = Promise.reject(e);
  }
  try {
    engine = await withTimeout(promise, 15000, 'serve');
  } catch (e) {
    err = e;
  }
  if (engine) {
    await engine.stop();
    t.fail(`serve resolved (${engine.addrs}) instead of rejecting`);
    return undefined;
  }
  t.ok(err instanceof Error, 'rejects with an Error');
  t.match(err?.message, pattern, `message names the problem: ${JSON.stringify(err?.message)}`);
  const after = await settleTo(before, 5000);
  t.equal(after.fds, before.fds, 'no fd left open', { fdsNow: after.fds > before.fds ? fdList() : undefined });
  t.equal(after.threads, before.threads, 'no thread left running');
  return err;
}

const opts = { numEventLoop: 2 };

t.test('a port out of range', { timeout: 30000 }, async (t) => {
  await rejectsCleanly(t, [ECHO, 'tcp://:99999', opts], /port|range/i);
});

t.test('an unsupported scheme', { timeout: 30000 }, async (t) => {
  const err = await rejectsCleanly(t, [ECHO, 'foo://x', opts], /scheme|unsupported|protocol/i);
  t.match(err?.message, /foo/, 'the message quotes the bad scheme or address');
});

t.test('a bad address after a good one (no listener is left bound)', { timeout: 30000 }, async (t) => {
  await rejectsCleanly(t, [ECHO, ['tcp://127.0.0.1:0', 'foo://x'], opts], /scheme|unsupported|protocol|foo/i);
});

t.test('a port already in use by another server', { timeout: 30000 }, async (t) => {
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.teardown(() => new Promise((r) => blocker.close(r)));
  const port = blocker.address().port;
  const err = await rejectsCleanly(t, [ECHO, `tcp://127.0.0.1:${port}`, opts], /EADDRINUSE|in use/i);
  t.ok(err?.code === 'EADDRINUSE' || /EADDRINUSE/.test(err?.message), 'EADDRINUSE in code or message');
});

t.test('a port already in use by another engine', { timeout: 30000 }, async (t) => {
  const first = await lib.serve(ECHO, 'tcp://127.0.0.1:0', opts);
  t.teardown(() => first.stop());
  const port = portOf(first.addrs[0]);
  const err = await rejectsCleanly(t, [ECHO, `tcp://127.0.0.1:${port}`, opts], /EADDRINUSE|in use/i);
  t.ok(err?.code === 'EADDRINUSE' || /EADDRINUSE/.test(err?.message), 'EADDRINUSE in code or message');
});

t.test('a handler path that does not exist', { timeout: 30000 }, async (t) => {
  const missing = fileURLToPath(fixture('no-such-handler.mjs'));
  const err = await rejectsCleanly(t, [missing, 'tcp://127.0.0.1:0', opts], /no-such-handler|not found|cannot find|ENOENT/i);
  t.match(err?.message, /no-such-handler/, 'the message names the missing module');
});

t.test('a handler module that throws while loading', { timeout: 30000 }, async (t) => {
  await rejectsCleanly(t, [fixture('throws-on-load.mjs'), 'tcp://127.0.0.1:0', opts], /kaboom-7f3a/);
});

t.test('a handler object with more than one event loop', { timeout: 30000 }, async (t) => {
  const handler = lib.defineHandler({ react: (c) => c.next() });
  await rejectsCleanly(t, [handler, 'tcp://127.0.0.1:0', opts], /numEventLoop|module|object|thread/i);
});

t.test('an invalid option value', { timeout: 30000 }, async (t) => {
  await rejectsCleanly(t, [ECHO, 'tcp://127.0.0.1:0', { numEventLoop: 0 }], /numEventLoop/);
});

t.test('repeated rejections (a handler that throws on load, 10 times) leak no fd', { timeout: 60000 }, async (t) => {
  const before = snapshot();
  for (let i = 0; i < 10; i++) {
    const err = await lib.serve(fixture('throws-on-load.mjs'), 'tcp://127.0.0.1:0', opts).then(
      (engine) => engine.stop().then(() => new Error('serve resolved')),
      (e) => e,
    );
    if (!/kaboom-7f3a/.test(err.message)) t.fail(`attempt ${i}: unexpected outcome: ${err.message}`);
  }
  const after = await settleTo(before, 5000);
  t.equal(after.fds, before.fds, 'no fd left open', { fdsNow: after.fds > before.fds ? fdList() : undefined });
  t.equal(after.threads, before.threads, 'no thread left running');
});
