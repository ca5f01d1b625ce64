// Load balancing strategies: where the acceptor hands each new connection.
import t from 'tap';
import net from 'node:net';
import { start, fixture, lib, poll } from './helpers/engine.mjs';

const WHERE = fixture('where.mjs');

function connect(port, localAddress) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

// The native side hashes the client's IPv4 bytes with FNV-1a (no port).
function expectedLoop(ip, loops) {
  let h = 2166136261;
  for (const b of ip.split('.').map(Number)) h = Math.imul(h ^ b, 16777619) >>> 0;
  return (h & 0x7fffffff) % loops;
}

t.test('least-connections sends new connections to the reactor that lost its connections', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, WHERE, { loadBalancing: lib.LoadBalancing.LeastConnections });
  const socks = [];
  for (let i = 0; i < 4; i++) {
    socks.push(await connect(port));
    await messages.waitForCount((m) => m.ev === 'opened', i + 1);
  }
  const loops = messages.filter((m) => m.ev === 'opened').map((m) => m.loop);
  t.same([...loops].sort(), [0, 0, 1, 1], 'evenly spread to start with');
  for (let i = 0; i < 4; i++) if (loops[i] === 0) socks[i].destroy();
  t.ok(await poll(() => engine.connectionsPerLoop().join() === '0,2'), 'reactor 0 lost its two');
  for (let i = 0; i < 2; i++) {
    socks.push(await connect(port));
    await messages.waitForCount((m) => m.ev === 'opened', 5 + i);
  }
  t.same(messages.filter((m) => m.ev === 'opened').slice(4).map((m) => m.loop), [0, 0], 'both newcomers went to reactor 0');
  t.same(engine.connectionsPerLoop(), [2, 2]);
  for (const s of socks) s.destroy();
});

t.test('source-addr-hash keeps every connection of one client host on one reactor', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, WHERE, { loadBalancing: 'source-addr-hash' });
  const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
  const socks = [];
  for (const ip of ips) for (let i = 0; i < 3; i++) socks.push(await connect(port, ip));
  const opened = await messages.waitForCount((m) => m.ev === 'opened', ips.length * 3);
  for (const ip of ips) {
    const loops = new Set(opened.filter((m) => m.remote.startsWith(`${ip}:`)).map((m) => m.loop));
    t.same([...loops], [expectedLoop(ip, 2)], `${ip}: all on reactor ${expectedLoop(ip, 2)}`);
  }
  t.equal(new Set(opened.map((m) => m.loop)).size, 2, 'different hosts still use both reactors');
  for (const s of socks) s.destroy();
});

t.test('round-robin is the default and alternates', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, WHERE);
  const socks = [];
  for (let i = 0; i < 6; i++) {
    socks.push(await connect(port));
    await messages.waitForCount((m) => m.ev === 'opened', i + 1);
  }
  const loops = messages.filter((m) => m.ev === 'opened').map((m) => m.loop);
  t.ok(loops.every((l, i) => i === 0 || l !== loops[i - 1]), `alternates: ${loops.join(',')}`);
  for (const s of socks) s.destroy();
});

t.test('an unknown strategy is refused up front', async (t) => {
  await t.rejects(lib.serve(WHERE, 'tcp://127.0.0.1:0', { loadBalancing: 'random' }), /loadBalancing must be one of round-robin, least-connections, source-addr-hash/);
});
