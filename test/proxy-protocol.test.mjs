// PROXY protocol v1/v2 on a listener (`proxyProtocol`), parsed natively before onOpened, and the
// header a dial sends (`proxyHeader`), checked against a ringloop listener and a real HAProxy.
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { sleep, withTimeout } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';
import tls from 'node:tls';
import { hasOpenssl, makeCerts } from './helpers/tls.mjs';

const PROXIED = fixture('proxied.mjs');
const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

async function listener(t, mode = true, extra = {}) {
  return start(t, PROXIED, {}, [{ addr: 'tcp://127.0.0.1:0', proxyProtocol: mode, ...extra }]);
}

async function raw(t, port) {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => {});
  t.teardown(() => s.destroy());
  await withTimeout(new Promise((r) => s.once('connect', r)), 5000, 'connect');
  return s;
}

function v2(cmd, fam, body) {
  const h = Buffer.alloc(16);
  SIG.copy(h);
  h[12] = 0x20 | cmd;
  h[13] = fam;
  h.writeUInt16BE(body.length, 14);
  return Buffer.concat([h, body]);
}

function v2tcp4(src, sport, dst, dport, tlvs = Buffer.alloc(0)) {
  const b = Buffer.alloc(12);
  src.split('.').forEach((x, i) => (b[i] = Number(x)));
  dst.split('.').forEach((x, i) => (b[4 + i] = Number(x)));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return v2(1, 0x11, Buffer.concat([b, tlvs]));
}

function tlv(type, value) {
  const v = Buffer.from(value);
  const h = Buffer.from([type, v.length >> 8, v.length & 0xff]);
  return Buffer.concat([h, v]);
}

const opened = (messages, n = 1) => messages.waitForCount((m) => m.ev === 'opened' && !m.dialed, n);
const closed = (messages, n = 1) => messages.waitForCount((m) => m.ev === 'closed' && !m.dialed, n, 8000);

t.test('v1 TCP4: the client address comes from the header, the bytes after it are intact', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t);
  const s = await raw(t, port);
  s.write('PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\nhello');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, '192.0.2.1:5555');
  t.equal(o.localAddr, '198.51.100.2:80');
  t.same(o.proxy, { version: 1, source: '192.0.2.1:5555', dest: '198.51.100.2:80', tlvs: [] });
  const [d] = await messages.waitForCount((m) => m.ev === 'data', 1);
  t.equal(d.text, 'hello', 'the first bytes after the header reach react');
});

t.test('v1 TCP6 and UNKNOWN', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t);
  const a = await raw(t, port);
  a.write('PROXY TCP6 2001:db8::1 2001:db8::2 1000 443\r\n');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, '[2001:db8::1]:1000');
  const b = await raw(t, port);
  b.write('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n');
  const [, u] = await opened(messages, 2);
  t.equal(u.remoteAddr, `127.0.0.1:${b.localPort}`, 'UNKNOWN: the socket peer stands');
});

t.test('v2 PROXY TCP4 with TLVs, sent one byte at a time', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t);
  const s = await raw(t, port);
  s.setNoDelay(true);
  const hdr = v2tcp4('203.0.113.9', 40000, '203.0.113.10', 8443, Buffer.concat([tlv(0x01, 'h2'), tlv(0x02, 'example.com')]));
  for (const byte of hdr) {
    s.write(Buffer.from([byte]));
    await sleep(2);
  }
  s.write('after');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, '203.0.113.9:40000');
  t.same(o.proxy.tlvs, [[1, 'h2'], [2, 'example.com']], 'TLVs in order');
  const [d] = await messages.waitForCount((m) => m.ev === 'data', 1);
  t.equal(d.text, 'after');
});

t.test('v2 LOCAL keeps the socket addresses', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t);
  const s = await raw(t, port);
  s.write(v2(0, 0x00, Buffer.alloc(0)));
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, `127.0.0.1:${s.localPort}`);
  t.equal(o.proxy.version, 2);
});

for (const [name, bytes, why] of [
  ['a wrong signature', Buffer.from('GET / HTTP/1.1\r\n\r\n'), /expected a PROXY/],
  ['a v1 header past 107 bytes', Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), /107/],
  ['a v1 header with a bad address', Buffer.from('PROXY TCP4 300.1.1.1 1.1.1.1 1 2\r\n'), /address/],
  ['a v1 header with a bad port', Buffer.from('PROXY TCP4 1.1.1.1 1.1.1.1 65536 2\r\n'), /port/],
  ['a v2 header longer than the cap', v2(1, 0x11, Buffer.alloc(5000)), /cap/],
  ['a v2 header with a bad version', Buffer.concat([SIG, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)]), /version/],
  ['a v2 TLV that overruns the header', v2tcp4('1.2.3.4', 1, '5.6.7.8', 2, Buffer.from([5, 0, 9, 1])), /TLV/],
]) {
  t.test(`${name} closes the connection with ERR_PROXY_HEADER, never opened`, { timeout: 30000 }, async (t) => {
    const { port, messages } = await listener(t);
    const s = await raw(t, port);
    const end = new Promise((r) => s.once('end', r).once('close', r));
    s.write(bytes);
    const [c] = await closed(messages);
    t.equal(c.code, 'ERR_PROXY_HEADER');
    t.match(c.message, why);
    t.equal(messages.filter((m) => m.ev === 'opened').length, 0, 'no onOpened');
    await withTimeout(end, 5000, 'the socket closed');
  });
}

t.test('a truncated header (the client closes mid-header) is refused', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t);
  const s = await raw(t, port);
  s.end(v2tcp4('1.2.3.4', 1, '5.6.7.8', 2).subarray(0, 20));
  const [c] = await closed(messages);
  t.equal(c.code, 'ERR_PROXY_HEADER');
  t.match(c.message, /closed before/);
});

