// TLS listeners: handshakes and records in the native reactor (Node's own OpenSSL), plaintext to
// the handler through the same Conn and batches as TCP. Real clients: node:tls, curl and
// openssl s_client (skipped visibly when not installed); certificates made by the openssl CLI.
import t from 'tap';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { execFile, spawn } from 'node:child_process';
import { fixture, lib, portOf, start } from './helpers/engine.mjs';
import { tmpSocketPath, withTimeout } from './helpers/net.mjs';
import { dialTls, echoBack, hasOpenssl, makeCerts } from './helpers/tls.mjs';

if (!hasOpenssl()) {
  t.skip('the openssl CLI is not installed (apt-get install openssl): no certificates to test with');
  process.exit(0);
}

const certs = makeCerts(t);
const HANDLER = fixture('tls.mjs');
const serverTls = (extra = {}) => ({ cert: certs.server.cert, key: certs.server.key, ...extra });

const dial = (port, opts) => dialTls(certs, port, opts);
const echo = echoBack;

function closed(s) {
  return s.closed ? Promise.resolve() : new Promise((r) => s.once('close', r));
}

async function end(s) {
  s.end();
  await withTimeout(closed(s), 5000, 'client close');
}

t.test('a node:tls client completes the handshake and gets its bytes back', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const s = await dial(port);
  t.equal((await echo(s, Buffer.from('hello over tls'))).toString(), 'hello over tls');
  const opened = await messages.waitFor((m) => m.ev === 'opened');
  t.equal(opened.tls.protocol, 'TLSv1.3', 'TLS 1.3 negotiated');
  t.equal(opened.tls.cipher, s.getCipher().standardName, 'c.tls.cipher is the cipher the client sees');
  t.equal(opened.tls.servername, 'localhost', 'c.tls.servername is the SNI the client sent');
  t.equal(opened.tls.peerCN, null, 'no client certificate asked for');
  await end(s);
});

t.test('engine.addrs names tls:// addresses, plain and TLS listeners share one engine', async (t) => {
  const engine = await lib.serve(HANDLER, ['tcp://127.0.0.1:0', 'tls://127.0.0.1:0'], { numEventLoop: 2, tls: serverTls() });
  t.teardown(() => engine.stop());
  t.match(engine.addrs[0], /^tcp:\/\/127\.0\.0\.1:\d+$/);
  t.match(engine.addrs[1], /^tls:\/\/127\.0\.0\.1:\d+$/);
  const plain = net.connect({ host: '127.0.0.1', port: portOf(engine.addrs[0]) });
  await new Promise((r) => plain.once('connect', r));
  t.equal((await echo(plain, Buffer.from('plain'))).toString(), 'plain', 'the TCP listener stays plaintext');
  const s = await dial(portOf(engine.addrs[1]));
  t.equal((await echo(s, Buffer.from('secret'))).toString(), 'secret', 'the TLS listener speaks TLS');
  plain.destroy();
  await end(s);
  await closed(plain);
});

t.test('serve rejects a bad certificate or key with ERR_TLS_CONFIG and OpenSSL\'s reason', async (t) => {
  await t.rejects(lib.serve(HANDLER, 'tls://127.0.0.1:0', { tls: { cert: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n', key: certs.server.key } }), { code: 'ERR_TLS_CONFIG' });
  await t.rejects(lib.serve(HANDLER, 'tls://127.0.0.1:0', { tls: { cert: certs.server.cert, key: certs.other.key } }), { code: 'ERR_TLS_CONFIG', message: /does not match/ });
  await t.rejects(lib.serve(HANDLER, 'tls://127.0.0.1:0', {}), /tls/, 'a tls:// address without a tls option');
  await t.rejects(lib.serve(HANDLER, 'tls://127.0.0.1:0', { tls: { cert: '/nonexistent/cert.pem', key: certs.server.key } }), /cannot read/);
});

t.test('certificate and key may be given as file paths', async (t) => {
  const { port } = await start(t, HANDLER, { tls: { cert: certs.server.certPath, key: certs.server.keyPath } }, 'tls://127.0.0.1:0');
  const s = await dial(port);
  t.equal((await echo(s, Buffer.from('x'))).toString(), 'x');
  await end(s);
});

t.test('TLS 1.2 is the minimum: a TLS 1.1 client is refused, a TLS 1.2 one served', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  await t.rejects(dial(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), 'the TLS 1.1 handshake fails');
  const closedMsg = await messages.waitFor((m) => m.ev === 'closed');
  t.equal(closedMsg.code, 'ERR_TLS_HANDSHAKE', 'onClosed gets ERR_TLS_HANDSHAKE');
  t.match(closedMsg.message, /version|protocol/i, "with OpenSSL's reason");
  const s = await dial(port, { maxVersion: 'TLSv1.2' });
  t.equal(s.getProtocol(), 'TLSv1.2');
  t.equal((await echo(s, Buffer.from('v1.2'))).toString(), 'v1.2');
  await end(s);
});

t.test('ALPN picks our first protocol the client offers, and refuses a client offering none', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls({ alpn: ['h2', 'http/1.1'] }) }, 'tls://127.0.0.1:0');
  const both = await dial(port, { ALPNProtocols: ['http/1.1', 'h2'] });
  t.equal(both.alpnProtocol, 'h2', 'our preference wins');
  const h1 = await dial(port, { ALPNProtocols: ['http/1.1'] });
  t.equal(h1.alpnProtocol, 'http/1.1');
  const opened = await messages.waitForCount((m) => m.ev === 'opened', 2);
  t.same(opened.map((m) => m.tls.alpnProtocol).sort(), ['h2', 'http/1.1'], 'c.tls.alpnProtocol');
  await t.rejects(dial(port, { ALPNProtocols: ['spdy/1'] }), 'no protocol in common: the handshake fails');
  await end(both);
  await end(h1);
});

