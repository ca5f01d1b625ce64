// node:cluster echo server: WORKERS processes sharing one listening port.
// Usage: node dist/perf/peers/cluster-echo.js --addr tcp://127.0.0.1:0
//
// Port 0 works without a probe socket: in cluster mode the primary owns the
// listening handle and keys it by (host, port), so every worker that calls
// listen(0) is handed the same ephemeral port. We still verify that below.
import cluster, { type Worker } from 'node:cluster';
import { addrFromArgv, formatTcpUrl } from '../lib/addr.js';
import { createEchoServer, exitOnSignals } from './echo-server.js';

const WORKERS = 2;
const addr = addrFromArgv(process.argv.slice(2));

function fail(message: string): never {
  process.stderr.write(`cluster-echo: ${message}\n`);
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
  process.exit(1);
}

function runPrimary(): void {
  const ports = new Map<number, number>();
  let stopping = false;
  let announced = false;
  // Counted by hand: cluster.workers may still list a worker when its 'exit'
  // fires (removal waits for the IPC disconnect), so it cannot tell us "all gone".
  let exited = 0;

  cluster.on('listening', (worker: Worker, address: { port: number }) => {
    ports.set(worker.id, address.port);
    if (announced || ports.size < WORKERS) return;
    const distinct = new Set(ports.values());
    if (distinct.size !== 1) fail(`workers bound different ports: ${[...distinct].join(', ')}`);
    announced = true;
    // Only now: the runner starts load as soon as it sees this line, and an
    // early announcement would let one worker take all the connections.
    process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: address.port })}\n`);
  });

  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    // A worker dying under load would silently halve capacity; make it loud.
    if (!stopping) fail(`worker ${worker.id} exited (code ${code ?? '-'}, signal ${signal ?? '-'})`);
    exited++;
    if (exited === WORKERS) process.exit(0);
  });

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => fail('workers did not exit within 3 s'), 3000).unref();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  for (let i = 0; i < WORKERS; i++) cluster.fork();
}

function runWorker(): void {
  const echo = createEchoServer();
  exitOnSignals(echo);
  echo.server.on('error', (err: Error) => {
    process.stderr.write(`cluster-echo worker: ${err.message}\n`);
    process.exit(1);
  });
  echo.server.listen(addr.port, addr.host);
}

if (cluster.isPrimary) runPrimary();
else runWorker();
