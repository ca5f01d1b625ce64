// Outbound connections: c.dial from a handler, info.dial from a timer, engine.dial from the main
// thread; TCP, IPv6 and Unix; connect failures and the connect deadline reach onClosed.
import t from 'tap';
import os from 'node:os';
import { connect, destroyAll, readerOf, tmpSocketPath } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';
import { blackhole, peerServer } from './helpers/peers.mjs';

const DIAL = fixture('dial.mjs');
const isDialed = (m) => m.dialed === true;

async function client(t, port) {
  const s = await connect(port);
  t.teardown(() => destroyAll([s]));
  return { s, r: readerOf(s) };
}

t.test('c.dial opens a connection on the same reactor: onOpened with dialed and the context', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t, (s) => s.on('data', () => s.write('back\n')));
  const { port, messages } = await start(t, DIAL);
  const { s, r } = await client(t, port);
  s.write(`dial tcp://127.0.0.1:${peer.port}\n`);
  const line = (await r.readLine(5000)).toString();
  const [, loop, slot, gen] = line.split(' ').map(Number);
  const [opened] = await messages.waitForCount((m) => m.ev === 'opened' && isDialed(m), 1);
  t.same(opened.context, { from: 'dial', tag: 1 }, 'the context given to dial');
  t.same(opened.ref, { loop, slot, generation: gen }, 'the ref dial returned names it');
  const acceptedOn = messages.filter((m) => m.ev === 'opened' && !m.dialed)[0];
  t.equal(opened.loop, acceptedOn.loop, 'dialed on the reactor of the connection that dialed');
  t.equal(opened.remoteAddr, `127.0.0.1:${peer.port}`, 'remoteAddr is the peer');
  await peer.waitConn(1);
  const [data] = await messages.waitForCount((m) => m.ev === 'data', 1);
  t.equal(data.text, 'back\n', 'it reads what the peer sends');
  t.equal(peer.received(0).toString(), 'hello\n', 'the peer got what onOpened wrote');
});

t.test('a refused dial reaches onClosed with ECONNREFUSED and the context, never onOpened', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const deadPort = peer.port;
  await new Promise((r) => peer.server.close(r));
  const { port, messages } = await start(t, DIAL);
  const { s } = await client(t, port);
  s.write(`dial tcp://127.0.0.1:${deadPort}\n`);
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed' && isDialed(m), 1);
  t.equal(closed.code, 'ECONNREFUSED');
  t.same(closed.context, { from: 'dial', tag: 1 });
  t.equal(messages.filter((m) => m.ev === 'opened' && m.dialed).length, 0, 'no onOpened');
});

t.test('a connect that does not complete in time closes with ETIMEDOUT', { timeout: 30000 }, async (t) => {
  const hole = await blackhole(t);
  const { port, messages } = await start(t, DIAL);
  const { s } = await client(t, port);
  const t0 = Date.now();
  s.write(`dial tcp://127.0.0.1:${hole} 300\n`);
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed' && isDialed(m), 1, 10000);
  const took = Date.now() - t0;
  t.equal(closed.code, 'ETIMEDOUT');
  t.ok(took >= 250 && took < 5000, `closed after the 300 ms deadline (${took} ms)`);
});

t.test('dialing IPv6 and Unix sockets', { timeout: 30000 }, async (t) => {
  const v6 = await peerServer(t, () => {}, { host: '::1' }).catch(() => null);
  const path = tmpSocketPath(t, 'peer.sock');
  await peerServer(t, () => {}, { path });
  const { port, messages } = await start(t, DIAL);
  const { s } = await client(t, port);
  s.write(`dial unix://${path}\n`);
  const [u] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1);
  t.equal(u.remoteAddr, path, 'a Unix peer: its path');
  if (!v6) {
    t.comment('no IPv6 loopback here: IPv6 part skipped');
    return;
  }
  s.write(`dial tcp6://[::1]:${v6.port}\n`);
  const [six] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 2);
  t.ok(messages.filter((m) => m.ev === 'opened' && m.dialed).some((m) => m.remoteAddr === `[::1]:${v6.port}`), 'an IPv6 peer');
  t.ok(six);
});

t.test('a Unix path nobody listens on fails with ENOENT or ECONNREFUSED', { timeout: 30000 }, async (t) => {
  const path = tmpSocketPath(t, 'nobody.sock');
  const { port, messages } = await start(t, DIAL);
  const { s } = await client(t, port);
  s.write(`dial unix://${path}\n`);
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed' && isDialed(m), 1);
  t.ok(['ENOENT', 'ECONNREFUSED'].includes(closed.code), closed.code);
});

t.test('a malformed address throws in the handler, synchronously', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, DIAL);
  const { s, r } = await client(t, port);
  s.write('dial http://x\n');
  t.match((await r.readLine(5000)).toString(), /^error TypeError .*tcp:\/\//);
  s.write('dial tcp://example.invalid:80\n');
  t.match((await r.readLine(5000)).toString(), /^error TypeError .*numeric hosts only/);
});

