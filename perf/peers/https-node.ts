// node:https peer for the tls suite: http-node.ts's handler (hello-handler.ts: GET / -> "Hello
// World!", the same status, Content-Type and body) on keep-alive connections (closed when the
// request asks).
// Usage: node dist/perf/peers/https-node.js --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem
import fs from 'node:fs';
import https from 'node:https';
import { helloHandler } from './hello-handler.js';
import { announce, tlsPeerArgs } from './tls-peer.js';

const { addr, certPath, keyPath } = tlsPeerArgs('https-node');
const server = https.createServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) }, helloHandler);
server.keepAliveTimeout = 65_000;
server.listen(addr.port, addr.host, () => announce({ host: addr.host, port: (server.address() as { port: number }).port }));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
