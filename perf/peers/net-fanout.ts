// The node:net line chat (every line to every other client), the chat example's peer in the
// pubsub suite: what a careful hand-written fan-out looks like, a Set of sockets on one thread,
// whole lines forwarded as one chunk, and a client that stops reading (its write buffer past
// 1 MiB) dropped, as the example drops one past writeBufferCap.
// Usage: node dist/perf/peers/net-fanout.js --addr tcp://127.0.0.1:0
import net from 'node:net';
import { addrFromArgv, formatTcpUrl } from '../lib/addr.js';
import { exitOnSignals } from './echo-server.js';

const MAX_PENDING = 1 << 20;
const addr = addrFromArgv(process.argv.slice(2));
const clients = new Set<net.Socket>();
const server = net.createServer((socket) => {
  clients.add(socket);
  socket.setNoDelay(true);
  let rest: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const data = rest ? Buffer.concat([rest, chunk]) : chunk;
    const end = data.lastIndexOf(10) + 1;
    rest = end < data.length ? data.subarray(end) : null;
    if (end === 0) return;
    const lines = data.subarray(0, end);
    for (const other of clients) {
      if (other === socket) continue;
      other.write(lines);
      if (other.writableLength > MAX_PENDING) other.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clients.delete(socket));
});
exitOnSignals({
  server,
  shutdown(onClosed: () => void) {
    server.close(() => onClosed());
    for (const s of clients) s.destroy();
  },
});
server.listen(addr.port, addr.host, () => {
  const bound = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: bound.port })}\n`);
});
