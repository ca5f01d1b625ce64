// The redis example's pub/sub answers as redis-server does, byte for byte: the same script of
// commands on several connections goes to a real redis-server and to the example, and every
// connection's raw bytes (replies and pushed messages) are compared step by step. redis-server is
// the oracle for how many replies a step produces on each connection; the example must produce
// the same bytes. Also: redis-cli's own SUBSCRIBE against the example.
import t from 'tap';
import { spawn } from 'node:child_process';
import { start } from './helpers/engine.mjs';
import { RawClient, encode, has, replyEnd, startRedisServer } from './helpers/resp.mjs';
import { sleep, withTimeout } from './helpers/net.mjs';

const HANDLER = new URL('../dist/examples/redis/handler.js', import.meta.url);
const SKIP = has('redis-server') ? false : 'redis-server is not installed (apt-get install redis-server): nothing to compare with';

/** Complete replies buffered on `c` now (without consuming them). */
function buffered(c) {
  const all = c.reader.chunks.length ? Buffer.concat(c.reader.chunks) : Buffer.alloc(0);
  let n = 0;
  for (let at = 0; ; n++) {
    const end = replyEnd(all, at);
    if (end < 0) return n;
    at = end;
  }
}

/** Waits until `c` has received nothing new for `quiet` ms; returns its complete replies. */
async function settle(c, quiet = 40) {
  let last = -1;
  for (;;) {
    const len = c.reader.length;
    if (len === last) return c.replies(buffered(c));
    last = len;
    await sleep(quiet);
  }
}

/**
 * Runs `steps` ([connection index, ...args]) on `n` connections to each server; after each step
 * compares every connection's replies. Returns the mismatches.
 */
async function script(t, n, steps) {
  const redisPort = await startRedisServer(t);
  const { port } = await start(t, HANDLER, { numEventLoop: 1 });
  const redis = await Promise.all(Array.from({ length: n }, () => RawClient.open(redisPort)));
  const example = await Promise.all(Array.from({ length: n }, () => RawClient.open(port)));
  t.teardown(() => Promise.all([...redis, ...example].map((c) => c.close())));
  const mismatches = [];
  let compared = 0;
  for (const [who, ...args] of steps) {
    redis[who].socket.write(encode(...args));
    example[who].socket.write(encode(...args));
    for (let i = 0; i < n; i++) {
      const want = await settle(redis[i]);
      let got;
      try {
        got = await example[i].replies(want.length, 5000);
      } catch (e) {
        got = [Buffer.from(`(${e.message})`)];
      }
      compared += want.length;
      const a = Buffer.concat(want).toString('latin1');
      const b = Buffer.concat(got).toString('latin1');
      if (a !== b) mismatches.push({ step: `${who}: ${args.join(' ')}`, conn: i, redis: a, example: b });
    }
  }
  await sleep(50);
  for (let i = 0; i < n; i++) {
    const extra = buffered(example[i]);
    if (extra > 0) mismatches.push({ step: 'end', conn: i, example: `${extra} replies redis-server did not send` });
  }
  t.ok(compared >= steps.length, `${compared} replies and messages compared`);
  return mismatches;
}

t.test('SUBSCRIBE, UNSUBSCRIBE, PUBLISH and the subscribed context, byte for byte', { skip: SKIP, timeout: 60000 }, async (t) => {
  const m = await script(t, 3, [
    [0, 'UNSUBSCRIBE'], [0, 'UNSUBSCRIBE', 'x'], [0, 'SUBSCRIBE'], [0, 'PUBLISH', 'a'],
    [1, 'PUBLISH', 'news', 'nobody yet'],
    [0, 'SUBSCRIBE', 'news', 'sport', 'news'],
    [1, 'PUBLISH', 'news', 'hello'], [1, 'PUBLISH', 'sport', ''], [1, 'PUBLISH', 'weather', 'rain'],
    [0, 'PING'], [0, 'PING', 'x'], [0, 'PING', 'x', 'y'], [0, 'GET', 'k'], [0, 'GET'], [0, 'SET', 'k', 'v'],
    [0, 'FOO', 'bar'], [0, 'ECHO', 'x'],
    [2, 'SUBSCRIBE', 'news'],
    [1, 'PUBLISH', 'news', 'two listeners'],
    [0, 'UNSUBSCRIBE', 'sport'], [1, 'PUBLISH', 'sport', 'gone'],
    [0, 'UNSUBSCRIBE', 'news', 'never'], [1, 'PUBLISH', 'news', 'only conn 2'],
    [0, 'PING'], [0, 'SET', 'k', 'v'], [0, 'GET', 'k'],
    [2, 'UNSUBSCRIBE'], [1, 'PUBLISH', 'news', 'nobody'],
    [1, 'SUBSCRIBE', 'bin\x00ary', 'ünï'], [0, 'PUBLISH', 'bin\x00ary', 'b'], [0, 'PUBLISH', 'ünï', 'u'],
    [1, 'QUIT'],
  ]);
  t.same(m, [], 'every reply and every pushed message identical to redis-server\'s');
});

