// The HTTP/1.1 example (examples/http) served by ringloop with two reactors, driven by node:http,
// raw sockets and curl: keep-alive, pipelining, split requests, Content-Length and chunked bodies,
// errors that answer and close.
import t from 'tap';
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, destroyAll, readerOf, sleep, withTimeout } from './helpers/net.mjs';
import { start } from './helpers/engine.mjs';

const HANDLER = new URL('../dist/examples/http/handler.js', import.meta.url);
const KiB = 1024;

/** Parses as many complete responses as `buf` holds. `heads[i]` true: response i has no body (HEAD). */
function parseResponses(buf, heads = []) {
  const out = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) break;
    const lines = buf.subarray(off, end).toString('latin1').split('\r\n');
    const [version, code, ...reason] = lines[0].split(' ');
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(code);
    const len = heads[out.length] || status === 100 ? 0 : Number(headers['content-length'] ?? 0);
    if (end + 4 + len > buf.length) break;
    out.push({ version, status, reason: reason.join(' '), headers, body: buf.subarray(end + 4, end + 4 + len) });
    off = end + 4 + len;
  }
  return { responses: out, used: off };
}

/** Reads from `socket` until `n` responses are complete; resolves with them. */
async function readResponses(socket, n, heads = [], ms = 10000) {
  const reader = readerOf(socket);
  const deadline = Date.now() + ms;
  for (;;) {
    const all = reader.chunks.length ? Buffer.concat(reader.chunks) : Buffer.alloc(0);
    const { responses, used } = parseResponses(all, heads);
    if (responses.length >= n) {
      reader.take(used);
      return responses;
    }
    if (reader.ended || reader.closed) throw new Error(`connection ended after ${responses.length} of ${n} responses`);
    if (Date.now() > deadline) throw new Error(`timed out after ${responses.length} of ${n} responses`);
    await sleep(5);
  }
}

/**
 * Sends `data` on a fresh connection and resolves with everything received until the server
 * closed it. A reset counts as closed too: when the server closes with request bytes it never
 * read, the kernel sends RST instead of FIN (the server answers first; see the report on lingering
 * close).
 */
async function exchangeUntilClose(port, data, ms = 5000) {
  const socket = await connect(port);
  try {
    socket.write(data);
    const reader = readerOf(socket);
    const how = await reader.waitEnded(ms);
    if (how.error && how.error.code !== 'ECONNRESET') throw how.error;
    if (!how.error) await reader.waitClosed(ms);
    return reader.takeAll();
  } finally {
    await destroyAll([socket]);
  }
}

/** One node:http request; resolves with { status, headers, body }. */
function request(port, { method = 'GET', path = '/', headers = {}, body, agent, chunks } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts), socket: req.socket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (chunks) for (const c of chunks) req.write(c);
      else if (body !== undefined) req.write(body);
      req.end();
    }),
    10000,
    `${method} ${path}`,
  );
}

const GET = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';

t.test('GET / answers Hello World! with the right headers', async (t) => {
  const { port } = await start(t, HANDLER);
  const res = await request(port, { agent: false });
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'Hello World!');
  t.equal(res.headers['content-type'], 'text/plain');
  t.equal(res.headers['content-length'], '12');
  t.ok(!Number.isNaN(Date.parse(res.headers.date)), `Date header: ${res.headers.date}`);
  t.ok(Math.abs(Date.parse(res.headers.date) - Date.now()) < 3000, 'Date is current');
});

t.test('node:http keep-alive agent: many requests over few sockets', { timeout: 60000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  const sockets = new Set();
  const results = await Promise.all(
    Array.from({ length: 400 }, async (_, i) => {
      const res = i % 4 === 3
        ? await request(port, { agent, method: 'POST', path: '/echo', body: `body ${i}` })
        : await request(port, { agent });
      sockets.add(res.socket);
      return res.status === 200 && res.body.toString() === (i % 4 === 3 ? `body ${i}` : 'Hello World!');
    }),
  );
  t.equal(results.filter(Boolean).length, 400, '400 correct answers');
  t.ok(sockets.size <= 4, `${sockets.size} sockets used`);
});

