// preWrite: called on the reactor just before the output of the current batch goes to the socket.
import t from 'tap';
import { connect, destroyAll, localAddrOf, readerOf } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const PREWRITE = fixture('prewrite.mjs');

for (const mode of ['return', 'write']) {
  const how = mode === 'write' ? 'c.write' : 'a returned out';
  t.test(`preWrite runs after react and before ${how} reaches the client`, { timeout: 30000 }, async (t) => {
    const { port, messages } = await start(t, PREWRITE, { handlerOptions: { mode } });
    const socket = await connect(port);
    t.teardown(() => destroyAll([socket]));
    const me = localAddrOf(socket);
    socket.write('one');
    const got = await readerOf(socket).readExactly(7, 5000);
    t.equal(got.toString(), 'ack:one', 'the client got the data');
    const pre = await messages.waitFor((m) => m.ev === 'preWrite' && m.remoteAddr === me, 5000, 'preWrite');
    const reacts = messages.filter((m) => m.ev === 'react' && m.remoteAddr === me);
    t.equal(reacts.length, 1, 'one react');
    t.ok(reacts[0].seq < pre.seq, 'react → preWrite');
    t.same(pre.ref, reacts[0].ref, 'preWrite got the same connection');
  });
}

t.test('preWrite runs for each batch that writes', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PREWRITE, { handlerOptions: { mode: 'write' } });
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const me = localAddrOf(socket);
  const reader = readerOf(socket);
  const count = (ev) => messages.filter((m) => m.ev === ev && m.remoteAddr === me).length;
  for (const [i, word] of ['aa', 'bb', 'cc'].entries()) {
    socket.write(word);
    t.equal((await reader.readExactly(6, 5000)).toString(), `ack:${word}`);
    // the reports travel separately from the TCP reply: wait for both of this round
    await messages.waitFor(() => count('react') > i && count('preWrite') > i, 5000, `react and preWrite for ${word}`);
  }
  const mine = messages.filter((m) => m.remoteAddr === me).sort((a, b) => a.seq - b.seq);
  t.same(mine.map((m) => m.ev), ['react', 'preWrite', 'react', 'preWrite', 'react', 'preWrite'], 'react → preWrite for each request');
});

t.test('a preWrite that writes to its own connection runs once per batch, and its bytes go out with the batch', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PREWRITE, { handlerOptions: { mode: 'trailer' } });
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const me = localAddrOf(socket);
  const reader = readerOf(socket);
  const count = (ev) => messages.filter((m) => m.ev === ev && m.remoteAddr === me).length;
  for (const [i, word] of ['one', 'two'].entries()) {
    socket.write(word);
    t.equal((await reader.readExactly(8, 5000)).toString(), `ack:${word};`, `the reply to ${word} and the trailer preWrite added`);
    await messages.waitFor(() => count('preWrite') > i, 5000, `preWrite for ${word}`);
  }
  // Its own write does not call preWrite again in the same pass (that would never end).
  await new Promise((r) => setTimeout(r, 200));
  t.equal(count('preWrite'), 2, 'one preWrite per batch');
  t.equal(reader.length, 0, 'nothing more was written');
});