t.test('info.dial from a timer dials on that reactor', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const { port, messages } = await start(t, DIAL);
  const { s, r } = await client(t, port);
  s.write(`timer tcp://127.0.0.1:${peer.port}\n`);
  t.equal((await r.readLine(5000)).toString().trim(), 'armed');
  const [opened] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1);
  t.same(opened.context, { from: 'timer', tag: 1 });
  await peer.waitConn(1);
});

t.test('job.dial from a pool thread dials on the reactor of the connection that offloaded', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const { port, messages } = await start(t, DIAL, { pool: true });
  const { s, r } = await client(t, port);
  s.write(`job tcp://127.0.0.1:${peer.port}\n`);
  const [, loop, slot, gen] = (await r.readLine(10000)).toString().trim().split(' ').map(Number);
  const [opened] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1);
  t.same(opened.ref, { loop, slot, generation: gen }, 'the ref the job got names the dialed connection');
  t.same(opened.context, { from: 'job', tag: 1 }, 'the context, cloned through the inbox');
  const acceptedOn = messages.filter((m) => m.ev === 'opened' && !m.dialed)[0];
  t.equal(opened.loop, acceptedOn.loop, 'on the same reactor');
  await peer.waitConn(1);
});

t.test('engine.dial from the main thread: on the loop asked for, with a cloned context', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const { engine, messages } = await start(t, DIAL);
  const ref = await engine.dial(`tcp://localhost:${peer.port}`, { loop: 1, context: { who: 'main', n: [1, 2] } });
  t.equal(ref.loop, 1, 'on loop 1');
  const [opened] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1);
  t.same(opened.context, { who: 'main', n: [1, 2] });
  t.same(opened.ref, { loop: ref.loop, slot: ref.slot, generation: ref.generation }, 'the ref names the connection');
  t.equal(opened.loop, 1);
  // The ref works like any other: an asyncWrite reaches the peer.
  const sock = await peer.waitConn(1);
  const got = new Promise((resolve) => sock.on('data', (d) => d.includes('async') && resolve()));
  t.equal(engine.asyncWrite(ref, 'async\n'), 'queued');
  await got;
  const second = await engine.dial(`tcp://127.0.0.1:${peer.port}`);
  t.ok(second.loop === 0 || second.loop === 1, 'balanced when no loop is named');
});

t.test('engine.dial rejects a malformed address and a context that cannot be cloned', { timeout: 30000 }, async (t) => {
  const { engine } = await start(t, DIAL);
  await t.rejects(engine.dial('tcp://127.0.0.1'), TypeError);
  await t.rejects(engine.dial('tcp://127.0.0.1:9', { context: { f: () => 1 } }), TypeError);
  await t.rejects(engine.dial('tcp://127.0.0.1:9', { loop: 7 }), RangeError);
});

t.test('engine.dial to a refusing port: the ref first, then onClosed with ECONNREFUSED', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const dead = peer.port;
  await new Promise((r) => peer.server.close(r));
  const { engine, messages } = await start(t, DIAL);
  const ref = await engine.dial(`tcp://127.0.0.1:${dead}`, { context: 'x' });
  t.type(ref.slot, 'number');
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed' && m.dialed, 1);
  t.equal(closed.code, 'ECONNREFUSED');
  t.equal(closed.context, 'x');
  t.equal(os.constants.errno.ECONNREFUSED > 0, true);
});

t.test('closing a dial by its ref before it connects: onClosed with ECANCELED, never onOpened', { timeout: 30000 }, async (t) => {
  const hole = await blackhole(t);
  const { engine, messages } = await start(t, DIAL);
  const ref = await engine.dial(`tcp://127.0.0.1:${hole}`, { context: 'c', timeout: 5000 });
  t.equal(engine.close(ref), 'queued');
  const [closed] = await messages.waitForCount((m) => m.ev === 'closed' && m.dialed, 1, 10000);
  t.equal(closed.code, 'ECANCELED');
  t.equal(messages.filter((m) => m.ev === 'opened').length, 0);
});

t.test('engine.stop with a dial in progress: it is cancelled, stop completes', { timeout: 30000 }, async (t) => {
  const hole = await blackhole(t);
  const { lib } = await import('./helpers/engine.mjs');
  const engine = await lib.serve(DIAL, 'tcp://127.0.0.1:0', { numEventLoop: 1 });
  await engine.dial(`tcp://127.0.0.1:${hole}`, { timeout: 20000 });
  const t0 = Date.now();
  await engine.stop({ timeout: 5000 });
  t.ok(Date.now() - t0 < 4000, `stopped in ${Date.now() - t0} ms, not after the connect timeout`);
});

t.test('engine.dial with a context larger than an inbox slot (staged) arrives whole', { timeout: 30000 }, async (t) => {
  const peer = await peerServer(t);
  const { engine, messages } = await start(t, DIAL);
  const big = { blob: 'z'.repeat(20000), n: 7 };
  await engine.dial(`tcp://127.0.0.1:${peer.port}`, { context: big });
  const [opened] = await messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1);
  t.same(opened.context, big);
});
