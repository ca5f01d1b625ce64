// The http example defends itself: a request head must be complete within --header-timeout (from
// the connection's open, or from the first byte of a later request), a body within --body-timeout
// of its head, and a silent connection is closed after --idle-timeout. The example runs as a user
// runs it (examples/run.ts in a child process, with short deadlines given by its flags) and real
// slowloris clients dribble bytes at it over loopback.
import t from 'tap';
import { connect, destroyAll, readerOf, sleep } from './helpers/net.mjs';
import { runExample, startExample } from './helpers/example.mjs';
import { slowloris, spread } from './helpers/slowloris.mjs';

/**
 * The reactor's timing wheel (lib/reactor/wheel.ts) does not yet honour a deadline moved earlier
 * on a connection it already holds: with an idle timeout on, every connection is held from its
 * open, so a read deadline shorter than the idle timeout fires only when the connection's old
 * bucket comes round (at the idle timeout, or one 12.8 s lap). The tests below that need an
 * earlier deadline check their closing time as todo until that is fixed: they run and report
 * the time they see, and the connections are still closed, by the idle timeout.
 */

const GET = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';
const HELLO = /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nHello World!$/;

/** Sends a GET on `socket` and resolves with the response (the example's is 'Hello World!'). */
async function get(socket) {
  const reader = readerOf(socket);
  socket.write(GET);
  for (let i = 0; i < 1000; i++) {
    const all = reader.chunks.length ? Buffer.concat(reader.chunks).toString('latin1') : '';
    const end = all.indexOf('Hello World!');
    if (end >= 0) return reader.take(end + 12).toString('latin1');
    if (reader.ended || reader.closed) throw new Error(`closed before the response (${all.length} bytes)`);
    await sleep(10);
  }
  throw new Error('no response in 10 s');
}

/** Resolves with how long after `since` the server closed `socket` (EOF or reset). */
async function closedAfter(socket, since, ms = 15000) {
  await readerOf(socket).waitEnded(ms);
  return Date.now() - since;
}

/** Dribbles `text` on `socket`, one byte every `everyMs`, until it is closed. */
function dribble(socket, text, everyMs = 200) {
  let n = 0;
  const next = () => socket.writable && socket.write(text[n++ % text.length]);
  next();
  const timer = setInterval(next, everyMs);
  socket.once('close', () => clearInterval(timer));
  return () => clearInterval(timer);
}

t.test('100 slowloris connections dribbling request heads are closed at the header timeout; an ordinary client keeps getting answers', { timeout: 60000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--loops', '2', '--header-timeout', '1', '--idle-timeout', '10']);
  const loris = await slowloris(port, { count: 100, prefix: 'GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ', filler: 'a', everyMs: 150 });
  t.teardown(loris.stop);
  const client = await connect(port);
  t.teardown(() => destroyAll([client]));
  const started = Date.now();
  let answered = 0;
  const failures = [];
  const ordinary = (async () => {
    // Keeps asking over one keep-alive connection, for longer than the header timeout.
    while (Date.now() - started < 2500) {
      const res = await get(client).catch((e) => e.message);
      if (HELLO.test(res)) answered++;
      else failures.push(res);
      await sleep(50);
    }
  })();
  await loris.allClosed(15000);
  await ordinary;
  const after = loris.conns.map((c) => c.closedAt - c.connectedAt);
  const s = spread(after);
  t.comment(`100 slowloris connections closed ${s.min}/${s.median}/${s.max} ms (min/median/max) after connecting; each had sent ${Math.min(...loris.conns.map((c) => c.sent))}+ bytes`);
  t.ok(s.min >= 900, `none closed before the 1 s deadline (earliest ${s.min} ms)`);
  t.ok(s.max < 4000, `all closed near it (latest ${s.max} ms)`);
  t.ok(loris.conns.every((c) => c.sent >= 5), 'every one was still sending when it was closed');
  t.same(failures, [], 'the ordinary client got no error');
  t.ok(answered >= 10, `the ordinary client was answered throughout (${answered} responses in 2.5 s)`);
  t.notOk(readerOf(client).ended, 'and its keep-alive connection, older than the header timeout, is still open');
});

t.test('a connection that sends nothing is closed at the header timeout, counted from its open', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '1', '--idle-timeout', '10']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const after = await closedAfter(socket, Date.now());
  t.ok(after >= 900 && after < 4000, `closed after ${after} ms (header timeout 1 s, idle timeout 10 s)`);
});