t.test('pipelining: 16 requests in one write are answered in order', async (t) => {
  const { port } = await start(t, HANDLER);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const reqs = [];
  const expect = [];
  const heads = [];
  for (let i = 0; i < 16; i++) {
    switch (i % 5) {
      case 0:
        reqs.push(GET);
        expect.push([200, 'Hello World!']);
        break;
      case 1: {
        const body = `payload number ${i}`;
        reqs.push(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        expect.push([200, body]);
        break;
      }
      case 2:
        reqs.push(`GET /missing/${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
        expect.push([404, 'Not Found\n']);
        break;
      case 3:
        reqs.push(`POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n${String(i).padStart(2, '0')}\r\n0\r\n\r\n`);
        expect.push([200, `abc${String(i).padStart(2, '0')}`]);
        break;
      case 4:
        // HEAD answers carry no body, also for a 404: a body here would desync the pipeline.
        reqs.push(`HEAD ${i === 9 ? '/nowhere' : '/'} HTTP/1.1\r\nHost: t\r\n\r\n`);
        expect.push([i === 9 ? 404 : 200, '']);
        heads[i] = true;
        break;
    }
  }
  const reader = readerOf(socket);
  let dataEvents = 0;
  socket.on('data', () => dataEvents++);
  socket.write(reqs.join(''));
  const responses = await readResponses(socket, 16, heads);
  t.same(responses.map((r) => [r.status, r.body.toString()]), expect, '16 responses in request order');
  t.equal(responses[4].headers['content-length'], '12', 'HEAD has the GET Content-Length');
  t.comment(`the 16 responses arrived in ${dataEvents} read(s)`);
  // The connection is still usable.
  socket.write(GET);
  const [again] = await readResponses(socket, 1);
  t.equal(again.body.toString(), 'Hello World!', 'connection kept alive after the pipeline');
  t.equal(reader.length, 0, 'nothing extra sent');
});

t.test('100 connections over both reactors, each a pipeline split at random places', { timeout: 60000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const one = async (n) => {
    const socket = await connect(port);
    try {
      socket.setNoDelay(true);
      const bodies = Array.from({ length: 16 }, (_, i) => randomBytes(1 + ((n * 31 + i * 97) % 3000)));
      const wire = Buffer.concat(
        bodies.map((b, i) =>
          i % 2 === 0
            ? Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${b.length}\r\n\r\n`), b])
            : Buffer.concat([
                Buffer.from(`POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n`),
                b,
                Buffer.from('\r\n0\r\n\r\n'),
              ]),
        ),
      );
      const cuts = Array.from({ length: 5 }, () => Math.floor(Math.random() * wire.length)).sort((a, b) => a - b);
      let last = 0;
      for (const c of [...cuts, wire.length]) {
        socket.write(wire.subarray(last, c));
        last = c;
        await sleep(1);
      }
      const responses = await readResponses(socket, 16, [], 20000);
      return responses.every((r, i) => r.status === 200 && r.body.equals(bodies[i]));
    } finally {
      await destroyAll([socket]);
    }
  };
  const results = await Promise.all(Array.from({ length: 100 }, (_, n) => one(n).catch((e) => e.message)));
  t.same(results.filter((r) => r !== true), [], '100 x 16 echoes, each in order and intact');
});

