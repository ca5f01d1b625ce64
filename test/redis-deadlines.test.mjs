// The redis example defends itself: a command must arrive whole within --command-timeout of its
// first byte, and a client silent for --timeout is closed (redis's `timeout`). The example runs as
// a user runs it (examples/run.ts in a child process, short deadlines given by its flags) and real
// slowloris clients dribble half-sent commands at it over loopback.
import t from 'tap';
import { connect, destroyAll, readerOf, sleep } from './helpers/net.mjs';
import { runExample, startExample } from './helpers/example.mjs';
import { RawClient, encode } from './helpers/resp.mjs';
import { slowloris, spread } from './helpers/slowloris.mjs';

/**
 * The reactor's timing wheel (lib/reactor/wheel.ts) does not yet honour a deadline moved earlier
 * on a connection it already holds: with an idle timeout on, every connection is held from its
 * open, so a command deadline shorter than the idle timeout fires only when the connection's old
 * bucket comes round (at the idle timeout, or one 12.8 s lap). The tests below that need an
 * earlier deadline check their closing time as todo until that is fixed: they run and report
 * the time they see, and the connections are still closed, by the idle timeout.
 */

/** Resolves with how long after `since` the server closed `socket` (EOF or reset). */
async function closedAfter(socket, since, ms = 15000) {
  await readerOf(socket).waitEnded(ms);
  return Date.now() - since;
}

t.test('100 slowloris clients dribbling half-sent commands are closed at the command timeout; an ordinary client keeps getting answers', { timeout: 60000 }, async (t) => {
  const { port } = await startExample(t, 'redis', ['--command-timeout', '1', '--timeout', '10']);
  const loris = await slowloris(port, { count: 100, prefix: '*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100000\r\n', filler: 'x', everyMs: 150 });
  t.teardown(loris.stop);
  const client = await RawClient.open(port);
  t.teardown(() => client.close());
  const started = Date.now();
  let answered = 0;
  const failures = [];
  const ordinary = (async () => {
    // Keeps asking over one connection, for longer than the command timeout.
    for (let i = 0; Date.now() - started < 2500; i++) {
      const replies = await client.pipeline([['SET', `k${i}`, `v${i}`], ['GET', `k${i}`], ['PING']]).catch((e) => [e.message]);
      const got = replies.map(String).join('');
      if (got === `+OK\r\n$${`v${i}`.length}\r\nv${i}\r\n+PONG\r\n`) answered++;
      else failures.push(got);
      await sleep(50);
    }
  })();
  await loris.allClosed(15000);
  await ordinary;
  const s = spread(loris.conns.map((c) => c.closedAt - c.firstByteAt));
  t.comment(`100 slowloris clients closed ${s.min}/${s.median}/${s.max} ms (min/median/max) after their first byte; each had sent ${Math.min(...loris.conns.map((c) => c.sent))}+ bytes`);
  t.ok(s.min >= 900, `none closed before the 1 s deadline (earliest ${s.min} ms)`);
  t.ok(s.max < 4000, `all closed near it (latest ${s.max} ms)`);
  t.ok(loris.conns.every((c) => c.sent >= 5), 'every one was still sending when it was closed');
  t.same(failures, [], 'the ordinary client got no error');
  t.ok(answered >= 10, `the ordinary client was answered throughout (${answered} rounds of SET, GET, PING in 2.5 s)`);
  t.notOk(client.reader.ended, 'and its connection, older than the command timeout, is still open');
});

t.test('a command stopped halfway is closed at the command timeout, well before the idle timeout', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'redis', ['--command-timeout', '1', '--timeout', '10']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write('*2\r\n$3\r\nGET\r\n$3\r\nke');
  const after = await closedAfter(socket, Date.now());
  t.ok(after >= 900 && after < 4000, `closed after ${after} ms (command timeout 1 s, idle timeout 10 s)`);
});

t.test('a pipeline whose commands each arrive in time is never cut off, however long it lasts', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'redis', ['--command-timeout', '1', '--timeout', '10']);
  const client = await RawClient.open(port);
  t.teardown(() => client.close());
  // Every 600 ms the rest of one command and the first half of the next: the connection always
  // holds an incomplete command, for 3.6 s in all, but none takes longer than 600 ms.
  const cmd = encode('INCR', 'n');
  const half = cmd.length >> 1;
  client.socket.write(cmd.subarray(0, half));
  for (let i = 0; i < 6; i++) {
    await sleep(600);
    client.socket.write(Buffer.concat([cmd.subarray(half), cmd.subarray(0, half)]));
  }
  await sleep(600);
  client.socket.write(cmd.subarray(half));
  const replies = await client.replies(7);
  t.same(replies.map(String), [1, 2, 3, 4, 5, 6, 7].map((n) => `:${n}\r\n`), 'all 7 commands answered');
  t.notOk(client.reader.ended, 'still open');
});

t.test('a client silent for --timeout is closed, one that keeps talking is not', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'redis', ['--timeout', '1.5']);
  const quiet = await RawClient.open(port);
  const chatty = await RawClient.open(port);
  t.teardown(() => Promise.all([quiet.close(), chatty.close()]));
  t.same((await quiet.pipeline([['PING']])).map(String), ['+PONG\r\n']);
  const since = Date.now();
  const pinging = (async () => {
    for (let i = 0; i < 8; i++) {
      await chatty.pipeline([['PING']]);
      await sleep(400);
    }
  })();
  const after = await closedAfter(quiet.socket, since);
  await pinging;
  t.ok(after >= 1400 && after < 4500, `the silent one closed ${after} ms after its last reply (timeout 1.5 s)`);
  t.notOk(chatty.reader.ended, 'the one pinging every 400 ms is open after 3.2 s');
});

t.test('0 turns both timeouts off', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'redis', ['--timeout', '0', '--command-timeout', '0']);
  const silent = await RawClient.open(port);
  const half = await RawClient.open(port);
  t.teardown(() => Promise.all([silent.close(), half.close()]));
  half.socket.write('*2\r\n$4\r\nECHO\r\n$5\r\nhel');
  await sleep(2500);
  t.same((await silent.pipeline([['PING']])).map(String), ['+PONG\r\n'], 'a client silent for 2.5 s is answered');
  half.socket.write('lo\r\n');
  t.same((await half.replies(1)).map(String), ['$5\r\nhello\r\n'], 'a command sent over 2.5 s is answered');
});

t.test('the flags are checked: a bad value exits with the usage', { timeout: 30000 }, async (t) => {
  const bad = await runExample('redis', ['--addr', 'tcp://127.0.0.1:0', '--command-timeout', 'x']);
  t.equal(bad.code, 2);
  t.match(bad.output, /--command-timeout needs a number of seconds/);
  t.match(bad.output, /--timeout: seconds a client may stay silent/, 'the usage lists the example\'s flags');
  const size = await runExample('redis', ['--addr', 'tcp://127.0.0.1:0', '--maxmemory', '12 parsecs']);
  t.equal(size.code, 2);
  t.match(size.output, /--maxmemory needs a size in bytes/);
});
