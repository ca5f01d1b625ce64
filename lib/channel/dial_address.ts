/**
 * Channel wing: what crosses threads; safe to use from any thread.
 *
 * Dial addresses: `tcp://host:port`, `tcp4://`, `tcp6://[host]:port`, `unix:///path`. A reactor
 * dials numeric hosts only (it must not block on DNS); `resolveDialAddress` (engine.dial, jobs)
 * looks names up first.
 */
import dns from 'node:dns/promises';

/** A parsed dial address: family 4/6 with a numeric host, or 0 with a Unix path. */
export interface DialTarget {
  family: 0 | 4 | 6;
  host: string;
  port: number;
  /** The host as the address named it (before localhost or a lookup became an IP): the TLS server name. */
  name?: string;
  /** A `tls*://` address. */
  tls?: boolean;
}

/** `tcp://h:p`, `tcp4://`, `tcp6://[h]:p`, `tls://h:p` (TLS over TCP), `unix:///path`: numeric hosts (and localhost) only. */
export function parseDialAddress(addr: string): DialTarget {
  return parseDial(addr, false) as DialTarget;
}

function parseDial(addr: string, names: boolean): DialTarget | { scheme: string; name: string; port: number; tls: boolean } {
  const m = /^(tcp|tcp4|tcp6|tls|tls4|tls6|unix):\/\/(.*)$/.exec(addr);
  if (!m) throw new TypeError(`ringloop: dial address "${addr}" must be tcp://host:port, tcp6://[host]:port or unix:///path`);
  const tls = m[1]!.startsWith('tls');
  const scheme = m[1]!.replace('tls', 'tcp');
  const rest = m[2]!;
  if (scheme === 'unix') {
    if (!rest) throw new TypeError(`ringloop: dial address "${addr}" has no path`);
    return { family: 0, host: rest, port: 0, tls: false };
  }
  const hp = /^\[([^\]]+)\]:(\d+)$/.exec(rest) ?? /^([^:[\]]+):(\d+)$/.exec(rest);
  if (!hp) throw new TypeError(`ringloop: dial address "${addr}" needs host:port`);
  let host = hp[1]!;
  const name = host;
  const port = Number(hp[2]);
  if (!(port > 0 && port <= 65535)) throw new TypeError(`ringloop: dial address "${addr}" has a bad port`);
  if (host === 'localhost') host = scheme === 'tcp6' ? '::1' : '127.0.0.1';
  const family = host.includes(':') ? 6 : /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 4 : 0;
  if (family === 0 && names) return { scheme, name: host, port, tls };
  if (family === 0) {
    throw new TypeError(`ringloop: dial address "${addr}": a reactor dials numeric hosts only (engine.dial resolves names)`);
  }
  if ((scheme === 'tcp4' && family !== 4) || (scheme === 'tcp6' && family !== 6)) {
    throw new TypeError(`ringloop: dial address "${addr}" does not match its scheme`);
  }
  return { family, host, port, name, tls };
}

/** As parseDialAddress, looking a host name up (dns.lookup, as node:net does) instead of refusing it. */
export async function resolveDialAddress(addr: string): Promise<DialTarget> {
  const t = parseDial(addr, true);
  if ('family' in t) return t;
  const fam = t.scheme === 'tcp6' ? 6 : t.scheme === 'tcp4' ? 4 : 0;
  const r = await dns.lookup(t.name, fam ? { family: fam } : {});
  return { family: r.family === 6 ? 6 : 4, host: r.address, port: t.port, name: t.name, tls: t.tls };
}