t.test('no header within proxyHeaderTimeout: ERR_PROXY_HEADER_TIMEOUT', { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t, true, { proxyHeaderTimeout: 300 });
  const t0 = Date.now();
  const s = await raw(t, port);
  s.write('PROXY TCP4 1.2');
  const [c] = await closed(messages);
  t.equal(c.code, 'ERR_PROXY_HEADER_TIMEOUT');
  t.ok(Date.now() - t0 >= 250, 'after the deadline');
});

t.test("'optional': a connection without a header is served as is, bytes intact", { timeout: 30000 }, async (t) => {
  const { port, messages } = await listener(t, 'optional');
  const s = await raw(t, port);
  const got = [];
  s.on('data', (d) => got.push(d));
  s.setNoDelay(true);
  s.write('PRO'); // a prefix of 'PROXY ': taken while the reactor waits to see more
  await sleep(100);
  s.write('BE and more');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, `127.0.0.1:${s.localPort}`);
  t.equal(o.proxy, null);
  await messages.waitForCount((m) => m.ev === 'data', 1);
  await sleep(100);
  t.equal(Buffer.concat(got).toString(), 'PROBE and more', "the bytes taken for a possible header ('PRO') are delivered first");
  const h = await raw(t, port);
  h.write('PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n');
  const [, o2] = await opened(messages, 2);
  t.equal(o2.remoteAddr, '10.0.0.1:1', 'a header is still honoured');
});

t.test('a dial sends a PROXY header (v1 and v2 with TLVs) that a PROXY listener reads', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await listener(t);
  await engine.dial(`tcp://127.0.0.1:${port}`, { proxyHeader: { version: 1, source: '198.51.100.1:1111', dest: '198.51.100.2:2222' } });
  const [a] = await opened(messages);
  t.equal(a.remoteAddr, '198.51.100.1:1111');
  t.equal(a.proxy.version, 1);
  await engine.dial(`tcp://127.0.0.1:${port}`, {
    proxyHeader: { version: 2, source: '[2001:db8::7]:7', dest: '[2001:db8::8]:8', tlvs: [{ type: 0x05, value: 'id-42' }] },
  });
  const [, b] = await opened(messages, 2);
  t.equal(b.remoteAddr, '[2001:db8::7]:7');
  t.same(b.proxy.tlvs, [[5, 'id-42']]);
  await engine.dial(`tcp://127.0.0.1:${port}`, { proxyHeader: { version: 2 } });
  const [, , c] = await opened(messages, 3);
  t.equal(c.proxy.version, 2, 'LOCAL');
  t.match(c.remoteAddr, /^127\.0\.0\.1:\d+$/, 'LOCAL: the socket peer');
  await t.rejects(engine.dial(`tcp://127.0.0.1:${port}`, { proxyHeader: { version: 2, source: '1.2.3.4:1', dest: '[::1]:2' } }), /same family/);
});

t.test('on a TLS listener the PROXY header comes before the ClientHello', { timeout: 30000, skip: !hasOpenssl() && 'no openssl CLI' }, async (t) => {
  const certs = makeCerts(t);
  const { port, messages } = await start(t, PROXIED, { tls: { cert: certs.server.cert, key: certs.server.key } }, [
    { addr: 'tls://127.0.0.1:0', proxyProtocol: true },
  ]);
  const s = await raw(t, port);
  s.write('PROXY TCP4 192.0.2.50 192.0.2.51 4321 443\r\n');
  const secure = tls.connect({ socket: s, ca: certs.ca, servername: 'localhost' });
  secure.on('error', () => {});
  t.teardown(() => secure.destroy());
  await withTimeout(new Promise((r) => secure.once('secureConnect', r)), 5000, 'TLS handshake after the header');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, '192.0.2.50:4321');
  const echoed = new Promise((r) => secure.once('data', r));
  secure.write('secret');
  t.equal(String(await withTimeout(echoed, 5000, 'echo')), 'secret', 'plaintext after the handshake');
});

const HAPROXY = '/usr/sbin/haproxy';

t.test('a real HAProxy with send-proxy-v2 in front: the client address arrives', { timeout: 60000, skip: !fs.existsSync(HAPROXY) && 'no haproxy' }, async (t) => {
  const { port, messages } = await listener(t);
  const free = net.createServer();
  await new Promise((r) => free.listen(0, '127.0.0.1', r));
  const front = free.address().port;
  await new Promise((r) => free.close(r));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-haproxy-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    cfg,
    [
      'global',
      '  nbthread 1',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend f',
      `  bind 127.0.0.1:${front}`,
      '  default_backend b',
      'backend b',
      `  server s1 127.0.0.1:${port} send-proxy-v2`,
      '',
    ].join('\n'),
  );
  const hp = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  hp.stdout.on('data', (d) => (out += d));
  hp.stderr.on('data', (d) => (out += d));
  t.teardown(() => hp.kill('SIGKILL'));
  let s;
  for (let i = 0; i < 100 && !s; i++) {
    s = await raw(t, front).catch(() => undefined);
    if (!s) await sleep(50);
  }
  t.ok(s, `connected through haproxy ${out}`);
  const got = new Promise((r) => s.once('data', r));
  s.write('through haproxy');
  const [o] = await opened(messages);
  t.equal(o.remoteAddr, `127.0.0.1:${s.localPort}`, "the client's own address and port, not HAProxy's");
  t.equal(o.localAddr, `127.0.0.1:${front}`, 'the address the client connected to');
  t.equal(o.proxy.version, 2);
  t.equal(String(await withTimeout(got, 5000, 'echo through haproxy')), 'through haproxy');
});
