// UDP: react once per datagram, answers to its sender, sendTo, asyncWrite to a ref's peer, size
// limits and faults that stay with their datagram.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { LIB_URL, start, fixture, poll, portOf } from './helpers/engine.mjs';
import { UdpClient, bindOnce, closedPort } from './helpers/dgram.mjs';
import { connect, once, sleep, withTimeout } from './helpers/net.mjs';

const UDP = fixture('udp.mjs');
const ADDR4 = 'udp://127.0.0.1:0';

/** An engine on `addr` (two reactors unless told) serving the udp fixture. */
const serveUdp = (t, options = {}, addr = ADDR4) => start(t, UDP, options, addr);

/** Sends one datagram and expects the engine's answer, from the engine's address. */
async function ask(t, client, port, msg, expectFrom = `127.0.0.1:${port}`) {
  await client.send(msg, port);
  const [d] = await client.take(1);
  if (d.from !== expectFrom) t.equal(d.from, expectFrom, `the answer to ${msg} comes from the engine's port`);
  return String(d.data);
}

/** Sends "ref" and resolves with the ref the handler posted for it. */
async function refOf(client, port, messages) {
  await client.send(`ref ${client.addr}`, port);
  return (await messages.waitFor((m) => m.ev === 'ref' && m.arg === client.addr)).ref;
}

/**
 * Starts a worker thread that will run `body` (the source of an async function of `remote` and
 * `ref`) on the engine's handle. Resolves once the thread is ready with a function that runs it
 * and resolves with what the thread answered (or how it ended without a word). While it runs,
 * nothing but `body` itself keeps the thread alive.
 */
