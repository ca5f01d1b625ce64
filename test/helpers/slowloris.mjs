// A slowloris client: many connections, each dribbling a request that never ends, one byte every
// so often, so that no idle timer ever fires. What a server must close by a deadline of its own.
import net from 'node:net';
import { withTimeout } from './net.mjs';

/**
 * Opens `count` connections to 127.0.0.1:`port`; each sends the bytes of `prefix`, then `filler`
 * over and over, one byte every `everyMs` ms (its first byte as soon as it is connected; one timer
 * for all of them). Resolves once all are connected with `{ conns, allClosed(ms), stop() }`:
 * `conns[i]` is `{ connectedAt, firstByteAt, closedAt, sent, how }` (`how`: 'end' for a FIN from
 * the server, or the error code of a reset), `allClosed` resolves once the server closed every
 * one, `stop` destroys what is left. Call `stop` in a teardown.
 */
export async function slowloris(port, { count, prefix, filler = 'a', everyMs = 200 }) {
  const head = Buffer.from(prefix, 'latin1');
  const fill = Buffer.from(filler, 'latin1');
  const conns = [];
  const sockets = [];
  let open = 0;
  let onAllClosed = () => {};
  const closedAll = new Promise((resolve) => (onAllClosed = resolve));
  const byteOf = (n) => (n < head.length ? head.subarray(n, n + 1) : fill.subarray((n - head.length) % fill.length, ((n - head.length) % fill.length) + 1));
  const dribble = (s, c) => {
    if (c.closedAt !== undefined || !s.writable) return;
    s.write(byteOf(c.sent));
    c.sent++;
  };
  await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve, reject) => {
      const c = { connectedAt: 0, firstByteAt: 0, closedAt: undefined, sent: 0, how: undefined };
      const s = net.connect(port, '127.0.0.1');
      const done = (how) => {
        if (c.closedAt !== undefined) return;
        c.closedAt = Date.now();
        c.how = how;
        s.destroy();
        if (--open === 0) onAllClosed();
      };
      s.once('connect', () => {
        open++;
        c.connectedAt = Date.now();
        c.firstByteAt = c.connectedAt;
        dribble(s, c);
        resolve();
      });
      s.on('data', () => {});
      s.on('end', () => done('end'));
      s.on('error', (err) => (c.connectedAt ? done(err.code ?? 'error') : reject(err)));
      s.on('close', () => c.connectedAt && done('close'));
      conns.push(c);
      sockets.push([s, c]);
    })),
  );
  const timer = setInterval(() => {
    for (const [s, c] of sockets) dribble(s, c);
  }, everyMs);
  return {
    conns,
    allClosed: (ms) => withTimeout(closedAll, ms, `the server closing all ${count} slowloris connections`).finally(() => clearInterval(timer)),
    stop: () => {
      clearInterval(timer);
      for (const [s] of sockets) s.destroy();
    },
  };
}

/** min / median / max of `values`, rounded, for a test's report. */
export function spread(values) {
  const v = [...values].sort((a, b) => a - b);
  return { min: Math.round(v[0]), median: Math.round(v[Math.floor(v.length / 2)]), max: Math.round(v[v.length - 1]) };
}
