// The gnet-style matrix: every transport {tcp, tcp6, udp, unix} x {1, 2 reactors} x every load
// balancer x {sync write, asyncWrite}, each verified end to end: several clients at once, each with
// its own random bytes, each getting back exactly its own. One engine per (reactors, balancer)
// listens on all eight (transport, write mode) addresses at once.
import t from 'tap';
import crypto from 'node:crypto';
import { start, fixture, lib, portOf } from './helpers/engine.mjs';
import { UdpClient } from './helpers/dgram.mjs';
import { connect, destroyAll, readExactly, tmpSocketPath } from './helpers/net.mjs';

const MATRIX = fixture('matrix.mjs');
const TRANSPORTS = ['tcp', 'tcp6', 'udp', 'unix'];
const MODES = ['sync', 'async'];
const BALANCERS = Object.values(lib.LoadBalancing);
const CLIENTS = 4;
// Stream payloads: one byte, a small message, and sizes that arrive in several reads.
const STREAM_SIZES = [1, 100, 64 << 10, 256 << 10];
// Datagram payloads, one byte to past an Ethernet MTU; all of a client's are in flight at once,
// and the four clients' together stay well inside the default 208 KiB socket receive buffers.
const DGRAM_SIZES = [1, 64, 512, 1400, 4000, 9000, 100];

function addressFor(transport, t) {
  switch (transport) {
    case 'tcp':
      return 'tcp://127.0.0.1:0';
    case 'tcp6':
      return 'tcp6://[::1]:0';
    case 'udp':
      return 'udp://127.0.0.1:0';
    case 'unix':
      return `unix://${tmpSocketPath(t)}`;
  }
}

/** net.connect options for a bound stream address. */
function streamTarget(addr) {
  if (addr.startsWith('unix://')) return { path: addr.slice('unix://'.length) };
  return { host: addr.startsWith('tcp6://') ? '::1' : '127.0.0.1', port: portOf(addr) };
}

/** One stream client: sends its payloads one after another and expects them all back, in order. */
async function streamRoundTrip(target) {
  const socket = await connect(target);
  try {
    const payloads = STREAM_SIZES.map((n) => crypto.randomBytes(n));
    for (const p of payloads) socket.write(p);
    const want = Buffer.concat(payloads);
    const got = await readExactly(socket, want.length, 15000);
    if (got.equals(want)) return { ok: true, bytes: want.length };
    let at = 0;
    while (got[at] === want[at]) at++;
    return { ok: false, bytes: want.length, firstDifferenceAt: at };
  } finally {
    await destroyAll([socket]);
  }
}

/** One UDP client: sends distinct random datagrams and expects each one back once, from the engine. */
async function dgramRoundTrip(t, port) {
  const c = await UdpClient.open(t, { recvBufferSize: 4 << 20 });
  const sent = DGRAM_SIZES.map((n) => crypto.randomBytes(n));
  for (const d of sent) await c.send(d, port);
  const got = await c.take(sent.length, 10000);
  const hex = (bufs) => bufs.map((b) => b.toString('hex')).sort();
  return {
    ok: JSON.stringify(hex(got.map((d) => d.data))) === JSON.stringify(hex(sent)),
    fromEngine: got.every((d) => d.from === `127.0.0.1:${port}`),
  };
}

for (const loops of [1, 2]) {
  for (const balancer of BALANCERS) {
    t.test(`${loops} reactor${loops > 1 ? 's' : ''}, ${balancer}`, { timeout: 60000 }, async (t) => {
      const combos = MODES.flatMap((mode) => TRANSPORTS.map((transport) => ({ mode, transport })));
      const { engine, messages } = await start(
        t,
        MATRIX,
        { numEventLoop: loops, loadBalancing: balancer, handlerOptions: { modes: combos.map((c) => c.mode) } },
        combos.map((c) => addressFor(c.transport, t)),
      );
      t.equal(engine.loops, loops);
      combos.forEach((c, i) => (c.addr = engine.addrs[i]));
      for (const { mode, transport, addr } of combos) {
        t.test(`${transport}, ${mode === 'sync' ? 'sync write' : 'asyncWrite'}`, { timeout: 30000 }, async (t) => {
          if (transport === 'udp') {
            const results = await Promise.all(Array.from({ length: CLIENTS }, () => dgramRoundTrip(t, portOf(addr))));
            t.same(results.map((r) => r.ok), Array(CLIENTS).fill(true), 'each client got exactly its own datagrams back');
            t.same(results.map((r) => r.fromEngine), Array(CLIENTS).fill(true), 'all from the engine\'s port');
          } else {
            const results = await Promise.all(Array.from({ length: CLIENTS }, () => streamRoundTrip(streamTarget(addr))));
            const total = STREAM_SIZES.reduce((a, b) => a + b, 0);
            t.same(results, Array(CLIENTS).fill({ ok: true, bytes: total }), 'each client got exactly its own bytes back');
          }
        });
      }
      await t.test('no asyncWrite was refused', async (t) => {
        t.same(messages.filter((m) => m.ev === 'refused'), []);
      });
    });
  }
}