async function workerReady(t, engine, ref, body) {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.lib).then(({ connect }) => {
      parentPort.once('message', () => {
        parentPort.unref();
        Promise.resolve()
          .then(() => (${body})(connect(workerData.handle), workerData.ref))
          .then((result) => parentPort.postMessage({ result }), (e) => parentPort.postMessage({ error: String(e?.stack ?? e) }));
      });
      parentPort.postMessage('ready');
    });`;
  const w = new Worker(code, { eval: true, workerData: { lib: LIB_URL.href, handle: engine.handle, ref } });
  t.teardown(() => w.terminate());
  const ended = new Promise((resolve) => {
    w.once('exit', (code) => resolve({ exitedWithoutAnswer: code }));
    w.once('error', (e) => resolve({ error: String(e?.stack ?? e) }));
  });
  const said = () => withTimeout(Promise.race([new Promise((resolve) => w.once('message', resolve)), ended]), 15000, 'the worker thread');
  const ready = await said();
  if (ready !== 'ready') throw new Error(`the worker thread did not start: ${JSON.stringify(ready)}`);
  return () => {
    const answer = said();
    w.postMessage('go');
    return answer;
  };
}

t.test('each datagram is answered to its own sender: two clients get only their own replies', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const a = await UdpClient.open(t);
  const b = await UdpClient.open(t);
  for (let i = 0; i < 5; i++) {
    await a.send(`a${i}`, port);
    await b.send(`b${i}`, port);
  }
  const gotA = await a.take(5);
  const gotB = await b.take(5);
  t.same(gotA.map((d) => String(d.data)), [0, 1, 2, 3, 4].map((i) => `${a.addr}|a${i}`), 'a: its own five, naming a as the sender');
  t.same(gotB.map((d) => String(d.data)), [0, 1, 2, 3, 4].map((i) => `${b.addr}|b${i}`), 'b: its own five, naming b as the sender');
  t.ok([...gotA, ...gotB].every((d) => d.from === `127.0.0.1:${port}`), 'every answer comes from the engine\'s port');
  await sleep(100);
  t.same([a.pending.length, b.pending.length], [0, 0], 'and nothing else arrives');
});

t.test('a datagram\'s Conn: isDatagram, the sender as remoteAddr and in ref.peer, the index of its address as listener', { timeout: 30000 }, async (t) => {
  const { engine } = await start(t, UDP, {}, ['tcp://127.0.0.1:0', ADDR4]);
  t.match(engine.addrs[1], /^udp:\/\/127\.0\.0\.1:\d+$/);
  const port = portOf(engine.addrs[1]);
  const c = await UdpClient.open(t);
  const info = JSON.parse(await ask(t, c, port, 'info'));
  t.equal(info.isDatagram, true);
  t.equal(info.remoteAddr, c.addr);
  t.equal(info.listener, 1, 'the second address');
  t.equal(info.localAddr, `127.0.0.1:${port}`);
  t.match(info.ref, { loop: Number, slot: Number, generation: Number, peer: c.addr });
});

t.test('IPv6: udp6://[::1] answers each sender at its [::1]:port', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t, {}, 'udp6://[::1]:0');
  t.match(engine.addrs[0], /^udp6:\/\/\[::1\]:\d+$/);
  const c = await UdpClient.open(t, { family: 6 });
  t.match(c.addr, /^\[::1\]:\d+$/);
  t.equal(await ask(t, c, port, 'six', `[::1]:${port}`), `${c.addr}|six`);
  t.equal(JSON.parse(await ask(t, c, port, 'info', `[::1]:${port}`)).ref.peer, c.addr, 'ref.peer in the same form');
});

t.test('onOpened and onClosed never run for UDP (they do for a TCP connection on the same engine)', { timeout: 30000 }, async (t) => {
  const { engine, messages } = await start(t, UDP, {}, ['tcp://127.0.0.1:0', ADDR4]);
  const tcp = await connect(portOf(engine.addrs[0]));
  const tcpAddr = `127.0.0.1:${tcp.localPort}`;
  const port = portOf(engine.addrs[1]);
  const a = await UdpClient.open(t);
  const b = await UdpClient.open(t);
  for (const c of [a, b]) for (let i = 0; i < 3; i++) t.equal(await ask(t, c, port, `x${i}`), `${c.addr}|x${i}`);
  await messages.waitFor((m) => m.ev === 'opened', 5000, 'the TCP connection\'s onOpened');
  tcp.destroy();
  await messages.waitFor((m) => m.ev === 'closed', 5000, 'the TCP connection\'s onClosed');
  await engine.stop();
  const events = messages.filter((m) => m.ev === 'opened' || m.ev === 'closed');
  t.same(events.map((m) => [m.ev, m.remoteAddr]), [['opened', tcpAddr], ['closed', tcpAddr]], 'only the TCP connection\'s');
});

t.test('the bytes react leaves unread are dropped with their datagram', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  t.equal(await ask(t, c, port, `len ${'x'.repeat(100)}`), '104', 'react sees the whole datagram');
  t.equal(await ask(t, c, port, `head ${'y'.repeat(50)}`), 'left 51', 'and reads only part of this one');
  t.equal(await ask(t, c, port, 'len'), '3', 'the next react sees only its own datagram');
});

t.test('an empty datagram is delivered and answered too', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  t.equal(await ask(t, c, port, ''), `${c.addr}|`);
});

t.test('each write is one datagram; writev and an array result are one datagram each', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  await c.send('multi', port);
  t.same((await c.take(4)).map((d) => String(d.data)), ['one', 'two', 'three', 'four']);
  await sleep(100);
  t.equal(c.pending.length, 0, 'nothing more');
});

t.test('close is a no-op on a datagram\'s Conn; wake and deadlines throw TypeError', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  t.same(JSON.parse(await ask(t, c, port, 'streamops')), {
    close: 'ok',
    wake: 'TypeError',
    setDeadline: 'TypeError',
    setReadDeadline: 'TypeError',
    setWriteDeadline: 'TypeError',
  });
  t.equal(await ask(t, c, port, 'still'), `${c.addr}|still`, 'the socket still serves after close()');
});

t.test('sendTo sends one datagram from the engine\'s socket to a third address', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const sender = await UdpClient.open(t);
  const third = await UdpClient.open(t);
  t.equal(await ask(t, sender, port, `sendto ${third.addr} hello third`), 'sent');
  const [d] = await third.take(1);
  t.same([String(d.data), d.from], ['hello third', `127.0.0.1:${port}`], 'from the engine\'s port');
  await sleep(100);
  t.same([sender.pending.length, third.pending.length], [0, 0], 'exactly one datagram each');
});

t.test('sendTo works later, from a timer, on the Conn kept from react', { timeout: 30000 }, async (t) => {
  const { port, messages } = await serveUdp(t);
  const sender = await UdpClient.open(t);
  const third = await UdpClient.open(t);
  await sender.send(`later 100 ${third.addr} afterwards`, port);
  const [d] = await third.take(1);
  t.same([String(d.data), d.from], ['afterwards', `127.0.0.1:${port}`]);
  t.same(messages.filter((m) => m.ev === 'laterError'), [], 'no error from the timer');
  t.equal(sender.pending.length, 0, 'nothing to the sender');
});

t.test('sendTo to a malformed or non-numeric address throws TypeError', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  for (const bad of ['localhost:80', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '[::1]', '::1:80', 'nonsense']) {
    t.match(await ask(t, c, port, `sendto ${bad} x`), /^TypeError: /, bad);
  }
  t.equal(await ask(t, c, port, 'fine'), `${c.addr}|fine`, 'and serving goes on');
});

t.test('engine.asyncWrite(ref) from the main thread, after react returned, reaches the ref\'s peer', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t);
  const a = await UdpClient.open(t);
  const b = await UdpClient.open(t);
  const refA = await refOf(a, port, messages);
  t.equal(refA.peer, a.addr);
  t.equal(engine.asyncWrite(refA, 'pushed later'), 'queued');
  const [d] = await a.take(1);
  t.same([String(d.data), d.from], ['pushed later', `127.0.0.1:${port}`], 'one datagram from the engine\'s port');
  t.equal(engine.asyncWrite({ ...refA, peer: b.addr }, 'to b'), 'queued', 'the same socket, another peer');
  t.equal(await b.next(), 'to b');
  await sleep(100);
  t.same([a.pending.length, b.pending.length], [0, 0], 'nothing else');
});

t.test('asyncWriteAck to a ref\'s peer resolves written with the byte count', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t);
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  t.same(await engine.asyncWriteAck(ref, 'acked'), { status: 'written', bytes: 5 });
  t.equal(await c.next(), 'acked');
});

t.test('connect(engine.handle).asyncWrite(ref) from another thread reaches the ref\'s peer', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t);
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  const run = await workerReady(t, engine, ref, `async (remote, ref) => [remote.asyncWrite(ref, 'from a worker'), remote.asyncWrite(ref, 'and again')]`);
  t.same(await run(), { result: ['queued', 'queued'] });
  t.same((await c.take(2)).map((d) => String(d.data)), ['from a worker', 'and again']);
});

// A regression test: AckTable.wait (lib/channel/acks.ts) waits with Atomics.waitAsync, which keeps no
// thread alive, so it also holds a handle until the ack settles; a worker with nothing else pending
// used to exit first.
t.test('asyncWriteAck awaited on another thread resolves (the thread does not exit first)', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t, { numEventLoop: 1 });
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  const run = await workerReady(t, engine, ref, `(remote, ref) => remote.asyncWriteAck(ref, 'acked from a worker')`);
  await c.send('block 1000', port); // the reactor settles the ack only once this is done
  await sleep(200);
  t.same(await run(), { result: { status: 'written', bytes: 19 } }, 'the worker gets its ack');
  t.same((await c.take(2)).map((d) => String(d.data)).sort(), ['acked from a worker', 'unblocked'], 'and the datagram was sent');
});

t.test('asyncWrite to a peer checks the datagram: RangeError past maxDatagramSize, TypeError for a malformed peer', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t, { maxDatagramSize: 1024 });
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  t.throws(() => engine.asyncWrite(ref, new Uint8Array(1025)), RangeError);
  await t.rejects(engine.asyncWriteAck(ref, new Uint8Array(1025)), RangeError);
  t.throws(() => engine.asyncWrite({ ...ref, peer: 'localhost:1' }, 'x'), TypeError);
  t.equal(engine.asyncWrite(ref, new Uint8Array(1024)), 'queued', 'exactly maxDatagramSize is fine');
  t.equal((await c.take(1))[0].data.length, 1024);
});

t.test('a ref that names no live socket is dropped with ENOTCONN and counted; nothing is sent', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t, { numEventLoop: 1, restartReactors: true });
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  const forged = { ...ref, generation: ref.generation + 1 };
  t.same(await engine.asyncWriteAck(forged, 'forged'), { status: 'dropped', code: 'ENOTCONN' }, 'another generation of the slot');
  t.ok(await poll(() => engine.stats().datagramsDropped === 1), 'counted as dropped');
  // The socket is gone for good when its reactor dies: the old ref must not reach anyone, even
  // once a fresh reactor serves again (it must never match whatever that reactor opens).
  const died = once(engine, 'reactorError', 10000);
  const restarted = once(engine, 'reactorRestarted', 10000);
  await c.send('crash', port);
  t.match((await died)[0], { message: 'reactor crash on purpose' });
  await restarted;
  t.same(await engine.asyncWriteAck(ref, 'stale'), { status: 'dropped', code: 'ENOTCONN' }, 'the ref from before the restart');
  t.ok(await poll(() => engine.stats().datagramsDropped === 2), 'counted as dropped');
  await sleep(100);
  t.equal(c.pending.length, 0, 'nothing reached the peer');
});

// A regression test: the dead reactor's UDP sockets (and reusePort listeners) close with it, so a
// restart (lib/engine/reactor_lifecycle.ts) must give the fresh reactor new ones on the same port.
t.test('a restarted reactor serves the UDP address again', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t, { numEventLoop: 1, restartReactors: true });
  engine.on('reactorError', () => {}); // expected: the crash below
  const restarted = once(engine, 'reactorRestarted', 10000);
  const c = await UdpClient.open(t);
  t.equal(await ask(t, c, port, 'before'), `${c.addr}|before`);
  await c.send('crash', port);
  await restarted;
  await c.send('after', port);
  const answer = await c.next(3000).catch(() => 'no answer in 3 s');
  t.equal(answer, `${c.addr}|after`, 'answered after the restart');
  await t.rejects(bindOnce(port), { code: 'EADDRINUSE' }, 'the port is still the engine\'s');
});

t.test('a ref after stop: asyncWrite answers stopped and nothing is sent', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await serveUdp(t);
  const c = await UdpClient.open(t);
  const ref = await refOf(c, port, messages);
  await engine.stop();
  t.equal(engine.asyncWrite(ref, 'late'), 'stopped');
  t.same(await engine.asyncWriteAck(ref, 'late'), { status: 'stopped' });
  await sleep(100);
  t.equal(c.pending.length, 0);
});

t.test('a burst of 500 datagrams from one client is answered in full', { timeout: 30000 }, async (t) => {
  // Both receive buffers are sized for the burst. With the default SO_RCVBUF (208 KiB) the kernel
  // drops what does not fit in the *client's* buffer while node is still busy sending (counted in
  // /proc/net/snmp Udp RcvbufErrors, about half the replies here): the engine sends them all.
  const { engine, port } = await serveUdp(t, { socketRecvBuffer: 4 << 20 });
  const c = await UdpClient.open(t, { recvBufferSize: 4 << 20 });
  const N = 500;
  await Promise.all(Array.from({ length: N }, (_, i) => c.send(`burst ${i}`, port)));
  const got = await c.take(N, 10000);
  const want = Array.from({ length: N }, (_, i) => `${c.addr}|burst ${i}`);
  t.same(got.map((d) => String(d.data)).sort(), want.sort(), 'each one answered once');
  t.ok(await poll(() => engine.stats().datagramsSent === N), 'stats: all sent');
  t.match(engine.stats(), { datagramsReceived: N, datagramsSent: N, datagramsDropped: 0, datagramsTruncated: 0 });
});

t.test('a datagram larger than maxDatagramSize is dropped and counted; the next one is served', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t, { maxDatagramSize: 1024 });
  const c = await UdpClient.open(t);
  await c.send(Buffer.alloc(2000, 0x78), port);
  await c.send(Buffer.alloc(1025, 0x78), port);
  t.ok(await poll(() => engine.stats().datagramsTruncated === 2), 'both counted as truncated');
  const fits = Buffer.concat([Buffer.from('len '), Buffer.alloc(1020, 0x78)]);
  t.equal(await ask(t, c, port, fits), '1024', 'exactly maxDatagramSize is delivered whole');
  t.equal(await ask(t, c, port, 'next'), `${c.addr}|next`);
  t.match(engine.stats(), { datagramsReceived: 2, datagramsTruncated: 2 }, 'the dropped ones were never delivered');
});

t.test('writing a datagram larger than maxDatagramSize throws RangeError; uncaught it reaches handlerError and serving goes on', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t, { maxDatagramSize: 1024 });
  const c = await UdpClient.open(t);
  t.match(await ask(t, c, port, 'bigcaught 1025'), /^RangeError: .*exceeds maxDatagramSize \(1024\)/, 'the write throws');
  const reported = once(engine, 'handlerError');
  await c.send('big 2000', port);
  const [err, event] = await reported;
  t.equal(event, 'react');
  t.match(err.message, /a datagram of 2000 bytes exceeds maxDatagramSize \(1024\)/);
  t.match(err.stack, /^RangeError/, 'a RangeError (its name travels in the stack)');
  t.equal(await ask(t, c, port, 'after'), `${c.addr}|after`, 'the next datagram is served');
  t.equal(c.pending.length, 0, 'nothing was sent for the oversized write');
  await c.send('bigcaught 1024', port);
  const [d, ok] = await c.take(2);
  t.same([d.data.length, String(ok.data)], [1024, 'written'], 'exactly maxDatagramSize is written');
});

t.test('sending to a closed port (ICMP port unreachable) does not disturb the socket', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  const nobody = `127.0.0.1:${await closedPort()}`;
  for (let i = 0; i < 20; i++) {
    t.equal(await ask(t, c, port, `sendto ${nobody} ping${i}`), 'sent');
    t.equal(await ask(t, c, port, `echo${i}`), `${c.addr}|echo${i}`);
  }
  // The reply itself goes to a port that closed meanwhile.
  const gone = await UdpClient.open(t);
  await gone.send('nobody hears this', port);
  gone.close();
  await sleep(50);
  t.equal(await ask(t, c, port, 'last'), `${c.addr}|last`, 'still serving');
});

t.test('a react that throws reports handlerError; the next datagram is served', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  const reported = once(engine, 'handlerError');
  await c.send('throw', port);
  const [err, event] = await reported;
  t.same([err.message, event], ['react exploded on purpose', 'react']);
  t.equal(await ask(t, c, port, 'after'), `${c.addr}|after`);
});

t.test('the port is held while serving (no other socket may bind it) and released by stop', { timeout: 30000 }, async (t) => {
  const { engine, port } = await serveUdp(t);
  const c = await UdpClient.open(t);
  t.equal(await ask(t, c, port, 'up'), `${c.addr}|up`);
  await t.rejects(bindOnce(port), { code: 'EADDRINUSE' }, 'held by the engine');
  await engine.stop();
  await t.resolves(bindOnce(port), 'a plain socket binds the port after stop');
});

t.test('with two reactors each serves its own socket on the port: peers are spread, and one peer keeps to one reactor', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t);
  const loopsOf = new Map();
  for (let i = 0; i < 16; i++) {
    const c = await UdpClient.open(t);
    const loops = new Set();
    for (let k = 0; k < 3; k++) loops.add(JSON.parse(await ask(t, c, port, 'info')).ref.loop);
    loopsOf.set(c.addr, [...loops]);
  }
  t.ok([...loopsOf.values()].every((l) => l.length === 1), 'each peer on one reactor');
  t.same(new Set([...loopsOf.values()].map((l) => l[0])), new Set([0, 1]), 'both reactors used by 16 peers');
});

t.test('a datagram offloaded to the pool is answered by job.asyncWrite to its sender', { timeout: 30000 }, async (t) => {
  const { port } = await serveUdp(t, { pool: true });
  const a = await UdpClient.open(t);
  const b = await UdpClient.open(t);
  for (let i = 0; i < 3; i++) {
    await a.send(`job a${i}`, port);
    await b.send(`job b${i}`, port);
  }
  for (const [c, name] of [[a, 'a'], [b, 'b']]) {
    const got = (await c.take(6, 10000)).map((d) => String(d.data));
    const answers = got.filter((s) => s.startsWith('job ')).sort();
    t.same(answers, [0, 1, 2].map((i) => `job ${name}${i} for ${c.addr} via ${c.addr}`), `${name}: its own answers`);
    t.same(got.filter((s) => !s.startsWith('job ')).map((s) => JSON.parse(s)), Array(3).fill({ status: 'written', bytes: answers[0].length }), `${name}: each acknowledged as written`);
  }
});
