// The handler's events: when each one fires, with what arguments, and how often.
import t from 'tap';
import { connect, destroyAll, localAddrOf, readerOf, sleep, write } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const RECORDER = fixture('recorder.mjs');

/** Connects and waits for the server's onOpened of that connection. */
async function open(t, port, messages) {
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const me = localAddrOf(socket);
  const opened = await messages.waitFor((m) => m.ev === 'opened' && m.remoteAddr === me, 5000, `onOpened of ${me}`);
  return { socket, me, opened };
}

const ofConn = (me, ev) => (m) => m.remoteAddr === me && (ev === undefined || m.ev === ev);

t.test('onInitComplete fires once per reactor with loop, loops, addrs and options', { timeout: 30000 }, async (t) => {
  const handlerOptions = { greeting: 'hi', n: 42, nested: { list: [1, 2, 3] } };
  const { engine, port } = await start(t, fixture('init-info.mjs'), { handlerOptions });
  // Round-robin puts two sequential connections on the two reactors; each reports what its
  // reactor's onInitComplete received.
  const reports = [];
  for (let i = 0; i < 2; i++) {
    const socket = await connect(port);
    t.teardown(() => destroyAll([socket]));
    socket.write('?');
    reports.push(JSON.parse((await readerOf(socket).readLine(5000)).toString()));
  }
  t.same(reports.map((r) => r.connLoop).sort(), [0, 1], 'both reactors answered');
  for (const r of reports) {
    t.equal(r.calls, 1, `reactor ${r.connLoop}: onInitComplete ran exactly once`);
    t.equal(r.info?.loop, r.connLoop, `reactor ${r.connLoop}: info.loop is the reactor's index`);
    t.equal(r.info?.loops, 2, `reactor ${r.connLoop}: info.loops is 2`);
    t.same(r.info?.addrs, engine.addrs, `reactor ${r.connLoop}: info.addrs are the resolved listen addresses`);
    t.same(r.info?.options, handlerOptions, `reactor ${r.connLoop}: info.options is handlerOptions`);
  }
  t.equal(engine.loops, 2, 'engine.loops is 2');
  t.match(engine.addrs[0], /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/, 'resolved address names the real port');
});

t.test('messages posted from onInitComplete reach engine.on("message")', { timeout: 30000 }, async (t) => {
  const handlerOptions = { n: 7 };
  const { engine, messages } = await start(t, RECORDER, { handlerOptions });
  const inits = await messages.waitForCount((m) => m.ev === 'init', 2, 5000, 'onInitComplete messages');
  await sleep(200);
  t.equal(messages.filter((m) => m.ev === 'init').length, 2, 'exactly two onInitComplete messages');
  t.same(inits.map((m) => m.loop).sort(), [0, 1], 'one from each reactor');
  for (const m of inits) {
    t.equal(m.loops, 2);
    t.same(m.addrs, engine.addrs);
    t.same(m.options, handlerOptions);
  }
});

t.test('a factory default export is called once per reactor with info.options', { timeout: 30000 }, async (t) => {
  const handlerOptions = { reply: 'factory-made', list: [1, 2, 3] };
  const { port } = await start(t, fixture('handler-options.mjs'), { handlerOptions });
  // Two connections land on the two reactors (round-robin); each reports its reactor's factory call.
  const reports = [];
  for (let i = 0; i < 2; i++) {
    const socket = await connect(port);
    t.teardown(() => destroyAll([socket]));
    socket.write('?');
    reports.push(JSON.parse((await readerOf(socket).readLine(5000)).toString()));
  }
  t.same(reports.map((r) => r.loop).sort(), [0, 1], 'the factory ran on both reactors');
  for (const r of reports) {
    t.equal(r.calls, 1, `reactor ${r.loop}: the factory was called once`);
    t.equal(r.loops, 2, `reactor ${r.loop}: info.loops is 2`);
    t.equal(r.connLoop, r.loop, `reactor ${r.loop}: info.loop is the reactor serving the connection`);
    t.same(r.options, handlerOptions, `reactor ${r.loop}: info.options is handlerOptions`);
  }
});

t.test('onOpened fires before react, and react sees the bytes sent', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const me = localAddrOf(socket);
  const sent = 'hello, reactor \u00ff\u0000 bytes';
  socket.write(Buffer.from(sent, 'latin1'));
  const received = () => messages.filter(ofConn(me, 'react')).map((r) => r.data ?? '').join('');
  await messages.waitFor(() => received().length >= sent.length, 5000, 'react calls carrying all the bytes');
  const mine = messages.filter(ofConn(me));
  t.equal(mine[0].ev, 'opened', 'the first event of the connection is onOpened');
  const opened = mine.filter((m) => m.ev === 'opened');
  t.equal(opened.length, 1, 'onOpened fired once');
  const reacts = mine.filter((m) => m.ev === 'react');
  t.ok(reacts.length >= 1, 'react fired');
  t.ok(reacts.every((r) => r.seq > opened[0].seq), 'every react came after onOpened (reactor order)');
  t.equal(reacts.map((r) => r.data ?? '').join(''), sent, 'react received exactly the bytes sent');
});

