// A reactor thread that dies is detected; the engine serves on (and can restart it).
import t from 'tap';
import { start, fixture, poll } from './helpers/engine.mjs';
import { withTimeout, sleep, openClient as client, ask } from './helpers/net.mjs';
import { fdCount } from './helpers/resources.mjs';

const F = fixture('crash.mjs');

// Two clients, one on each reactor, matched by their own port (messages may arrive in any order).
async function twoOnBothLoops(port, messages) {
  const a = await client(port);
  const b = await client(port);
  const opened = await messages.waitForCount((m) => m.ev === 'opened', 2);
  const loopOf = (s) => opened.find((m) => m.remotePort === s.localPort).loop;
  return loopOf(a) === 0 ? [a, b] : [b, a];
}

t.test('a dead reactor is reported, its connections closed, and the others keep serving', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F);
  const died = new Promise((r) => engine.once('reactorError', (err, loop, lost) => r({ err, loop, lost })));
  const lostRefs = [];
  engine.on('connectionLost', (ref, err) => lostRefs.push({ ref, err }));
  const [on0, on1] = await twoOnBothLoops(port, messages);
  on0.on('error', () => {});
  on0.write('crash');
  const d = await withTimeout(died, 10000, 'reactorError');
  t.equal(d.loop, 0);
  t.match(d.err.message, /reactor crash on purpose/);
  t.equal(d.lost, 1, 'its one connection was lost');
  t.ok(await poll(() => lostRefs.length === 1), 'and named on the engine thread: one connectionLost');
  t.equal(lostRefs[0].ref.loop, 0, 'with the ref of the connection on the dead reactor');
  t.match(lostRefs[0].err.message, /reactor crash on purpose/, 'and the error that killed it');
  await withTimeout(new Promise((r) => (on0.destroyed ? r() : on0.once('close', r))), 5000, 'its client sees the close');
  t.equal(await ask(on1, 'alive'), 'alive', 'the other reactor serves on');
  for (let i = 0; i < 3; i++) {
    const s = await client(port);
    t.equal(await ask(s, `new${i}`), `new${i}`, 'new connections go to the living reactor');
    s.destroy();
  }
  t.ok(await poll(() => engine.connectionsPerLoop()[0] === 0), 'its count is back to zero');
  on1.destroy();
});

t.test('with restartReactors a fresh reactor takes the dead one\'s place', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F, { restartReactors: true });
  engine.on('reactorError', () => {});
  const restarted = new Promise((r) => engine.once('reactorRestarted', r));
  const [on0, on1] = await twoOnBothLoops(port, messages);
  on0.on('error', () => {});
  on0.write('crash');
  t.equal(await withTimeout(restarted, 15000, 'restart'), 0);
  const before = messages.filter((m) => m.ev === 'opened').length;
  const socks = [];
  for (let i = 0; i < 4; i++) socks.push(await client(port));
  const opened = (await messages.waitForCount((m) => m.ev === 'opened', before + 4)).slice(before);
  t.same([...new Set(opened.map((m) => m.loop))].sort(), [0, 1], 'both reactors take connections again');
  for (const s of socks) t.equal(await ask(s, 'x'), 'x');
  for (const s of socks) s.destroy();
  on1.destroy();
  t.ok(fdCount() > 0);
});

t.test('a ref from a dead reactor never reaches a connection of the reactor that replaced it', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F, { restartReactors: true, numEventLoop: 1 });
  engine.on('reactorError', () => {});
  const restarted = new Promise((r) => engine.once('reactorRestarted', r));
  const a = await client(port);
  a.on('error', () => {});
  const refA = (await messages.waitFor((m) => m.ev === 'opened')).ref;
  a.write('crash');
  await withTimeout(restarted, 15000, 'restart');
  const b = await client(port);
  const refB = (await messages.waitForCount((m) => m.ev === 'opened', 2))[1].ref;
  t.equal(refB.slot, refA.slot, 'the new connection took the same slot');
  t.not(refB.generation, refA.generation, 'under another generation');
  const got = [];
  b.on('data', (d) => got.push(d));
  t.same(await engine.asyncWriteAck(refA, 'FOR-A-ONLY'), { status: 'dropped', code: 'ENOTCONN' }, 'the stale write is dropped');
  t.equal(await ask(b, 'mine'), 'mine', 'the new connection gets only its own bytes');
  t.notOk(Buffer.concat(got).toString().includes('FOR-A-ONLY'));
  b.destroy();
});

t.test('in reusePort mode a restarted reactor listens again on the same port', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, F, { restartReactors: true, numEventLoop: 1, reusePort: true });
  engine.on('reactorError', () => {});
  const restarted = new Promise((r) => engine.once('reactorRestarted', r));
  const a = await client(port);
  a.on('error', () => {});
  await messages.waitFor((m) => m.ev === 'opened');
  a.write('crash');
  await withTimeout(restarted, 15000, 'restart');
  const b = await client(port);
  t.equal(await ask(b, 'again'), 'again');
  b.destroy();
});

t.test('reactorError counts the connections the dead reactor held, though its teardown already closed them', { timeout: 30000 }, async (t) => {
  // The engine's thread takes the 'error' after the thread's teardown has counted its connections
  // down: only its conn table still names them.
  const { engine, port, messages } = await start(t, F, { numEventLoop: 1 });
  const died = new Promise((r) => engine.once('reactorError', (err, loop, lost) => r({ loop, lost })));
  const a = await client(port);
  const b = await client(port);
  for (const s of [a, b]) s.on('error', () => {});
  await messages.waitForCount((m) => m.ev === 'opened', 2);
  a.write('crash', () => {
    // Hold the engine's thread while the reactor dies, so its teardown surely comes first.
    const until = Date.now() + 300;
    while (Date.now() < until);
  });
  t.same(await withTimeout(died, 10000, 'reactorError'), { loop: 0, lost: 2 }, 'both connections lost');
  a.destroy();
  b.destroy();
});
