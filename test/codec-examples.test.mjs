// The http and redis examples answer the same whether the reactor frames their input (the
// handlers' own http1 / resp codecs) or they parse it all in JS (a listener served with
// `codec: false`): the same byte streams, cut into reads at seeded random places, must get the same
// replies byte for byte, across what the codecs leave to the JS parsers (chunked bodies, quoted
// inline commands) and the moves between the two within one connection.
import t from 'tap';
import { connect, readerOf, sleep } from './helpers/net.mjs';
import { start } from './helpers/engine.mjs';

const HTTP = new URL('../dist/examples/http/handler.js', import.meta.url);
const REDIS = new URL('../dist/examples/redis/handler.js', import.meta.url);

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends `data` in seeded random pieces with short pauses; resolves with all that came back until the server closed. */
async function exchange(port, data, seed) {
  const s = await connect(port);
  const r = readerOf(s);
  const rnd = prng(seed);
  for (let at = 0; at < data.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    s.write(data.subarray(at, at + n));
    at += n;
    if (rnd() < 0.3) await sleep(2);
  }
  // Every stream ends with what makes the server close (Connection: close, QUIT, an error).
  const out = await r.readToEnd(15000);
  s.destroy();
  return out;
}

const date = (b) => b.toString('latin1').replace(/Date: [^\r]*\r\n/g, 'Date: -\r\n');

t.test('http: framed natively or in JS, the same replies to the same split pipeline', async (t) => {
  const framed = await start(t, HTTP, { numEventLoop: 1 });
  const js = await start(t, HTTP, { numEventLoop: 1, codec: false });
  const reqs = [
    'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/x\r\nContent-Length: 11\r\n\r\nhello world',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
    '\r\nGET /missing?q=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
    'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    'POST /echo HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc',
    'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  ];
  for (let seed = 1; seed <= 6; seed++) {
    const stream = Buffer.from(reqs.join('') + (seed % 2 ? 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' : 'GET / HTTP/9.9\r\n\r\n'), 'latin1');
    const [a, b] = await Promise.all([exchange(framed.port, stream, seed), exchange(js.port, stream, seed)]);
    t.equal(date(a), date(b), `seed ${seed}: the same ${a.length} bytes`);
    t.ok(a.length > 500, `seed ${seed}: answered`);
  }
});

t.test('redis: framed natively or in JS, the same replies to the same split pipeline', async (t) => {
  const framed = await start(t, REDIS, { numEventLoop: 1 });
  const js = await start(t, REDIS, { numEventLoop: 1, codec: false });
  const bulk = (...a) => `*${a.length}\r\n${a.map((s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`).join('')}`;
  for (let seed = 1; seed <= 6; seed++) {
    const key = `k${seed}`;
    const cmds = [
      bulk('SET', key, 'v1'),
      'PING\r\n',
      `GET ${key}\r\n`,
      `SET ${key} "a b\\x41"\r\n`,
      bulk('GET', key),
      bulk('RPUSH', `l${seed}`, 'x', 'y', 'z'.repeat(200)),
      '*0\r\n',
      '\r\n',
      `   LRANGE   l${seed}   0   -1  \n`,
      bulk('INCR', `n${seed}`),
      bulk('MSET', `${key}a`, '1', `${key}b`, '\x00\r\n'),
      bulk('MGET', `${key}a`, `${key}b`, 'none'),
      seed % 2 ? `${bulk('ECHO', 'last')}QUIT\r\n` : '*2\r\n$3\r\nGET\r\n$x\r\n',
    ];
    const stream = Buffer.from(cmds.join(''), 'latin1');
    const [a, b] = await Promise.all([exchange(framed.port, stream, seed), exchange(js.port, stream, seed)]);
    t.equal(a.toString('latin1'), b.toString('latin1'), `seed ${seed}: the same ${a.length} bytes`);
    t.ok(a.length > 100, `seed ${seed}: answered`);
  }
});