t.test('onClosed fires exactly once, with no error, when the client closes cleanly', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket, me } = await open(t, port, messages);
  socket.end();
  const closed = await messages.waitFor(ofConn(me, 'closed'), 5000, 'onClosed');
  t.equal(closed.err, undefined, 'err is undefined for a clean EOF');
  await readerOf(socket).waitEnded(5000);
  await sleep(300);
  t.equal(messages.filter(ofConn(me, 'closed')).length, 1, 'onClosed fired exactly once');
});

t.test('the server closes its side after the client closed cleanly', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket } = await open(t, port, messages);
  socket.end();
  const end = await readerOf(socket).waitEnded(5000);
  t.ok(end.ended || end.closed, 'the client sees EOF / close');
  t.notOk(end.error, 'without an error');
});

t.test('onClosed gets an ECONNRESET error when the client resets the connection', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket, me } = await open(t, port, messages);
  socket.resetAndDestroy();
  const closed = await messages.waitFor(ofConn(me, 'closed'), 5000, 'onClosed');
  t.ok(closed.err, 'err is set');
  t.equal(closed.err?.isError, true, 'err is an Error');
  t.equal(closed.err?.code, 'ECONNRESET', 'err.code is ECONNRESET');
  await sleep(300);
  t.equal(messages.filter(ofConn(me, 'closed')).length, 1, 'onClosed fired exactly once');
});

t.test('every opened connection gets exactly one onClosed', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const sockets = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
  t.teardown(() => destroyAll(sockets));
  const mes = sockets.map(localAddrOf);
  await messages.waitForCount((m) => m.ev === 'opened' && mes.includes(m.remoteAddr), 20, 5000, 'onOpened');
  sockets.forEach((s, i) => (i % 2 ? s.resetAndDestroy() : s.end()));
  await messages.waitForCount((m) => m.ev === 'closed' && mes.includes(m.remoteAddr), 20, 5000, 'onClosed');
  await sleep(300);
  for (const [i, me] of mes.entries()) {
    const closed = messages.filter(ofConn(me, 'closed'));
    t.equal(closed.length, 1, `connection ${i}: one onClosed`);
    if (i % 2) t.equal(closed[0]?.err?.code, 'ECONNRESET', `connection ${i}: reset`);
    else t.equal(closed[0]?.err, undefined, `connection ${i}: clean`);
  }
});

t.test('c.ref names the connection with loop, slot and generation on every event', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket, me, opened } = await open(t, port, messages);
  const { ref } = opened;
  t.ok(ref.loop === 0 || ref.loop === 1, 'ref.loop is a reactor index');
  t.ok(Number.isInteger(ref.slot) && ref.slot >= 0, 'ref.slot is a non-negative integer');
  t.ok(Number.isInteger(ref.generation) && ref.generation >= 0, 'ref.generation is a non-negative integer');
  await write(socket, 'x');
  const react = await messages.waitFor(ofConn(me, 'react'), 5000, 'react');
  socket.end();
  const closed = await messages.waitFor(ofConn(me, 'closed'), 5000, 'onClosed');
  t.same(react.ref, ref, 'same ref in react');
  t.same(closed.ref, ref, 'same ref in onClosed');
});

t.test('a reused slot gets a new generation', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const refs = [];
  for (let i = 0; i < 8; i++) {
    const { socket, me, opened } = await open(t, port, messages);
    refs.push(opened.ref);
    socket.end();
    await messages.waitFor(ofConn(me, 'closed'), 5000, 'onClosed');
  }
  const keys = refs.map((r) => `${r.loop}/${r.slot}/${r.generation}`);
  t.equal(new Set(keys).size, keys.length, `no two connections share a (loop, slot, generation): ${keys}`);
  const slots = refs.map((r) => `${r.loop}/${r.slot}`);
  t.comment(`slots used: ${slots} (reused: ${new Set(slots).size < slots.length})`);
});

t.test('c.context persists between the events of one connection', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket, me, opened } = await open(t, port, messages);
  const id = opened.context.id;
  for (let n = 1; n <= 3; n++) {
    await write(socket, `msg${n}`);
    const r = await messages.waitFor((m) => ofConn(me, 'react')(m) && m.context?.reacts === n, 5000, `react #${n}`);
    t.equal(r.context.id, id, `react #${n} sees the context set in onOpened`);
  }
  socket.end();
  const closed = await messages.waitFor(ofConn(me, 'closed'), 5000, 'onClosed');
  t.equal(closed.context?.id, id, 'onClosed sees the same context');
  t.equal(closed.context?.reacts, 3, 'with the state react left in it');
});

t.test('contexts of different connections are independent', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const a = await open(t, port, messages);
  const b = await open(t, port, messages);
  t.not(a.opened.context.id, b.opened.context.id, 'distinct contexts');
  await write(a.socket, 'a');
  const ra = await messages.waitFor(ofConn(a.me, 'react'), 5000, 'react a');
  await write(b.socket, 'b');
  const rb = await messages.waitFor(ofConn(b.me, 'react'), 5000, 'react b');
  t.equal(ra.context.id, a.opened.context.id);
  t.equal(rb.context.id, b.opened.context.id);
  t.equal(rb.context.reacts, 1, "b's counter is not affected by a's events");
});

t.test('c.remoteAddr and c.localAddr are the two ends of the TCP connection', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { socket, opened } = await open(t, port, messages);
  t.equal(opened.remoteAddr, `${socket.localAddress}:${socket.localPort}`, 'remoteAddr is the client');
  t.equal(opened.localAddr, `127.0.0.1:${port}`, 'localAddr is the listen address');
});
