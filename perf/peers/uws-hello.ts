// The uWebSockets.js hello server behind the http suite's `uws` (App) and the tls suite's `uws`
// (SSLApp): GET / -> "Hello World!" on keep-alive connections, with the same status line,
// Content-Type and body as the other contenders (uWS adds its own Date and `uWebSockets: 20`
// headers and no Connection header, as HTTP/1.1 keep-alive needs none).
// Needs the package installed: the suites do that (perf/lib/uws.ts) or skip the contender.
import { createRequire } from 'node:module';
import { formatTcpUrl, type TcpAddr } from '../lib/addr.js';
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
  SSLApp(options: { cert_file_name: string; key_file_name: string }): App;
  us_socket_local_port(listenSocket: unknown): number;
  us_listen_socket_close(listenSocket: unknown): void;
}

/** Serves the hello app on `addr`, over TLS with `tls` (uWS's SSLApp); prints `listening tcp://host:port`. */
export function serveUwsHello(name: string, addr: TcpAddr, tls: { certPath: string; keyPath: string } | null): void {
  let uws: Uws;
  try {
    uws = createRequire(import.meta.url)(uwsBinary()) as Uws;
  } catch (err) {
    process.stderr.write(`${name}: cannot load ${UWS_PACKAGE}@${UWS_VERSION} (${uwsBinary()}): ${(err as Error).message}\n`);
    process.exit(3);
  }
  const app = (tls ? uws.SSLApp({ cert_file_name: tls.certPath, key_file_name: tls.keyPath }) : uws.App())
    .get('/', (res) => void res.writeHeader('Content-Type', 'text/plain').end('Hello World!'))
    .any('/*', (res) => void res.writeStatus('404 Not Found').end());
  app.listen(addr.host, addr.port, (listenSocket) => {
    if (!listenSocket) {
      process.stderr.write(`${name}: cannot listen on ${formatTcpUrl(addr)}\n`);
      process.exit(1);
    }
    process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: uws.us_socket_local_port(listenSocket) })}\n`);
    // Closing the listener is not enough: keep-alive connections would hold the loop open.
    process.on('SIGTERM', () => {
      uws.us_listen_socket_close(listenSocket);
      process.exit(0);
    });
  });
}
