// examples/proxy, run as a user runs it (a child process), in front of node:net backends on
// loopback: byte-exact transfers both ways, many pairs at once, half-close in both directions,
// backends that refuse or reset, slow readers on either side, and the balancing policies.
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { startExample } from './helpers/example.mjs';
import { peerServer } from './helpers/peers.mjs';
import { sleep, withTimeout } from './helpers/net.mjs';

const echo = (s) => s.pipe(s);

/** A node:net client with allowHalfOpen (so EOFs can be checked one direction at a time). */
async function dial(t, port) {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => {});
  t.teardown(() => s.destroy());
  await withTimeout(new Promise((r, j) => s.once('connect', r).once('error', j)), 5000, 'connect to the proxy');
  return s;
}

/** Collects a socket's bytes until its EOF (or close); resolves with them. */
function collect(s) {
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  return new Promise((resolve) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function proxyTo(t, backends, extra = []) {
  return startExample(t, 'proxy', [...backends.flatMap((b) => ['--backend', b]), '--loops', '2', ...extra]);
}

t.test('bytes arrive exactly, 1 B to 64 MiB, both ways through the proxy', { timeout: 180000 }, async (t) => {
  const back = await peerServer(t, echo);
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  for (const n of [1, 1000, 65543, (1 << 20) + 3, 64 << 20]) {
    const s = await dial(t, port);
    const data = pattern(n, n);
    const got = collect(s);
    s.end(data);
    const b = await withTimeout(got, 120000, `echo of ${n} bytes`);
    t.equal(b.byteLength, n, `${n} bytes back`);
    t.equal(sha(b), sha(data), `${n} bytes byte-exact`);
  }
});

t.test('1,000 concurrent pairs each get their own bytes back', { timeout: 120000 }, async (t) => {
  const back = await peerServer(t, echo);
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  const clients = await Promise.all(Array.from({ length: 1000 }, () => dial(t, port)));
  const results = await Promise.all(
    clients.map((s, i) => {
      const got = collect(s);
      s.end(`client ${i} ${'x'.repeat(i % 97)}`);
      return got;
    }),
  );
  const wrong = results.filter((b, i) => b.toString() !== `client ${i} ${'x'.repeat(i % 97)}`).length;
  t.equal(wrong, 0, 'no bytes lost or crossed between pairs');
  t.equal(back.sockets.length, 1000, 'one backend connection per client');
});

t.test("the client's half-close reaches the backend, which can still answer", { timeout: 30000 }, async (t) => {
  const back = await peerServer(t, (s) => {
    const got = [];
    s.on('data', (d) => got.push(d));
    s.on('end', () => s.end(`backend read ${Buffer.concat(got).length} bytes`));
  });
  back.server.on('connection', () => {});
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  const s = await dial(t, port);
  const got = collect(s);
  s.end('twelve bytes');
  t.equal((await withTimeout(got, 10000, 'answer after EOF')).toString(), 'backend read 12 bytes');
});

t.test("the backend's half-close reaches the client, which can still send", { timeout: 30000 }, async (t) => {
  let backendGot;
  const done = new Promise((r) => (backendGot = r));
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const got = [];
    s.on('data', (d) => got.push(d));
    s.on('end', () => {
      backendGot(Buffer.concat(got).toString());
      s.end();
    });
    s.end('bye first');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${server.address().port}`]);
  const s = await dial(t, port);
  const got = collect(s);
  t.equal((await withTimeout(got, 10000, 'backend EOF')).toString(), 'bye first', 'EOF after the bytes');
  s.end('still sending');
  t.equal(await withTimeout(done, 10000, 'backend read'), 'still sending', 'the other direction kept working');
});

t.test('a refusing backend is skipped; when every backend refuses, the client is closed', { timeout: 30000 }, async (t) => {
  const back = await peerServer(t, echo);
  const dead = await peerServer(t);
  const deadPort = dead.port;
  await new Promise((r) => dead.server.close(r));
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${deadPort}`, `tcp://127.0.0.1:${back.port}`]);
  for (let i = 0; i < 4; i++) {
    const s = await dial(t, port);
    const got = collect(s);
    s.end(`n${i}`);
    t.equal((await withTimeout(got, 10000, 'echo')).toString(), `n${i}`, `client ${i} served by the live backend`);
  }
  const only = await proxyTo(t, [`tcp://127.0.0.1:${deadPort}`]);
  const s = await dial(t, only.port);
  const got = collect(s);
  s.write('anyone?');
  t.equal((await withTimeout(got, 10000, 'close')).length, 0, 'closed with nothing sent back');
});

t.test('a backend reset mid-stream closes the client', { timeout: 30000 }, async (t) => {
  const back = await peerServer(t, (s) => s.once('data', () => s.resetAndDestroy()));
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  const s = await dial(t, port);
  const closed = new Promise((r) => s.once('end', r).once('close', r));
  s.write('trigger');
  await withTimeout(closed, 10000, 'client closed after the backend reset');
  t.pass('the client connection ended');
});

/** RSS of a process in bytes (Linux /proc). */
function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

