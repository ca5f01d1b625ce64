import net from 'node:net';

export interface EchoServer {
  server: net.Server;
  /** Stops accepting and drops live connections so close() can complete. */
  shutdown(onClosed: () => void): void;
}

// The plain-Node baseline: what a typical hand-written echo looks like, with
// backpressure so a slow client cannot make us buffer without bound.
export function createEchoServer(): EchoServer {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => echoOn(socket, sockets));
  return {
    server,
    shutdown(onClosed) {
      server.close(() => onClosed());
      for (const s of sockets) s.destroy();
    },
  };
}

/** Echoes `socket` (a net.Socket or a tls.TLSSocket), kept in `sockets` while it is open. */
export function echoOn<S extends net.Socket>(socket: S, sockets: Set<S>): void {
  sockets.add(socket);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on('drain', () => socket.resume());
  // Clients vanish mid-write at the end of every run; that is not a failure.
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
}

/**
 * Exit cleanly on SIGTERM/SIGINT, with a hard stop in case close() hangs.
 * Anything with a shutdown(onClosed) will do (the dgram peer uses it too); generic so a
 * literal with more fields (net-piscina-echo passes its server along) still fits.
 */
export function exitOnSignals<T extends Pick<EchoServer, 'shutdown'>>(echo: T): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 3000).unref();
    echo.shutdown(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
