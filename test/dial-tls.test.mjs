// TLS on dialed connections: the handshake runs in the native loop, the server's certificate is
// verified against the dial's CAs and name, and the connection opens once it is done.
import t from 'tap';
import tls from 'node:tls';
import { fixture, start } from './helpers/engine.mjs';
import { hasOpenssl, makeCerts } from './helpers/tls.mjs';
import { withTimeout } from './helpers/net.mjs';

const DIAL = fixture('dial.mjs');
const skip = !hasOpenssl() && 'no openssl CLI';

/** A node:tls server that answers "tls <bytes>" and records what it read. */
async function tlsServer(t, identity) {
  const got = [];
  const server = tls.createServer({ cert: identity.cert, key: identity.key }, (s) => {
    s.on('data', (d) => {
      got.push(d);
      s.write(`tls ${d}`);
    });
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return { port: server.address().port, got };
}

const dialedOpen = (messages) => messages.waitForCount((m) => m.ev === 'opened' && m.dialed, 1, 10000);
const dialedClosed = (messages) => messages.waitForCount((m) => m.ev === 'closed' && m.dialed, 1, 10000);

t.test('tls:// dials with the CA given: opened after the handshake, plaintext both ways', { timeout: 30000, skip }, async (t) => {
  const certs = makeCerts(t);
  const srv = await tlsServer(t, certs.server);
  const { engine, messages } = await start(t, DIAL);
  await engine.dial(`tls://localhost:${srv.port}`, { tls: { ca: certs.ca }, context: 'secure' });
  const [o] = await dialedOpen(messages);
  t.equal(o.context, 'secure');
  t.ok(o.tls && /^TLSv1\.[23]$/.test(o.tls.protocol), `negotiated ${o.tls?.protocol}`);
  t.equal(o.tls.authorized, true, 'the server certificate verified');
  const [d] = await messages.waitForCount((m) => m.ev === 'data', 1, 10000);
  t.equal(d.text, 'tls hello\n', 'what onOpened wrote was encrypted, and the answer decrypted');
  t.equal(Buffer.concat(srv.got).toString(), 'hello\n');
});

t.test('a server certificate that does not verify fails the dial with ERR_TLS_HANDSHAKE', { timeout: 30000, skip }, async (t) => {
  const certs = makeCerts(t);
  const srv = await tlsServer(t, certs.server);
  const { engine, messages } = await start(t, DIAL);
  await engine.dial(`tls://localhost:${srv.port}`, { context: 'roots only' }); // Node's roots do not know our CA
  const [c] = await dialedClosed(messages);
  t.equal(c.code, 'ERR_TLS_HANDSHAKE');
  t.match(c.message, /certificate verify failed|unable to get local issuer/i);
  t.equal(c.context, 'roots only', 'the dial context reaches onClosed');
  t.equal(messages.filter((m) => m.ev === 'opened' && m.dialed).length, 0, 'never opened');
});

t.test('the name is checked: a certificate for another name fails, unless verification is off', { timeout: 30000, skip }, async (t) => {
  const certs = makeCerts(t);
  const srv = await tlsServer(t, certs.other);
  const { engine, messages } = await start(t, DIAL);
  await engine.dial(`tls://127.0.0.1:${srv.port}`, { tls: { ca: certs.ca, servername: 'localhost' } });
  const [c] = await dialedClosed(messages);
  t.equal(c.code, 'ERR_TLS_HANDSHAKE');
  await engine.dial(`tcp://127.0.0.1:${srv.port}`, { tls: { rejectUnauthorized: false } });
  const [o] = await dialedOpen(messages);
  t.equal(o.tls.authorized, false, 'opened, and c.tls says it did not verify');
});

t.test('a malformed CA bundle is refused at the dial', { timeout: 30000, skip }, async (t) => {
  const { engine } = await start(t, DIAL);
  await t.rejects(withTimeout(engine.dial('tls://127.0.0.1:9', { tls: { ca: 'not a certificate' } }), 5000), /EBADMSG|PEM/);
});

t.test('a server that never answers the ClientHello: ERR_TLS_HANDSHAKE_TIMEOUT after the dial timeout', { timeout: 30000, skip }, async (t) => {
  const { peerServer } = await import('./helpers/peers.mjs');
  const mute = await peerServer(t);
  const { engine, messages } = await start(t, DIAL);
  const t0 = Date.now();
  await engine.dial(`tls://127.0.0.1:${mute.port}`, { timeout: 300, tls: { rejectUnauthorized: false } });
  const [c] = await dialedClosed(messages);
  t.equal(c.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
  t.match(c.message, /300 ms/);
  t.ok(Date.now() - t0 >= 250, 'after the deadline');
});