t.test('a request split across writes, with delays, at awkward places', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.setNoDelay(true);
  const body = 'split body!';
  const text = `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  // Cut inside the method, the version, between CR and LF, inside a field name, in the body.
  const cuts = [2, 15, 19, 20, 27, 40, text.length - body.length - 1, text.length - 4];
  let last = 0;
  for (const c of [...cuts, text.length]) {
    socket.write(text.slice(last, c));
    last = c;
    await sleep(25);
  }
  const [res] = await readResponses(socket, 1);
  t.equal(res.status, 200);
  t.equal(res.body.toString(), body);
  t.equal(res.headers['content-type'], 'text/x-test', 'the Content-Type is echoed');
  // Then byte by byte.
  for (const ch of GET) {
    socket.write(ch);
    await sleep(2);
  }
  const [res2] = await readResponses(socket, 1);
  t.equal(res2.body.toString(), 'Hello World!', 'one byte per write');
});

t.test('POST /echo: 64 KiB bodies with Content-Length and chunked', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const body = randomBytes(64 * KiB);
  const a = await request(port, { method: 'POST', path: '/echo', body, headers: { 'content-length': body.length }, agent: false });
  t.equal(a.status, 200);
  t.ok(a.body.equals(body), 'Content-Length body echoed intact');
  t.equal(a.headers['content-type'], 'application/octet-stream');
  // No Content-Length: node:http sends chunked, one chunk per write.
  const chunks = [];
  for (let at = 0; at < body.length; at += 5000) chunks.push(body.subarray(at, at + 5000));
  const b = await request(port, { method: 'POST', path: '/echo', chunks, agent: false });
  t.equal(b.status, 200);
  t.ok(b.body.equals(body), 'chunked body echoed intact');
  t.equal(b.headers['content-length'], String(body.length), 'answered with a Content-Length');
  // Raw chunked with extensions and trailers.
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write('POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Checksum: 1\r\n\r\n');
  const [c] = await readResponses(socket, 1);
  t.equal(c.body.toString(), 'wikipedia', 'trailers accepted');
});

t.test('Expect: 100-continue gets an interim response', async (t) => {
  const { port } = await start(t, HANDLER);
  const res = await withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', agent: false, headers: { expect: '100-continue', 'content-length': 5 } });
      let continued = false;
      req.on('continue', () => {
        continued = true;
        req.end('12345');
      });
      req.on('response', (r) => {
        const parts = [];
        r.on('data', (d) => parts.push(d));
        r.on('end', () => resolve({ continued, status: r.statusCode, body: Buffer.concat(parts).toString() }));
      });
      req.on('error', reject);
    }),
    5000,
    'expect 100-continue',
  );
  t.same(res, { continued: true, status: 200, body: '12345' });
});

t.test('methods and paths: 404 and 405', async (t) => {
  const { port } = await start(t, HANDLER);
  const nf = await request(port, { path: '/nope', agent: false });
  t.equal(nf.status, 404);
  const r405 = await request(port, { method: 'DELETE', path: '/', agent: false });
  t.equal(r405.status, 405);
  t.equal(r405.headers.allow, 'GET, HEAD');
  const e405 = await request(port, { method: 'GET', path: '/echo', agent: false });
  t.equal(e405.status, 405);
  t.equal(e405.headers.allow, 'POST');
  const q = await request(port, { path: '/?x=1', agent: false });
  t.equal(q.body.toString(), 'Hello World!', 'a query string does not change the path');
});

t.test('Connection: close and HTTP/1.0 close after the response', async (t) => {
  const { port } = await start(t, HANDLER);
  const closed = await exchangeUntilClose(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' + GET);
  const { responses } = parseResponses(closed);
  t.equal(responses.length, 1, 'requests after Connection: close are not answered');
  t.equal(responses[0].headers.connection, 'close');
  const old = await exchangeUntilClose(port, 'GET / HTTP/1.0\r\n\r\n');
  t.match(old.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n[\s\S]*Hello World!$/, 'HTTP/1.0 closes');
  // HTTP/1.0 with keep-alive stays open.
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const two = await readResponses(socket, 2);
  t.same(two.map((r) => r.headers.connection), ['keep-alive', 'keep-alive']);
  await sleep(50);
  t.notOk(readerOf(socket).ended, 'still open');
});

t.test('malformed request: 400 and closed, after the answers before it', async (t) => {
  const { port } = await start(t, HANDLER);
  const got = await exchangeUntilClose(port, `${GET}GARBAGE\r\n\r\n${GET}`);
  const { responses, used } = parseResponses(got);
  t.same(responses.map((r) => r.status), [200, 400], 'the good request answered, then 400');
  t.equal(responses[1].headers.connection, 'close');
  t.equal(used, got.length, 'nothing after the 400');
  for (const bad of ['GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n', 'GET / HTTP/1.1\n\n', 'GET / HTTP/1.1\r\n\r\n', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n']) {
    const r = parseResponses(await exchangeUntilClose(port, bad)).responses;
    t.equal(r[0]?.status, 400, JSON.stringify(bad));
  }
});

t.test('a chunk extension outside RFC 9112\'s grammar: 400 and closed; a valid one is echoed', async (t) => {
  const { port } = await start(t, HANDLER);
  const post = 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n';
  const bad = parseResponses(await exchangeUntilClose(port, `${post}3;a b c\r\nabc\r\n0\r\n\r\n`)).responses;
  t.same(bad.map((r) => r.status), [400], '3;a b c');
  t.equal(bad[0]?.headers.connection, 'close');
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  socket.write(`${post}3 ; a = "x\\"y";b\r\nabc\r\n0\r\n\r\n`);
  const [good] = await readResponses(socket, 1);
  t.equal(good.status, 200);
  t.equal(good.body.toString(), 'abc', 'quoted value with a quoted-pair, and a bare name');
});

