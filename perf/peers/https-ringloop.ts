// ringloop's HTTP example (examples/http) over TLS with one reactor, for the tls suite.
// Usage: node dist/perf/peers/https-ringloop.js --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem
// Prints `listening tcp://host:port` (a TLS listener; see tls-peer.ts) and stops on SIGTERM.
import { serveRingloopTls } from './tls-peer.js';

await serveRingloopTls('https-ringloop', 'http');