t.test('SNI picks between two certificates', async (t) => {
  const { port, messages } = await start(
    t,
    HANDLER,
    { tls: serverTls({ sni: { 'other.test': { cert: certs.other.cert, key: certs.other.key } } }) },
    'tls://127.0.0.1:0',
  );
  const a = await dial(port, { servername: 'other.test' });
  t.equal(a.getPeerCertificate().subject.CN, 'other.test', 'the other.test certificate for other.test');
  const b = await dial(port, { servername: 'localhost' });
  t.equal(b.getPeerCertificate().subject.CN, 'localhost', 'the default certificate otherwise');
  const opened = await messages.waitForCount((m) => m.ev === 'opened', 2);
  t.same(opened.map((m) => m.tls.servername).sort(), ['localhost', 'other.test']);
  await end(a);
  await end(b);
});

t.test('client certificates: accepted when signed by the CA, refused when missing or from another CA', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls({ requestCert: true, ca: certs.ca }) }, 'tls://127.0.0.1:0');
  const good = await dial(port, { cert: certs.client.cert, key: certs.client.key });
  t.equal((await echo(good, Buffer.from('authorized'))).toString(), 'authorized');
  const opened = await messages.waitFor((m) => m.ev === 'opened');
  t.equal(opened.tls.authorized, true, 'c.tls.authorized');
  t.equal(opened.tls.peerCN, 'client', 'c.tls.peerCertificate.subject');
  const fp = new crypto.X509Certificate(certs.client.cert).fingerprint256;
  t.equal(opened.tls.peerFingerprint, fp, 'fingerprint256 as node:crypto computes it');
  await end(good);

  // TLS 1.3: the client learns of the refusal after its side of the handshake, on its first read.
  const refused = async (opts) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca, servername: 'localhost', ...opts });
    const err = await withTimeout(new Promise((resolve) => {
      s.once('error', resolve);
      s.once('close', () => resolve(null));
    }), 10000, 'refusal');
    s.destroy();
    return err;
  };
  await messages.waitFor((m) => m.ev === 'closed', 5000, "the good client's close");
  const before = 1;
  t.ok(await refused({}), 'no certificate: the client gets an error');
  t.ok(await refused({ cert: certs.stranger.cert, key: certs.stranger.key }), 'another CA: the client gets an error');
  const closes = await messages.waitForCount((m) => m.ev === 'closed', before + 2);
  for (const c of closes.slice(before)) t.equal(c.code, 'ERR_TLS_HANDSHAKE', `onClosed: ${c.message}`);
});

t.test('rejectUnauthorized false: a client with a certificate from another CA is served and told apart', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls({ requestCert: true, rejectUnauthorized: false, ca: certs.ca }) }, 'tls://127.0.0.1:0');
  const s = await dial(port, { cert: certs.stranger.cert, key: certs.stranger.key });
  t.equal((await echo(s, Buffer.from('stranger'))).toString(), 'stranger');
  const opened = await messages.waitFor((m) => m.ev === 'opened');
  t.equal(opened.tls.authorized, false);
  t.match(opened.tls.authorizationError, /certificate/);
  t.equal(opened.tls.peerCN, 'stranger');
  await end(s);
});

t.test('transfers from 1 B to 8 MiB come back byte-exact', async (t) => {
  const { port } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const s = await dial(port);
  for (const n of [1, 100, 16383, 16384, 16385, 65536 + 7, 1 << 20, 8 << 20]) {
    const data = crypto.randomBytes(n);
    const back = await echo(s, data);
    t.ok(back.equals(data), `${n} bytes`);
  }
  await end(s);
});

