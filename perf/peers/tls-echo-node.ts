// node:tls echo peer for the tls suite: perf/peers/echo-server.ts's echo (backpressure included)
// on tls.Server's secure connections.
// Usage: node dist/perf/peers/tls-echo-node.js --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem
import fs from 'node:fs';
import tls from 'node:tls';
import { echoOn, exitOnSignals } from './echo-server.js';
import { announce, tlsPeerArgs } from './tls-peer.js';

const { addr, certPath, keyPath } = tlsPeerArgs('tls-echo-node');
const sockets = new Set<tls.TLSSocket>();
const server = tls.createServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) }, (socket) => echoOn(socket, sockets));
// A client that fails its handshake is its own problem, not the server's.
server.on('tlsClientError', () => {});
exitOnSignals({
  shutdown(onClosed) {
    server.close(() => onClosed());
    for (const s of sockets) s.destroy();
  },
});
server.listen(addr.port, addr.host, () => announce({ host: addr.host, port: (server.address() as { port: number }).port }));
