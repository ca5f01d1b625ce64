// uWebSockets.js peer for the http suite: GET / -> "Hello World!" on keep-alive connections, with
// the same status line, Content-Type and body as the other contenders (uWS adds its own Date and
// `uWebSockets: 20` headers and no Connection header, as HTTP/1.1 keep-alive needs none).
// Usage: node dist/perf/peers/http-uws.js --addr tcp://127.0.0.1:0   (prints `listening tcp://host:port`)
// Needs the package installed: the http suite does that (perf/lib/uws.ts) or skips this contender.
import { createRequire } from 'node:module';
import { addrFromArgv, formatTcpUrl } from '../lib/addr.js';
import { UWS_PACKAGE, UWS_VERSION, uwsBinary } from '../lib/uws.js';

/** The few parts of uWS's API used here (its types live in the optional package). */
interface HttpResponse {
  writeHeader(key: string, value: string): HttpResponse;
  writeStatus(status: string): HttpResponse;
  end(body?: string): HttpResponse;
}
interface App {
  get(pattern: string, handler: (res: HttpResponse) => void): App;
  any(pattern: string, handler: (res: HttpResponse) => void): App;
  listen(host: string, port: number, cb: (listenSocket: unknown) => void): App;
}
interface Uws {
  App(): App;
  us_socket_local_port(listenSocket: unknown): number;
  us_listen_socket_close(listenSocket: unknown): void;
}

const addr = addrFromArgv(process.argv.slice(2));
let uws: Uws;
try {
  uws = createRequire(import.meta.url)(uwsBinary()) as Uws;
} catch (err) {
  process.stderr.write(`http-uws: cannot load ${UWS_PACKAGE}@${UWS_VERSION} (${uwsBinary()}): ${(err as Error).message}\n`);
  process.exit(3);
}

const app = uws
  .App()
  .get('/', (res) => void res.writeHeader('Content-Type', 'text/plain').end('Hello World!'))
  .any('/*', (res) => void res.writeStatus('404 Not Found').end());
app.listen(addr.host, addr.port, (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write(`http-uws: cannot listen on ${formatTcpUrl(addr)}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: uws.us_socket_local_port(listenSocket) })}\n`);
  // Closing the listener is not enough: keep-alive connections would hold the loop open.
  process.on('SIGTERM', () => {
    uws.us_listen_socket_close(listenSocket);
    process.exit(0);
  });
});