t.test('200 concurrent handshakes on two reactors all complete', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const clients = await Promise.all(Array.from({ length: 200 }, () => dial(port)));
  const backs = await Promise.all(clients.map((s, i) => echo(s, Buffer.from(`client ${i}`))));
  t.ok(backs.every((b, i) => b.toString() === `client ${i}`), 'each client got its own bytes');
  await messages.waitForCount((m) => m.ev === 'opened', 200, 10000);
  await Promise.all(clients.map(end));
});

t.test('a client that stalls mid-handshake is closed at the deadline, and others are served meanwhile', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls({ handshakeTimeout: 400 }) }, 'tls://127.0.0.1:0');
  const raw = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => raw.once('connect', r));
  raw.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // the start of a ClientHello, then nothing
  const t0 = Date.now();
  const s = await dial(port);
  t.equal((await echo(s, Buffer.from('meanwhile'))).toString(), 'meanwhile', 'another client is served');
  await withTimeout(closed(raw), 5000, 'the stalled client closed');
  const waited = Date.now() - t0;
  t.ok(waited >= 300, `closed after the deadline (${waited} ms)`);
  const c = await messages.waitFor((m) => m.ev === 'closed');
  t.equal(c.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
  await end(s);
});

t.test('plaintext and garbage sent to a TLS port are closed cleanly with ERR_TLS_HANDSHAKE', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  for (const junk of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', crypto.randomBytes(300)]) {
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    raw.on('data', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write(junk);
    await withTimeout(closed(raw), 5000, 'the server closes');
  }
  const closes = await messages.waitForCount((m) => m.ev === 'closed', 2);
  for (const c of closes) t.equal(c.code, 'ERR_TLS_HANDSHAKE', c.message);
  const s = await dial(port);
  t.equal((await echo(s, Buffer.from('still fine'))).toString(), 'still fine', 'the listener serves on');
  await end(s);
});

t.test('a handshake larger than maxHandshakeBytes is refused', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls({ maxHandshakeBytes: 1024 }) }, 'tls://127.0.0.1:0');
  const raw = net.connect({ host: '127.0.0.1', port });
  raw.on('error', () => {});
  await new Promise((r) => raw.once('connect', r));
  // A handshake record header announcing 16 KiB, then that many bytes: never a valid hello.
  raw.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(16384, 1)]));
  await withTimeout(closed(raw), 5000, 'the server closes');
  const c = await messages.waitFor((m) => m.ev === 'closed');
  t.equal(c.code, 'ERR_TLS_HANDSHAKE');
});

t.test('a client that resets mid-record does not disturb the others', async (t) => {
  const { port, messages } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const other = await dial(port);
  const raw = net.connect({ host: '127.0.0.1', port });
  raw.on('error', () => {});
  const s = await dial(port, { socket: raw });
  s.on('error', () => {});
  await echo(s, Buffer.from('first'));
  s.write(crypto.randomBytes(1 << 20)); // a megabyte in flight...
  raw.resetAndDestroy(); // ...and a reset under it (RST from the TCP socket beneath the TLS one)
  await withTimeout(closed(raw), 5000, 'reset');
  const c = await messages.waitFor((m) => m.ev === 'closed');
  t.ok(c.code === null || /ECONNRESET|EPIPE|ERR_TLS/.test(c.code), `onClosed: ${c.code}`);
  t.equal((await echo(other, Buffer.from('unaffected'))).toString(), 'unaffected');
  await end(other);
});

t.test('renegotiation is refused', async (t) => {
  const { port } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const s = await dial(port, { maxVersion: 'TLSv1.2' });
  await echo(s, Buffer.from('before'));
  const err = await withTimeout(
    new Promise((resolve) => {
      s.once('error', resolve);
      s.renegotiate({}, (e) => resolve(e ?? null));
    }),
    5000,
    'renegotiation',
  );
  t.ok(err, `the client's renegotiation fails: ${err?.message}`);
  s.destroy();
});

t.test('engine.stop() sends close_notify: the client sees a clean end', async (t) => {
  const engine = await lib.serve(HANDLER, 'tls://127.0.0.1:0', { numEventLoop: 1, tls: serverTls() });
  const s = await dial(portOf(engine.addrs[0]));
  await echo(s, Buffer.from('bye'));
  const ended = new Promise((r) => s.once('end', r));
  const errors = [];
  s.on('error', (e) => errors.push(e));
  await engine.stop();
  await withTimeout(ended, 5000, "the client's 'end'");
  t.same(errors, [], 'no error: the server closed with close_notify, not a bare FIN or a reset');
  s.destroy();
});