t.test('oversized header block: 431 and closed', async (t) => {
  const { port } = await start(t, HANDLER);
  // Complete but too large.
  const big = `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`;
  const r1 = parseResponses(await exchangeUntilClose(port, big)).responses;
  t.equal(r1[0]?.status, 431, 'complete block');
  // Never ending: the server does not wait for the end.
  const r2 = parseResponses(await exchangeUntilClose(port, `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(10000)}`)).responses;
  t.equal(r2[0]?.status, 431, 'unterminated block');
});

t.test('body over the limit: 413 and closed', async (t) => {
  const { port } = await start(t, HANDLER, { handlerOptions: { maxBodyBytes: 64 * KiB } });
  const r = parseResponses(await exchangeUntilClose(port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${64 * KiB + 1}\r\n\r\n`)).responses;
  t.equal(r[0]?.status, 413, 'declared Content-Length');
  const chunk = `8000\r\n${'z'.repeat(0x8000)}\r\n`;
  // The third chunk-size line goes over the limit: the 413 comes before its data is sent.
  const r2 = parseResponses(await exchangeUntilClose(port, `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(2)}8000\r\n`)).responses;
  t.equal(r2[0]?.status, 413, 'chunked');
  const ok = await request(port, { method: 'POST', path: '/echo', body: Buffer.alloc(64 * KiB, 1), agent: false });
  t.equal(ok.body.length, 64 * KiB, 'exactly the limit is fine');
});

t.test('a client still sending a body over the limit gets its 413, not a reset', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const socket = await connect(port);
  t.teardown(() => destroyAll([socket]));
  const reader = readerOf(socket);
  socket.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n');
  // Keep sending the body the server will never read: 4 MiB in 64 KiB writes.
  const piece = Buffer.alloc(64 * KiB, 120);
  for (let i = 0; i < 64 && !reader.error && !reader.ended; i++) {
    socket.write(piece);
    if (i % 8 === 7) await sleep(2);
  }
  const how = await reader.waitEnded(10000);
  t.equal(how.error, null, `no ECONNRESET/EPIPE (${how.error?.code ?? 'none'})`);
  const { responses } = parseResponses(reader.takeAll());
  t.equal(responses[0]?.status, 413, 'the 413 arrived');
  const started = Date.now();
  await reader.waitClosed(5000);
  t.ok(Date.now() - started < 3000, 'closed once the client went quiet');
});

t.test('default body limit is 1 MiB', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const body = randomBytes(1024 * KiB);
  const ok = await request(port, { method: 'POST', path: '/echo', body, agent: false });
  t.ok(ok.body.equals(body), '1 MiB echoed');
  const r = parseResponses(await exchangeUntilClose(port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${1024 * KiB + 1}\r\n\r\n`)).responses;
  t.equal(r[0]?.status, 413);
});

function hasCurl() {
  try {
    execFileSync('which', ['curl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { encoding: 'buffer', maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr: stderr.toString() }),
    );
  });
}

t.test('curl', { skip: hasCurl() ? false : 'curl is not installed (apt-get install curl)', timeout: 60000 }, async (t) => {
  const { port } = await start(t, HANDLER);
  const base = `http://127.0.0.1:${port}`;
  const get = await curl(['--http1.1', `${base}/`]);
  t.equal(get.code, 0, get.stderr);
  t.equal(get.stdout.toString(), 'Hello World!');
  // Two URLs in one invocation: the second reuses the connection.
  const reuse = await curl(['--http1.1', '-v', `${base}/`, `${base}/`]);
  t.equal(reuse.stdout.toString(), 'Hello World!Hello World!');
  t.match(reuse.stderr, /Re-using existing connection/, 'keep-alive: the connection is reused');
  const body = randomBytes(200 * KiB);
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/ringloop-http-'));
  const file = `${dir}/body.bin`;
  await import('node:fs/promises').then((fs) => fs.writeFile(file, body));
  t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })));
  const post = await curl(['--http1.1', '--data-binary', `@${file}`, '-H', 'Content-Type: application/x-test', `${base}/echo`]);
  t.ok(post.stdout.equals(body), 'curl POST (Content-Length, Expect: 100-continue) echoed');
  const chunked = await curl(['--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `${base}/echo`]);
  t.ok(chunked.stdout.equals(body), 'curl chunked POST echoed');
  const status = await curl(['--http1.1', '-o', '/dev/null', '-w', '%{http_code}', `${base}/nope`]);
  t.equal(status.stdout.toString(), '404');
  const huge = await curl(['--http1.1', '-o', '/dev/null', '-w', '%{http_code}', '-H', `X-Big: ${'b'.repeat(9000)}`, `${base}/`]);
  t.equal(huge.stdout.toString(), '431');
});
