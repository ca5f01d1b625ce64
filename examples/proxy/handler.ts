/**
 * A TCP proxy (L4): every client connection gets a backend connection dialed from the same
 * reactor, and the two are joined with `pipe` both ways, so bytes move between the sockets inside
 * the native loop without a JS call: full duplex, each side's EOF passed on as a half-close, and
 * backpressure both ways (a side whose pending output passes writeBufferHighWater stops the other
 * side's reads until it drains). Backends are chosen round-robin or by least connections; one that
 * refuses or does not answer is skipped for `retryAfter` ms and the next one is tried, until every
 * backend has failed for this client (then the client is closed). Optionally a PROXY protocol
 * header tells the backend who the client is.
 */
import { Action, defineHandler, parseDialAddress, type Conn, type InitInfo } from '../../lib/index.js';

/** handlerOptions (built by config.ts from the flags). */
export interface ProxyOptions {
  backends: string[];
  balance: 'round-robin' | 'least-connections';
  proxyProtocol: 0 | 1 | 2;
  connectTimeout: number;
  retryAfter: number;
}

/** A client and the backend it is joined with (the context of both). */
interface Pair {
  client: Conn;
  backend: Conn | null;
  /** Index of the backend being dialed or joined. */
  at: number;
  /** Backends tried for this client so far. */
  tries: number;
}

export default defineHandler((info: InitInfo) => {
  const o = info.options as ProxyOptions;
  for (const b of o.backends) parseDialAddress(b); // a bad address fails at startup, not per client
  const n = o.backends.length;
  /** Per backend: connections dialed or joined, and until when (ms) it is skipped. */
  const active = new Array<number>(n).fill(0);
  const downUntil = new Array<number>(n).fill(0);
  let next = 0;

  /** The next backend to try: skips those down (unless all are), by turn or by fewest connections. */
  function pick(): number {
    const now = Date.now();
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = (next + k) % n;
      if (downUntil[i]! > now) continue;
      if (o.balance === 'round-robin') {
        best = i;
        break;
      }
      if (best < 0 || active[i]! < active[best]!) best = i;
    }
    if (best < 0) best = next % n; // every backend is down: try anyway, in turn
    next = (best + 1) % n;
    return best;
  }

  function dialBackend(p: Pair): void {
    const i = pick();
    p.at = i;
    p.tries++;
    active[i]!++;
    const c = p.client;
    const header =
      o.proxyProtocol === 0 || c.remoteAddr.startsWith('/') || c.remoteAddr === ''
        ? undefined
        : { version: o.proxyProtocol, source: c.remoteAddr, dest: c.localAddr };
    c.dial(o.backends[i]!, { context: p, timeout: o.connectTimeout, proxyHeader: header });
  }

  return {
    onOpened(c) {
      if (c.dialed) {
        const p = c.context as Pair;
        if (!p.client.open) return Action.Close; // the client left while we connected
        p.backend = c;
        p.client.pipe(c);
        c.pipe(p.client);
        p.client.resumeRead();
        return;
      }
      // Hold the client's bytes (in the kernel) until its backend is connected.
      c.pauseRead();
      const p: Pair = { client: c, backend: null, at: -1, tries: 0 };
      c.context = p;
      dialBackend(p);
    },
    // Only before the pair is joined: bytes that came with the accept stay buffered; pipe sends them first.
    react() {},
    onClosed(c, err) {
      const p = c.context as Pair | undefined;
      if (!p || !c.dialed) return; // a client: its backend (if joined) closes with it
      active[p.at]!--;
      if (p.backend === c || !p.client.open) return;
      // Never connected: skip this backend for a while and try the next one.
      if (err) downUntil[p.at] = Date.now() + o.retryAfter;
      if (p.tries < n) dialBackend(p);
      else p.client.close();
    },
  };
});
