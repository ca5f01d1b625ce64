// uWebSockets.js peer for the http suite (uws-hello.ts over plain TCP, uWS's App).
// Usage: node dist/perf/peers/http-uws.js --addr tcp://127.0.0.1:0   (prints `listening tcp://host:port`)
// Needs the package installed: the http suite does that (perf/lib/uws.ts) or skips this contender.
import { addrFromArgv } from '../lib/addr.js';
import { serveUwsHello } from './uws-hello.js';

serveUwsHello('http-uws', addrFromArgv(process.argv.slice(2)), null);