t.test('on a keep-alive connection, the next head is timed from its first byte, not from the previous response', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '1', '--idle-timeout', '10']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  t.match(await get(socket), HELLO);
  await sleep(1500);
  t.notOk(readerOf(socket).ended, 'idle for longer than the header timeout after a response: still open');
  const first = Date.now();
  dribble(socket, 'GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  const after = await closedAfter(socket, first);
  t.ok(after >= 900 && after < 4000, `closed ${after} ms after the first byte of the dribbled head`);
});

t.test('pipelined requests, each split across reads, are never cut off: every completed request restarts the clock', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '1', '--idle-timeout', '10']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const reader = readerOf(socket);
  // Every 600 ms the rest of one request and the first half of the next: the connection always
  // holds an incomplete head, for 3.6 s in all, but no head takes longer than 600 ms.
  const half = GET.length >> 1;
  socket.write(GET.slice(0, half));
  for (let i = 0; i < 6; i++) {
    await sleep(600);
    socket.write(GET.slice(half) + GET.slice(0, half));
  }
  await sleep(600);
  socket.write(GET.slice(half));
  for (let i = 0; i < 100 && (reader.chunks.length ? Buffer.concat(reader.chunks).toString().split('Hello World!').length - 1 : 0) < 7; i++) await sleep(20);
  const got = Buffer.concat(reader.chunks).toString().split('Hello World!').length - 1;
  t.equal(got, 7, 'all 7 requests answered');
  t.notOk(reader.ended, 'still open');
});

t.test('a body dribbled after its head is closed at the body timeout', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '10', '--body-timeout', '1', '--idle-timeout', '10']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n');
  const head = Date.now();
  await sleep(100);
  dribble(socket, 'b');
  const after = await closedAfter(socket, head);
  t.ok(after >= 900 && after < 4000, `closed ${after} ms after the head (header timeout 10 s)`);
});

t.test('a keep-alive connection silent after its response is closed at the idle timeout', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '10', '--idle-timeout', '1.5']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  t.match(await get(socket), HELLO);
  const after = await closedAfter(socket, Date.now());
  t.ok(after >= 1400 && after < 4500, `closed ${after} ms after the response (idle timeout 1.5 s)`);
});

t.test('a keep-alive client asking every 500 ms outlives an idle timeout of 1 s', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--idle-timeout', '1']);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  for (let i = 0; i < 6; i++) {
    t.match(await get(socket), HELLO, `request ${i + 1}`);
    await sleep(500);
  }
  t.notOk(readerOf(socket).ended, 'open after 3 s');
});

t.test('0 turns a timeout off', { timeout: 30000 }, async (t) => {
  const { port } = await startExample(t, 'http', ['--header-timeout', '0', '--body-timeout', '0', '--idle-timeout', '0']);
  const silent = await connect(port);
  const slowHead = await connect(port);
  const slowBody = await connect(port);
  t.teardown(() => destroyAll([silent, slowHead, slowBody]));
  slowHead.write('GET / HTTP/1.1\r\n');
  slowBody.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n');
  await sleep(2500);
  t.match(await get(silent), HELLO, 'a connection silent for 2.5 s is answered');
  slowHead.write('Host: t\r\n\r\n');
  slowBody.write('ok');
  await sleep(300);
  t.match(Buffer.concat(readerOf(slowHead).chunks).toString(), /Hello World!$/, 'a head sent over 2.5 s is answered');
  t.match(Buffer.concat(readerOf(slowBody).chunks).toString(), /\r\n\r\nok$/, 'a body sent 2.5 s after its head is echoed');
});

t.test('the flags are checked: a bad value exits with the usage', { timeout: 30000 }, async (t) => {
  const bad = await runExample('http', ['--addr', 'tcp://127.0.0.1:0', '--header-timeout', 'soon']);
  t.equal(bad.code, 2);
  t.match(bad.output, /--header-timeout needs a number of seconds/);
  t.match(bad.output, /--idle-timeout: seconds a connection may stay silent/, 'the usage lists the example\'s flags');
  const negative = await runExample('http', ['--addr', 'tcp://127.0.0.1:0', '--idle-timeout', '-1']);
  t.equal(negative.code, 2);
  t.match(negative.output, /--idle-timeout needs a number of seconds/);
});
