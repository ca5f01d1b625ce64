// Echo: every byte a client sends comes back unchanged, for small and large payloads, on many
// concurrent connections spread over two reactors.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect, destroyAll, readerOf, withTimeout } from './helpers/net.mjs';
import { fixture, lib, start } from './helpers/engine.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const ECHO = fixture('echo.mjs');

// One pool of random bytes; every client sends a different window of it, so a byte delivered to
// the wrong connection (or reordered) is caught by the comparison.
const POOL = randomBytes(8 * MiB);
const payloadFor = (i, size) => {
  const offset = (i * 7919 * 13) % (POOL.length - size + 1);
  return POOL.subarray(offset, offset + size);
};

/** Sends `payload` on a fresh connection and resolves once the same bytes came back. */
async function echoOnce(port, payload, timeout) {
  const socket = await connect(port);
  try {
    socket.write(payload);
    const back = await readerOf(socket).readExactly(payload.length, timeout);
    return back.equals(payload);
  } finally {
    await destroyAll([socket]);
  }
}

/** One concurrent connection per entry of `sizes`, each echoing its own payload of that size. */
async function echoConcurrently(t, port, sizes, timeout) {
  const results = await Promise.all(
    sizes.map((size, i) => echoOnce(port, payloadFor(i, size), timeout).then(
      (ok) => ({ ok, size, i }),
      (err) => ({ ok: false, size, i, err: err.message }),
    )),
  );
  const bad = results.filter((r) => !r.ok);
  t.same(bad, [], `${sizes.length} clients got their bytes back unchanged`);
}

const cases = [
  { size: 1, clients: 200 },
  { size: 1 * KiB, clients: 200 },
  { size: 64 * KiB, clients: 200 },
  { size: 1 * MiB, clients: 50 },
  { size: 4 * MiB, clients: 20 },
];

for (const { size, clients } of cases) {
  t.test(`echoes ${size} B payloads on ${clients} concurrent connections`, { timeout: 60000 }, async (t) => {
    const { port } = await start(t, ECHO);
    await echoConcurrently(t, port, Array(clients).fill(size), 40000);
  });
}

t.test('echoes a mix of 1 B, 1 KiB, 64 KiB, 1 MiB and 4 MiB payloads on 200 concurrent connections', { timeout: 60000 }, async (t) => {
  const { port } = await start(t, ECHO);
  const sizes = [1, 1 * KiB, 64 * KiB, 1 * MiB, 4 * MiB];
  await echoConcurrently(t, port, Array.from({ length: 200 }, (_, i) => sizes[i % sizes.length]), 40000);
});

t.test('echoes several payloads in sequence on one connection', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, ECHO);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const reader = readerOf(socket);
  for (const [i, size] of [1, 1 * KiB, 64 * KiB, 1 * MiB, 4 * MiB, 7].entries()) {
    const payload = payloadFor(i + 1, size);
    socket.write(payload);
    const back = await reader.readExactly(payload.length, 20000);
    t.ok(back.equals(payload), `${size} B came back unchanged`);
  }
  t.equal(reader.length, 0, 'no extra bytes were sent');
});

t.test('accepts the handler module as a path string', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fileURLToPath(ECHO));
  t.ok(await echoOnce(port, payloadFor(3, 64 * KiB), 10000), '64 KiB echoed');
});

t.test('accepts the handler module as a file URL string', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, ECHO.href);
  t.ok(await echoOnce(port, payloadFor(4, 64 * KiB), 10000), '64 KiB echoed');
});

t.test('runs a handler object on the calling thread with numEventLoop: 1', { timeout: 30000 }, async (t) => {
  const { isMainThread, threadId } = await import('node:worker_threads');
  const seen = [];
  const handler = lib.defineHandler({
    react(c) {
      seen.push({ isMainThread, threadId });
      const bytes = c.next();
      return bytes && bytes.length ? bytes : undefined;
    },
  });
  const { engine, port } = await start(t, handler, { numEventLoop: 1 });
  t.equal(engine.loops, 1, 'one reactor');
  t.ok(await echoOnce(port, payloadFor(5, 1 * MiB), 10000), '1 MiB echoed');
  t.ok(seen.length > 0, 'react ran');
  t.ok(seen.every((s) => s.isMainThread), 'react ran on the main thread');
});

t.test('serves every listen address of an address list', { timeout: 30000 }, async (t) => {
  const engine = await lib.serve(ECHO, ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0'], { numEventLoop: 2 });
  t.teardown(() => withTimeout(engine.stop(), 15000, 'stop'));
  t.equal(engine.addrs.length, 2, 'two resolved addresses');
  const ports = engine.addrs.map((a) => Number(/:(\d+)$/.exec(a)[1]));
  t.not(ports[0], ports[1], 'distinct ports');
  for (const p of ports) {
    t.ok(p > 0, `port ${p} resolved`);
    t.ok(await echoOnce(p, payloadFor(p, 1 * KiB), 10000), `echo on port ${p}`);
  }
});

t.test('listens on all interfaces with tcp://:0 and echoes on 127.0.0.1', { timeout: 30000 }, async (t) => {
  const engine = await lib.serve(ECHO, 'tcp://:0', { numEventLoop: 2 });
  t.teardown(() => withTimeout(engine.stop(), 15000, 'stop'));
  const m = /^tcp:\/\/(.*):(\d+)$/.exec(engine.addrs[0]);
  t.ok(m, `resolved address ${engine.addrs[0]} has the tcp://host:port form`);
  const port = Number(m[2]);
  t.ok(port > 0, 'port 0 resolved to a real port');
  t.ok(await echoOnce(port, payloadFor(9, 1 * KiB), 10000), 'echo over 127.0.0.1');
});
