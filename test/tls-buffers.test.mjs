// OpenSSL's record buffers on the reactors: a busy TLS connection keeps them (no malloc and free
// per record), one idle for a whole sweep period (1 s) gives them back, counted in
// engine.stats().tlsBuffersReleased, and gets them again with its next record.
import t from 'tap';
import crypto from 'node:crypto';
import { fixture, start } from './helpers/engine.mjs';
import { sleep } from './helpers/net.mjs';
import { dialTls, echoBack, hasOpenssl, makeCerts } from './helpers/tls.mjs';

if (!hasOpenssl()) {
  t.skip('the openssl CLI is not installed (apt-get install openssl): no certificates to test with');
  process.exit(0);
}

const certs = makeCerts(t);
const HANDLER = fixture('tls.mjs');
const TLS = { tls: { cert: certs.server.cert, key: certs.server.key }, numEventLoop: 1 };

const dial = (port, opts) => dialTls(certs, port, opts);
const echo = echoBack;

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test('idle connections give their buffers back, a busy one keeps them, and both go on byte-exact', async (t) => {
  const { engine, port } = await start(t, HANDLER, TLS, 'tls://127.0.0.1:0');
  const idle = [await dial(port), await dial(port)];
  const busy = await dial(port);
  t.teardown(() => [...idle, busy].forEach((s) => s.destroy()));
  for (const s of [...idle, busy]) t.equal((await echo(s, Buffer.from('warm'))).toString(), 'warm');
  t.equal(engine.stats().tlsBuffersReleased, 0, 'nothing released while every connection is fresh');

  // The busy client talks every 150 ms through three sweep periods; the idle ones say nothing.
  const stopAt = Date.now() + 3200;
  let rounds = 0;
  let wrong = 0;
  while (Date.now() < stopAt) {
    const msg = Buffer.from(`tick ${rounds++}`);
    if (!(await echo(busy, msg)).equals(msg)) wrong++;
    await sleep(150);
  }
  t.equal(wrong, 0, `the busy connection's ${rounds} echoes came back intact`);
  t.equal(engine.stats().tlsBuffersReleased, 2, 'the two idle connections released theirs, once each; the busy one kept its');

  // After the release: records of every size still go both ways byte for byte.
  for (const size of [1, 16 * 1024, 1 << 20]) {
    const data = crypto.randomBytes(size);
    for (const s of idle) t.ok((await echo(s, data)).equals(data), `${size} B through a connection that released its buffers`);
  }
  t.ok((await echo(busy, Buffer.from('still here'))).equals(Buffer.from('still here')));
});

t.test('a connection that goes idle again releases again', async (t) => {
  const { engine, port } = await start(t, HANDLER, TLS, 'tls://127.0.0.1:0');
  const s = await dial(port);
  t.teardown(() => s.destroy());
  await echo(s, Buffer.from('one'));
  await until(() => engine.stats().tlsBuffersReleased === 1, 5000, 'the first release');
  t.equal((await echo(s, Buffer.from('two'))).toString(), 'two', 'served after the release');
  await until(() => engine.stats().tlsBuffersReleased === 2, 5000, 'the second release');
  t.equal((await echo(s, Buffer.from('three'))).toString(), 'three');
});
