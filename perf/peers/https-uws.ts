// uWebSockets.js peer for the tls suite: uws-hello.ts over TLS (uWS's SSLApp, its own bundled TLS
// library, not Node's OpenSSL).
// Usage: node dist/perf/peers/https-uws.js --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem
// Needs the package installed: the tls suite does that (perf/lib/uws.ts) or skips this contender.
import { tlsPeerArgs } from './tls-peer.js';
import { serveUwsHello } from './uws-hello.js';

const { addr, certPath, keyPath } = tlsPeerArgs('https-uws');
serveUwsHello('https-uws', addr, { certPath, keyPath });
