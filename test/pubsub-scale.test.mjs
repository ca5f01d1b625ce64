// Topics at scale and over TLS: 10,000 subscribers over 2 reactors (their client sockets in a
// child process, for the fd limit), and a TLS subscriber that gets the published bytes encrypted.
import t from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { fork } from 'node:child_process';
import { start, fixture, poll } from './helpers/engine.mjs';
import { withTimeout } from './helpers/net.mjs';
import { hasOpenssl, makeCerts } from './helpers/tls.mjs';

const PUBSUB = fixture('pubsub.mjs');

t.test('10,000 subscribers on 2 reactors each get every message, in order', { timeout: 180000 }, async (t) => {
  const { engine, port } = await start(t, PUBSUB, { numEventLoop: 2, maxConnections: 20000 });
  const N = 10000;
  const child = fork(new URL('./fixtures/pubsub-swarm.mjs', import.meta.url), [String(port), String(N), 'crowd'], { stdio: 'inherit' });
  t.teardown(() => child.kill());
  const next = () => withTimeout(new Promise((r) => child.once('message', r)), 120000, 'the swarm');
  const ready = await next();
  t.equal(ready.ready, N);
  t.equal(engine.subscribers('crowd'), N, 'the directory counts all of them');
  t.ok(engine.connectionsPerLoop().every((n) => n > 0), 'both reactors hold subscribers');
  const K = 20;
  for (let i = 0; i < K; i++) t.equal(engine.publish('crowd', `m S ${i}\n`), 'queued');
  child.send({ expect: K });
  const res = await next();
  t.same(res, { done: true, missing: 0, bad: 0, extra: 0 }, 'every subscriber got every message once, in order');
  t.ok(await poll(() => engine.subscribers('crowd') === 0, 30000), 'closing them empties the directory');
});

t.test('a TLS subscriber gets published messages encrypted, beside a plain one', { timeout: 30000, skip: !hasOpenssl() && 'no openssl CLI' }, async (t) => {
  const certs = makeCerts(t);
  const { engine } = await start(t, PUBSUB, { numEventLoop: 2, tls: { cert: certs.server.cert, key: certs.server.key } }, ['tcp://127.0.0.1:0', 'tls://127.0.0.1:0']);
  const [plainPort, tlsPort] = engine.addrs.map((a) => Number(a.split(':').pop()));
  const lines = (s) => {
    const got = [];
    let rest = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop();
      got.push(...parts);
    });
    return got;
  };
  const secure = await withTimeout(
    new Promise((res, rej) => {
      const s = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: certs.ca, servername: 'localhost' }, () => res(s));
      s.once('error', rej);
    }),
    10000,
    'TLS handshake',
  );
  const plain = await new Promise((res) => {
    const s = net.connect(plainPort, '127.0.0.1', () => res(s));
  });
  t.teardown(() => (secure.destroy(), plain.destroy()));
  const a = lines(secure);
  const b = lines(plain);
  secure.write('sub secret\n');
  plain.write('sub secret\n');
  t.ok(await poll(() => a.includes('+sub secret true') && b.includes('+sub secret true')));
  const big = 'z'.repeat(100_000);
  engine.publish('secret', 'over tls\n');
  engine.publish('secret', big + '\n');
  t.ok(await poll(() => a.includes(big) && b.includes(big), 10000), 'both got both messages');
  t.same(a.slice(1), ['over tls', big], 'the TLS subscriber decrypted exactly what was published');
  t.same(b.slice(1), ['over tls', big]);
});
