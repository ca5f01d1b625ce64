// ringloop's echo example (examples/echo) over TLS with one reactor, for the tls suite.
// Usage: node dist/perf/peers/tls-echo-ringloop.js --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem
// Prints `listening tcp://host:port` (a TLS listener; see tls-peer.ts) and stops on SIGTERM.
import { serveRingloopTls } from './tls-peer.js';

await serveRingloopTls('tls-echo-ringloop', 'echo');