t.test('TLS over IPv6 and over a Unix socket', async (t) => {
  const sock = tmpSocketPath(t);
  const engine = await lib.serve(HANDLER, ['tls6://[::1]:0', { addr: `unix://${sock}`, tls: serverTls() }], { numEventLoop: 1, tls: serverTls() });
  t.teardown(() => engine.stop());
  const v6 = await dial(portOf(engine.addrs[0]), { host: '::1' });
  t.equal((await echo(v6, Buffer.from('six'))).toString(), 'six');
  const u = await withTimeout(
    new Promise((resolve, reject) => {
      const s = tls.connect({ path: sock, ca: certs.ca, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    }),
    10000,
    'unix TLS handshake',
  );
  t.equal((await echo(u, Buffer.from('unix'))).toString(), 'unix');
  await end(v6);
  await end(u);
});

t.test('reusePort mode serves TLS too', async (t) => {
  const { port } = await start(t, HANDLER, { tls: serverTls(), reusePort: true }, 'tls://127.0.0.1:0');
  const clients = await Promise.all(Array.from({ length: 8 }, () => dial(port)));
  for (const [i, s] of clients.entries()) t.equal((await echo(s, Buffer.from(`rp${i}`))).toString(), `rp${i}`);
  await Promise.all(clients.map(end));
});

/** Runs a command; resolves with { code, stdout, stderr } (never rejects on a non-zero exit). */
function runTool(cmd, args, input) {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 15000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) p.stdin.end(input);
  });
}

const hasCurl = await runTool('curl', ['--version']).then((r) => r.code === 0);

t.test('curl --cacert gets a page from the http example over TLS', { skip: !hasCurl && 'curl is not installed' }, async (t) => {
  const http = new URL('../dist/examples/http/handler.js', import.meta.url);
  const { port } = await start(t, http, { tls: serverTls({ alpn: ['http/1.1'] }) }, 'tls://127.0.0.1:0');
  const r = await runTool('curl', ['-sS', '--cacert', certs.caPath, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'Hello World!');
});

t.test('openssl s_client completes a handshake and gets its line back', async (t) => {
  const { port } = await start(t, HANDLER, { tls: serverTls() }, 'tls://127.0.0.1:0');
  const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', certs.caPath, '-verify_return_error', '-ign_eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => p.kill());
  let out = '';
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const got = new Promise((resolve) => {
    let sentAt = -1;
    p.stdout.on('data', (d) => {
      out += d;
      // Send once the handshake is done (s_client prints the verify result), then wait for the echo.
      if (sentAt < 0 && /Verify return code: 0/.test(out)) {
        sentAt = out.length;
        p.stdin.write('ping from s_client\n');
      }
      if (sentAt >= 0 && out.slice(sentAt).includes('ping from s_client')) resolve(true);
    });
    p.once('exit', () => resolve(false));
  });
  t.ok(await withTimeout(got, 10000, 's_client echo'), `s_client got its line back (stderr: ${err.slice(0, 200)})`);
  t.match(out, /Verify return code: 0 \(ok\)/, 'the chain verified against the CA');
  t.match(out, /TLSv1\.3/, 'TLS 1.3');
});

/** Starts `npm run example`'s runner with `args`; resolves with its first address once it prints `listening`. */
function startExample(t, args) {
  const p = spawn(process.execPath, [new URL('../dist/examples/run.js', import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => (p.exitCode === null ? new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); }) : undefined));
  let out = '';
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  return withTimeout(new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)/m.exec(out);
      if (m) resolve(m[1]);
    });
    p.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${err}`)));
  }), 15000, 'the example listening');
}

const hasRedisCli = await runTool('redis-cli', ['--version']).then((r) => r.code === 0);

t.test('npm run example -- http --tls: a throwaway certificate, curl -k gets the page', { skip: !hasCurl && 'curl is not installed' }, async (t) => {
  const addr = await startExample(t, ['http', '--tls', '--loops', '1', '--addr', 'tls://127.0.0.1:0']);
  t.match(addr, /^tls:\/\//);
  const r = await runTool('curl', ['-sSk', `https://127.0.0.1:${portOf(addr)}/`]);
  t.equal(r.stdout, 'Hello World!', r.stderr);
});

t.test('npm run example -- redis --tls-cert/--tls-key: redis-cli --tls talks to it', { skip: !hasRedisCli && 'redis-cli is not installed' }, async (t) => {
  const addr = await startExample(t, ['redis', '--tls-cert', certs.server.certPath, '--tls-key', certs.server.keyPath, '--addr', 'tls://127.0.0.1:0']);
  const port = String(portOf(addr));
  const cli = (...a) => runTool('redis-cli', ['-p', port, '--tls', '--cacert', certs.caPath, '--sni', 'localhost', ...a]);
  t.equal((await cli('SET', 'k', 'over tls')).stdout.trim(), 'OK');
  t.equal((await cli('GET', 'k')).stdout.trim(), 'over tls');
});

t.test('an example given only one of --tls-cert / --tls-key refuses to start', async (t) => {
  await t.rejects(startExample(t, ['echo', '--tls-cert', certs.server.certPath]), /go together/);
});
