// Half-close (closeWrite, onReadClosed) and pauseRead/resumeRead on accepted connections.
import t from 'tap';
import net from 'node:net';
import { connect, destroyAll, readerOf, sleep } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const HALF = fixture('halfclose.mjs');

async function client(t, port) {
  const s = await connect(port);
  t.teardown(() => destroyAll([s]));
  return s;
}

const ended = (s) => new Promise((resolve) => s.once('end', resolve));

t.test("the client's EOF reaches onReadClosed; the server still writes, then closes its side", { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, HALF);
  const s = await client(t, port);
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  const end = ended(s);
  s.end('close-write\nabcdef');
  const [rc] = await messages.waitForCount((m) => m.ev === 'readClosed', 1);
  t.equal(rc.n, 6, 'every byte before the EOF was read first');
  await end;
  t.equal(Buffer.concat(chunks).toString(), 'got 6\n', 'the reply written after the EOF arrived, then EOF');
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed', 1);
  t.equal(closed.code, null, 'both directions done: a clean close');
});

t.test('closeWrite sends the pending output first, then EOF, and the connection still reads', { timeout: 60000 }, async (t) => {
  const { port, messages } = await start(t, HALF);
  // allowHalfOpen: node:net would otherwise end our side as soon as the server's EOF arrives.
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  const N = 8 << 20;
  let got = 0;
  s.on('data', (d) => (got += d.length));
  const end = ended(s);
  s.write(`big ${N}\n`);
  await end;
  t.equal(got, N, 'all 8 MiB before the EOF');
  const [w] = await messages.waitForCount((m) => m.ev === 'write-after-closeWrite', 1);
  t.match(w.message, /closeWrite/, 'a write after closeWrite throws');
  // The server's read side is still open: bytes sent now are read, and our EOF closes it.
  s.end(Buffer.alloc(1000, 1));
  const [rc] = await messages.waitForCount((m) => m.ev === 'readClosed', 1);
  t.equal(rc.n, 1000, 'read after its own closeWrite');
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed', 1);
  t.equal(closed.code, null);
});

t.test('pauseRead stops react until resumeRead; nothing is lost', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, HALF);
  const s = await client(t, port);
  s.write('pause 400\n');
  await messages.waitForCount((m) => m.ev === 'paused', 1);
  for (let i = 0; i < 10; i++) {
    s.write(Buffer.alloc(1000, 2));
    await sleep(10);
  }
  const [res] = await messages.waitForCount((m) => m.ev === 'resuming', 1);
  t.equal(res.reactsWhilePaused, 0, 'no react while paused');
  t.equal(res.n, 0, 'nothing read while paused');
  s.end();
  const [rc] = await messages.waitForCount((m) => m.ev === 'readClosed', 1);
  t.equal(rc.n, 10000, 'every byte read after resumeRead');
});

t.test('a paused connection whose peer hangs up after our closeWrite keeps its unread bytes', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, HALF);
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  const end = ended(s);
  s.resume();
  s.write('shut-pause 500\n');
  await messages.waitForCount((m) => m.ev === 'paused', 1);
  await end; // the server's side is shut
  // Sent and ended while the server neither reads nor writes: the socket is hung up (both
  // directions shut) with 64 KiB still in its receive queue.
  s.end(Buffer.alloc(65536, 3));
  await sleep(100);
  const early = messages.filter((m) => m.ev === 'closed');
  t.same(early, [], 'not closed while paused: the bytes are still to be read');
  const [rc] = await messages.waitForCount((m) => m.ev === 'readClosed', 1);
  t.equal(rc.n, 65536, 'every byte read after resumeRead, then the EOF');
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed', 1);
  t.equal(closed.code, null, 'both directions done: a clean close');
});
