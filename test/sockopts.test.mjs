// Socket options reach every accepted connection; bad values fail fast.
import t from 'tap';
import net from 'node:net';
import { start, fixture, lib } from './helpers/engine.mjs';

const F = fixture('sockopts.mjs');

async function optionsOf(t, serveOpts) {
  for (const reusePort of [false, true]) {
    const { port, messages } = await start(t, F, { ...serveOpts, reusePort });
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    const m = await messages.waitFor((x) => x.ev === 'opened');
    s.destroy();
    if (!reusePort) var first = m.opts;
    else t.same(m.opts, first, 'reusePort mode applies the same options');
  }
  return first;
}

t.test('defaults: TCP_NODELAY on, keep-alive off', { timeout: 30000 }, async (t) => {
  const o = await optionsOf(t, {});
  t.equal(o.noDelay, true);
  t.equal(o.keepAliveIdle, 0);
});

t.test('tcpNoDelay false, keep-alive with idle, interval and count, buffer sizes', { timeout: 30000 }, async (t) => {
  const o = await optionsOf(t, {
    tcpNoDelay: false,
    tcpKeepAlive: { idle: 30_000, interval: 5_000, count: 4 },
    socketRecvBuffer: 65536,
    socketSendBuffer: 131072,
  });
  t.equal(o.noDelay, false);
  t.equal(o.keepAliveIdle, 30);
  t.equal(o.keepAliveInterval, 5);
  t.equal(o.keepAliveCount, 4);
  t.ok(o.recvBuf >= 65536, `SO_RCVBUF ${o.recvBuf}`);
  t.ok(o.sendBuf >= 131072, `SO_SNDBUF ${o.sendBuf}`);
});

t.test('tcpKeepAlive as a number sets the idle time (interval defaults to it)', { timeout: 30000 }, async (t) => {
  const o = await optionsOf(t, { tcpKeepAlive: 10_000 });
  t.equal(o.keepAliveIdle, 10);
  t.equal(o.keepAliveInterval, 10);
});

t.test('invalid option values are refused before anything is opened', async (t) => {
  const bad = [
    [{ tcpKeepAlive: -5 }, /tcpKeepAlive must be an integer/],
    [{ tcpKeepAlive: 'yes' }, /tcpKeepAlive must be false, a number/],
    [{ tcpKeepAlive: { idle: 1000, count: 500 } }, /tcpKeepAlive.count/],
    [{ socketRecvBuffer: 10 }, /socketRecvBuffer/],
    [{ socketSendBuffer: 1.5 }, /socketSendBuffer/],
    [{ backlog: 0 }, /backlog/],
    [{ tcpNoDelay: 'no' }, /tcpNoDelay must be a boolean/],
    [{ reuseAddr: 1 }, /reuseAddr must be a boolean/],
    [{ numEventLoop: 0 }, /numEventLoop/],
    [{ readBufferCap: 10 }, /readBufferCap/],
    [{ writeBufferHighWater: 1 << 30, writeBufferCap: 1 << 20 }, /writeBufferHighWater/],
    [{ idleTimeout: -1 }, /idleTimeout/],
  ];
  for (const [opts, re] of bad) await t.rejects(lib.serve(F, 'tcp://127.0.0.1:0', opts), re, JSON.stringify(opts));
});

t.test('backlog and reuseAddr are accepted', { timeout: 30000 }, async (t) => {
  const { engine } = await start(t, F, { backlog: 16, reuseAddr: false });
  t.equal(engine.addrs.length, 1);
});
