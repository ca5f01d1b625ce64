// Greeting: bytes returned from onOpened are sent as soon as the connection opens.
import t from 'tap';
import { connect, destroyAll, readerOf } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const GREETING = fixture('greeting.mjs');
const HELLO = 'hello\r\n';

t.test('the client receives the greeting before sending anything', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, GREETING);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const got = await readerOf(socket).readExactly(HELLO.length, 5000);
  t.equal(got.toString('latin1'), HELLO, 'greeting received');
  t.equal(socket.bytesWritten, 0, 'the client had sent nothing');
});

t.test('every connection on both reactors is greeted', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, GREETING);
  const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(port)));
  t.teardown(() => destroyAll(sockets));
  const got = await Promise.all(sockets.map((s) => readerOf(s).readExactly(HELLO.length, 5000)));
  t.ok(got.every((b) => b.toString('latin1') === HELLO), '50 greetings received');
});

t.test('the greeting is sent once and comes before any reply', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, GREETING);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  // Send at once: the request may reach the reactor in the same batch as the accept.
  socket.write('ping\n');
  const reader = readerOf(socket);
  const got = await reader.readExactly(HELLO.length + 5, 5000);
  t.equal(got.toString('latin1'), `${HELLO}ping\n`, 'greeting first, then the echo');
  socket.write('again\n');
  t.equal((await reader.readExactly(6, 5000)).toString('latin1'), 'again\n', 'no second greeting');
});
