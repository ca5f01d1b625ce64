// node:http peer for the http suite: GET / -> "Hello World!", POST /echo echoes the body.
// `--cluster N` forks N workers sharing the port (node:cluster). Prints `listening tcp://host:port`.
import cluster from 'node:cluster';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { helloHandler } from './hello-handler.js';

const { values } = parseArgs({ options: { addr: { type: 'string' }, cluster: { type: 'string' } } });
const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(values.addr ?? 'tcp://127.0.0.1:0');
if (!m) throw new Error(`bad --addr ${values.addr}`);
const host = m[1]!;
const workers = Number(values.cluster ?? 0);

function serve(port: number, onListening: (port: number) => void): void {
  const server = http.createServer(helloHandler);
  server.keepAliveTimeout = 65_000;
  server.listen(port, host, () => onListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (workers > 0 && cluster.isPrimary) {
  // Workers listening on port 0 in cluster mode share one port chosen by the primary.
  let ready = 0;
  let port = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (msg: { port: number }) => {
      port = msg.port;
      if (++ready === workers) console.log(`listening tcp://${host}:${port}`);
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else if (workers > 0) {
  serve(Number(m[2]), (port) => process.send?.({ port }));
} else {
  serve(Number(m[2]), (port) => console.log(`listening tcp://${host}:${port}`));
}
