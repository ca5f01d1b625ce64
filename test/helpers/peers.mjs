// Peers for outbound-connection tests: servers a reactor dials, all on loopback or temp Unix
// sockets, each closed in t.teardown.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once, withTimeout } from './net.mjs';

/**
 * A node:net server that records each connection's bytes; `onConn(socket)` may answer. Resolves
 * with `{ server, port, sockets, received(i) }`.
 */
export async function peerServer(t, onConn = () => {}, { host = '127.0.0.1', path } = {}) {
  const sockets = [];
  const data = [];
  const server = net.createServer((s) => {
    const i = sockets.length;
    sockets.push(s);
    data.push([]);
    s.on('data', (d) => data[i].push(d));
    s.on('error', () => {});
    onConn(s, i);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    if (path) server.listen(path, resolve);
    else server.listen(0, host, resolve);
  });
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  });
  return {
    server,
    port: path ? 0 : server.address().port,
    sockets,
    received: (i) => Buffer.concat(data[i] ?? []),
    waitConn: async (n = 1, ms = 5000) => {
      const end = Date.now() + ms;
      while (sockets.length < n) {
        if (Date.now() > end) throw new Error(`peer: ${sockets.length} of ${n} connections`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return sockets[n - 1];
    },
  };
}

/** A loopback port whose connects hang (a listener that never accepts, its backlog full): for connect timeouts. */
export async function blackhole(t) {
  const code = `
    const net = require('node:net');
    const s = net.createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(String(s.address().port) + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never accepts again
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  t.teardown(() => child.kill('SIGKILL'));
  const [line] = await withTimeout(once(child.stdout, 'data'), 10000, 'blackhole start');
  const port = Number(String(line).trim());
  // Fill the accept queue (backlog + 1 on Linux): later SYNs are dropped and their connects hang.
  const fillers = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  t.teardown(() => fillers.forEach((s) => s.destroy()));
  return port;
}
