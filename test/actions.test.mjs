// Actions returned by react: Close (flush this connection's output, then close it) and Shutdown
// (stop the whole engine).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { connect, connectExpectingError, destroyAll, readerOf, sleep, withTimeout } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const ACTIONS = fixture('actions.mjs');
const BIG = randomBytes(2 * 1024 * 1024);

t.test('Action.Close sends all of `out` and then closes the connection', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, ACTIONS, { handlerOptions: { big: BIG } });
  // Leave the socket unread for a while: 2 MiB cannot fit in the kernel buffers, so the reactor
  // must hold the rest and keep flushing before it closes.
  const socket = await connect(port, { reader: false });
  t.teardown(() => destroyAll([socket]));
  socket.pause();
  socket.write('big\n');
  await sleep(300);
  const reader = readerOf(socket);
  socket.resume();
  const got = await reader.readToEnd(15000);
  t.equal(got.length, BIG.length, 'every byte of out arrived before EOF');
  t.ok(got.equals(BIG), 'byte for byte');
  await reader.waitClosed(5000);
  t.notOk(reader.error, 'closed without a reset');
});

t.test('Action.Close closes only that connection; others stay open and served', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, ACTIONS, { handlerOptions: { big: BIG } });
  const others = await Promise.all(Array.from({ length: 4 }, () => connect(port)));
  const closing = await connect(port);
  t.teardown(() => destroyAll([...others, closing]));
  for (const o of others) {
    o.write('before\n');
    t.equal((await readerOf(o).readExactly(7, 5000)).toString(), 'before\n', 'served before');
  }
  closing.write('big\n');
  const got = await readerOf(closing).readToEnd(15000);
  t.ok(got.equals(BIG), 'the closing connection got its output');
  await sleep(200);
  for (const [i, o] of others.entries()) {
    const r = readerOf(o);
    t.notOk(r.ended || r.closed, `connection ${i} is still open`);
    o.write(`after${i}\n`);
    t.equal((await r.readExactly(7, 5000)).toString(), `after${i}\n`, `connection ${i} still served`);
  }
  t.equal(engine.countConnections(), others.length, 'the engine still counts the other connections');
});

t.test('Action.Shutdown from react stops the engine', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, ACTIONS, { handlerOptions: { big: BIG } });
  const bystander = await connect(port);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket, bystander]));
  socket.write('shutdown\n');
  await withTimeout(engine.done, 10000, 'engine.done');
  t.pass('engine.done resolved');
  const err = await connectExpectingError(port);
  t.equal(err.code, 'ECONNREFUSED', 'the port no longer accepts connections');
  const ends = await Promise.all([readerOf(socket).waitEnded(5000), readerOf(bystander).waitEnded(5000)]);
  t.ok(ends.every((e) => e.ended || e.closed), 'open connections were closed');
  await withTimeout(engine.stop(), 5000, 'stop after shutdown');
  t.pass('stop() after a Shutdown resolves');
});

t.test('Action.Shutdown flushes pending output before the engine stops', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, ACTIONS, { handlerOptions: { big: BIG } });
  const socket = await connect(port, { reader: false });
  t.teardown(() => destroyAll([socket]));
  socket.pause();
  socket.write('bigshutdown\n');
  await sleep(300);
  const reader = readerOf(socket);
  socket.resume();
  const got = await reader.readToEnd(15000);
  t.equal(got.length, BIG.length, 'every byte of out arrived before EOF');
  t.ok(got.equals(BIG), 'byte for byte');
  await withTimeout(engine.done, 10000, 'engine.done');
  t.pass('engine.done resolved');
});

t.test('Action.Close returned from onOpened refuses the connection', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, ACTIONS, { handlerOptions: { refuse: true } });
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write('hello\n');
  const end = await readerOf(socket).waitEnded(5000);
  // Closing a socket with unread input makes the kernel answer with a reset, so the client may
  // see ECONNRESET (or EPIPE) instead of a clean EOF; either way the server closed it.
  t.ok(
    end.ended || end.closed || ['ECONNRESET', 'EPIPE'].includes(end.error?.code),
    `the server closed the connection (${end.error?.code ?? (end.ended ? 'EOF' : 'close')})`,
  );
  t.equal(readerOf(socket).length, 0, 'nothing was sent');
  await sleep(200);
  t.equal(messages.filter((m) => m.ev === 'react').length, 0, 'react never ran for it');
});
