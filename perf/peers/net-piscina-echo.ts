// node:net + piscina echo, the offload suite's peer: every chunk a socket
// reads becomes a pool job (perf/peers/echo-job.ts) whose result is written
// back. The pool matches examples/blocking-echo --mode trivial: 2 threads,
// kept alive. Plain on purpose: what a typical application looks like, with
// the same backpressure as the echo peers.
// Usage: node dist/perf/peers/net-piscina-echo.js --addr tcp://127.0.0.1:0
import net from 'node:net';
import { Piscina } from 'piscina';
import { addrFromArgv, formatTcpUrl } from '../lib/addr.js';
import { exitOnSignals } from './echo-server.js';

const addr = addrFromArgv(process.argv.slice(2));
const pool = new Piscina({
  filename: new URL('./echo-job.js', import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
  idleTimeout: 30_000,
});

const sockets = new Set<net.Socket>();
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    pool.run(chunk).then(
      (out: Uint8Array) => {
        if (!socket.destroyed && !socket.write(out)) socket.pause();
      },
      (err: unknown) => {
        process.stderr.write(`net-piscina-echo: job failed: ${err instanceof Error ? err.message : String(err)}\n`);
        socket.destroy();
      },
    );
  });
  socket.on('drain', () => socket.resume());
  // Clients vanish mid-write at the end of every run; that is not a failure.
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

exitOnSignals({
  server,
  shutdown(onClosed) {
    server.close(() => onClosed());
    for (const s of sockets) s.destroy();
  },
});
server.on('error', (err: Error) => {
  process.stderr.write(`net-piscina-echo: ${err.message}\n`);
  process.exit(1);
});
server.listen(addr.port, addr.host, () => {
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('expected a TCP address');
  process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: bound.port })}\n`);
});
