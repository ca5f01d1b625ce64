// Single node:dgram socket echoing every datagram back to its sender: the
// plain-Node baseline of the udp suite.
// Usage: node dist/perf/peers/dgram-echo.js --addr udp://127.0.0.1:0
import dgram from 'node:dgram';
import { addrArgFromArgv, formatListenUrl, parseListenUrl } from '../lib/addr.js';
import { exitOnSignals } from './echo-server.js';

const addr = parseListenUrl(addrArgFromArgv(process.argv.slice(2)));
if (addr.scheme !== 'udp') throw new Error(`dgram-echo serves udp:// only, got ${formatListenUrl(addr)}`);
const socket = dgram.createSocket(addr.host.includes(':') ? 'udp6' : 'udp4');
// What a typical hand-written echo does: the message Buffer goes straight back.
socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
socket.on('error', (err: Error) => {
  process.stderr.write(`dgram-echo: ${err.message}\n`);
  process.exit(1);
});
exitOnSignals({ shutdown: (onClosed) => socket.close(onClosed) });
socket.bind(addr.port, addr.host, () => {
  const bound = socket.address();
  process.stdout.write(`listening ${formatListenUrl({ scheme: 'udp', host: addr.host, port: bound.port })}\n`);
});
