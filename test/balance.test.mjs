// Load balancing: the acceptor hands connections to the reactors in turn (round-robin).
import t from 'tap';
import { connect, destroyAll, localAddrOf } from './helpers/net.mjs';
import { fixture, poll, start } from './helpers/engine.mjs';

const RECORDER = fixture('recorder.mjs');

/** Opens `n` connections one after the other, each once the previous one's onOpened was seen. */
async function openSequentially(t, port, messages, n) {
  const sockets = [];
  const loops = [];
  t.teardown(() => destroyAll(sockets));
  for (let i = 0; i < n; i++) {
    const s = await connect(port);
    sockets.push(s);
    const me = localAddrOf(s);
    const opened = await messages.waitFor(
      (m) => m.ev === 'opened' && m.remoteAddr === me,
      5000,
      `onOpened of connection ${i} (${me})`,
    );
    loops.push(opened.ref.loop);
  }
  return { sockets, loops };
}

t.test('sequential connections alternate between the two reactors', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  const { loops } = await openSequentially(t, port, messages, 10);
  t.ok(loops.every((l) => l === 0 || l === 1), `every ref.loop is 0 or 1: ${loops}`);
  for (let i = 1; i < loops.length; i++) {
    t.not(loops[i], loops[i - 1], `connection ${i} went to a different reactor than connection ${i - 1}`);
  }
  t.equal(loops.filter((l) => l === 0).length, 5, 'five connections on reactor 0');
  t.equal(loops.filter((l) => l === 1).length, 5, 'five connections on reactor 1');
});

t.test('onOpened reports the loop the message comes from', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, RECORDER);
  await openSequentially(t, port, messages, 4);
  const opened = messages.entries.filter((e) => e.msg.ev === 'opened');
  t.equal(opened.length, 4);
  for (const e of opened) t.equal(e.msg.ref.loop, e.loop, 'ref.loop equals the posting reactor');
});

t.test('connectionsPerLoop() and countConnections() count the open connections', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, RECORDER);
  t.same(engine.connectionsPerLoop(), [0, 0], 'no connections at start');
  t.equal(engine.countConnections(), 0);
  const { sockets } = await openSequentially(t, port, messages, 10);
  const per = await poll(() => {
    const v = engine.connectionsPerLoop();
    return v[0] === 5 && v[1] === 5 ? v : null;
  });
  t.same(per ?? engine.connectionsPerLoop(), [5, 5], 'five per reactor');
  t.equal(engine.countConnections(), 10, 'ten in total');

  await destroyAll(sockets);
  await messages.waitForCount((m) => m.ev === 'closed', 10, 5000, 'onClosed');
  const after = await poll(() => {
    const v = engine.connectionsPerLoop();
    return v[0] === 0 && v[1] === 0 ? v : null;
  });
  t.same(after ?? engine.connectionsPerLoop(), [0, 0], 'back to zero after the clients closed');
  t.equal(engine.countConnections(), 0);
});