t.test('a client that does not read holds the backend back: memory stays bounded', { timeout: 60000 }, async (t) => {
  let sent = 0;
  const back = await peerServer(t, (s) => {
    const chunk = Buffer.alloc(1 << 16, 3);
    const pump = () => {
      while (sent < (512 << 20) && s.write(chunk)) sent += chunk.length;
    };
    s.on('drain', pump);
    pump();
  });
  const { port, child } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  const before = rss(child.pid);
  const s = await dial(t, port);
  s.pause(); // never reads
  await sleep(2000);
  const grew = rss(child.pid) - before;
  t.ok(sent < 64 << 20, `the backend could send only ${(sent / 1048576).toFixed(1)} MiB, not 512`);
  t.ok(grew < 48 << 20, `the proxy grew by ${(grew / 1048576).toFixed(1)} MiB`);
});

t.test('a backend that does not read holds the client back: memory stays bounded', { timeout: 60000 }, async (t) => {
  const back = await peerServer(t, (s) => s.pause());
  const { port, child } = await proxyTo(t, [`tcp://127.0.0.1:${back.port}`]);
  const before = rss(child.pid);
  const s = await dial(t, port);
  let sent = 0;
  const chunk = Buffer.alloc(1 << 16, 4);
  const pump = () => {
    while (sent < (512 << 20) && s.write(chunk)) sent += chunk.length;
  };
  s.on('drain', pump);
  pump();
  await sleep(2000);
  const grew = rss(child.pid) - before;
  t.ok(sent < 64 << 20, `the client could send only ${(sent / 1048576).toFixed(1)} MiB`);
  t.ok(grew < 48 << 20, `the proxy grew by ${(grew / 1048576).toFixed(1)} MiB`);
});

t.test('round-robin spreads clients evenly; least-connections favours the idle backend', { timeout: 60000 }, async (t) => {
  const a = await peerServer(t, echo);
  const b = await peerServer(t, echo);
  const rr = await startExample(t, 'proxy', ['--backend', `tcp://127.0.0.1:${a.port}`, '--backend', `tcp://127.0.0.1:${b.port}`, '--loops', '1']);
  const held = [];
  for (let i = 0; i < 4; i++) {
    const s = await dial(t, rr.port);
    const got = new Promise((r) => s.once('data', r));
    s.write('x');
    await withTimeout(got, 5000, 'echo');
    held.push(s);
  }
  t.equal(a.sockets.length, 2, 'two on the first');
  t.equal(b.sockets.length, 2, 'two on the second');
  const c = await peerServer(t, echo);
  const d = await peerServer(t, echo);
  const lc = await startExample(t, 'proxy', [
    '--backend', `tcp://127.0.0.1:${c.port}`, '--backend', `tcp://127.0.0.1:${d.port}`, '--balance', 'least-connections', '--loops', '1',
  ]);
  const first = await dial(t, lc.port); // on c, held open
  first.write('x');
  await withTimeout(new Promise((r) => first.once('data', r)), 5000, 'echo');
  for (let i = 0; i < 3; i++) {
    const s = await dial(t, lc.port);
    const got = collect(s);
    s.end('y');
    await withTimeout(got, 5000, 'echo');
    await sleep(50);
  }
  t.equal(c.sockets.length, 1, 'the busy backend got no more');
  t.equal(d.sockets.length, 3, 'the idle one took the short connections');
});

t.test('the example refuses to start without a backend or with a bad one', { timeout: 30000 }, async (t) => {
  const { runExample } = await import('./helpers/example.mjs');
  const none = await runExample('proxy', ['--addr', 'tcp://127.0.0.1:0']);
  t.not(none.code, 0);
  t.match(none.output, /at least one --backend/);
  const bad = await runExample('proxy', ['--addr', 'tcp://127.0.0.1:0', '--backend', 'http://x']);
  t.not(bad.code, 0);
});

t.test("a backend's reply and EOF wait in the kernel while the client does not read; none of it is lost", { timeout: 120000 }, async (t) => {
  // The client ends first, so the proxy has already shut the backend side for writing; the
  // backend then answers and ends. While the client is not reading, the proxy stops reading the
  // backend: its last bytes and its FIN wait in the proxy's receive queue, a hung-up socket with
  // bytes still unread. They must all reach the client once it reads again.
  const replies = new Map();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    const got = [];
    s.on('data', (d) => got.push(d));
    s.on('end', () => {
      const n = Number(Buffer.concat(got).toString());
      const body = pattern(n, n);
      replies.set(n, sha(body));
      s.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const { port } = await proxyTo(t, [`tcp://127.0.0.1:${server.address().port}`]);
  for (const mib of [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24]) {
    const n = mib << 20;
    const s = await dial(t, port);
    s.pause();
    s.end(String(n));
    await sleep(300); // the client reads nothing meanwhile
    const got = collect(s);
    s.resume();
    const b = await withTimeout(got, 60000, `reply of ${n} bytes`);
    t.equal(b.byteLength, n, `${n} bytes arrived`);
    t.equal(sha(b), replies.get(n), `${n} bytes byte-exact`);
  }
});