t.test('PSUBSCRIBE and PUNSUBSCRIBE with glob patterns, beside channel subscriptions, byte for byte', { skip: SKIP, timeout: 60000 }, async (t) => {
  const m = await script(t, 3, [
    [0, 'PUNSUBSCRIBE'], [0, 'PUNSUBSCRIBE', 'nope'], [0, 'PSUBSCRIBE'],
    [0, 'PSUBSCRIBE', 'h?llo'], [0, 'SUBSCRIBE', 'hello'],
    [1, 'PUBLISH', 'hello', 'both'], [1, 'PUBLISH', 'hallo', 'pattern only'], [1, 'PUBLISH', 'hllo', 'none'],
    [2, 'PSUBSCRIBE', 'news.*'], [1, 'PUBLISH', 'news.tech', 'n1'], [1, 'PUBLISH', 'news.', 'n2'], [1, 'PUBLISH', 'news', 'n3'],
    [2, 'PUNSUBSCRIBE', 'news.*'], [2, 'PSUBSCRIBE', 'n[aeiou]ws'], [1, 'PUBLISH', 'news', 'class'], [1, 'PUBLISH', 'nxws', 'miss'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', 'n[^a]ws'], [1, 'PUBLISH', 'naws', 'neg miss'], [1, 'PUBLISH', 'nbws', 'neg hit'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', 'r[z-a]nge'], [1, 'PUBLISH', 'rmnge', 'reversed range'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', 'lit\\*'], [1, 'PUBLISH', 'lit*', 'escaped'], [1, 'PUBLISH', 'litx', 'no'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', '*'], [1, 'PUBLISH', 'anything', 'star'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', 'a*b*c'], [1, 'PUBLISH', 'aXbYc', 'stars'], [1, 'PUBLISH', 'aXbY', 'no'],
    [2, 'PUNSUBSCRIBE'], [2, 'PSUBSCRIBE', 'open[ab'], [1, 'PUBLISH', 'opena', 'unterminated'], [1, 'PUBLISH', 'open[', 'u2'],
    [0, 'PUNSUBSCRIBE', 'h?llo'], [1, 'PUBLISH', 'hallo', 'gone'], [1, 'PUBLISH', 'hello', 'channel still'],
    [0, 'UNSUBSCRIBE'], [0, 'PING'],
  ]);
  t.same(m, [], 'every reply and every pushed message identical to redis-server\'s');
});

t.test('redis-cli subscribe receives what PUBLISH sends', { skip: has('redis-cli') ? false : 'redis-cli is not installed', timeout: 30000 }, async (t) => {
  const { port } = await start(t, HANDLER, { numEventLoop: 1 });
  const cli = spawn('redis-cli', ['-p', String(port), 'subscribe', 'news'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => cli.kill());
  let out = '';
  cli.stdout.on('data', (d) => (out += d));
  const waitFor = (s) => withTimeout((async () => { while (!out.includes(s)) await sleep(20); })(), 10000, `redis-cli output ${JSON.stringify(s)}`);
  await waitFor('news');
  const pub = await RawClient.open(port);
  t.teardown(() => pub.close());
  const [r] = await pub.pipeline([['PUBLISH', 'news', 'hello from ringloop']]);
  t.equal(r.toString(), ':1\r\n', 'one receiver');
  await waitFor('hello from ringloop');
  t.match(out, /subscribe\nnews\n1\n/, 'the subscribe confirmation as redis-cli prints it');
  t.match(out, /message\nnews\nhello from ringloop\n/, 'the message as redis-cli prints it');
});
