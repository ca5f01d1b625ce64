/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * Listen addresses: `tcp://host:port`, `tcp4://`, `tcp6://[::1]:port`, `tls://host:port` (TCP
 * with TLS; `tls4://`, `tls6://`), `udp://host:port`, `udp4://`, `udp6://[::1]:port`,
 * `unix:///path` (a stream socket; TLS over it with an address object's own `tls` option).
 * An empty host means every interface (`0.0.0.0`, or `::` for tcp6). Hostnames are resolved once,
 * at serve time, to a numeric address.
 */
import { Buffer } from 'node:buffer';
import dns from 'node:dns/promises';
import net from 'node:net';

export type Scheme = 'tcp' | 'tcp4' | 'tcp6' | 'tls' | 'tls4' | 'tls6' | 'udp' | 'udp4' | 'udp6' | 'unix';

export interface ListenAddress {
  readonly scheme: Scheme;
  /** 4, 6, or 0 for a Unix socket. */
  readonly family: 0 | 4 | 6;
  /** Numeric host ('' = any) or, for Unix sockets, the path. */
  readonly host: string;
  readonly port: number;
  /** The address as the user wrote it. */
  readonly input: string;
  /** A UDP address: served by datagram sockets the reactors own, not by the acceptor. */
  readonly dgram: boolean;
  /** A `tls*://` address: TLS over TCP (an address object's `tls` also makes tcp/unix ones TLS). */
  readonly tls: boolean;
}

const SCHEMES: readonly string[] = ['tcp', 'tcp4', 'tcp6', 'tls', 'tls4', 'tls6', 'udp', 'udp4', 'udp6', 'unix'];

/** Parses without resolving names. Throws a TypeError/RangeError naming the bad part. */
export function parseAddress(input: string): ListenAddress {
  if (typeof input !== 'string') throw new TypeError(`listen address must be a string, got ${typeof input}`);
  const m = /^([a-z0-9]+):\/\/(.*)$/i.exec(input);
  if (!m) throw new TypeError(`invalid listen address "${input}": expected scheme://host:port, e.g. tcp://127.0.0.1:9000`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (!SCHEMES.includes(scheme)) {
    throw new TypeError(`unsupported scheme "${scheme}" in "${input}" (supported: ${SCHEMES.join(', ')})`);
  }
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw new TypeError(`invalid unix address "${input}": expected unix:///absolute/path`);
    if (Buffer.byteLength(rest) > 107) throw new RangeError(`unix socket path too long (max 107 bytes): ${rest}`);
    return { scheme: 'unix', family: 0, host: rest, port: 0, input, dgram: false, tls: false };
  }
  const hp = /^(?:\[([^\]]*)\]|([^:/[\]]*)):(\d+)$/.exec(rest);
  if (!hp) throw new TypeError(`invalid listen address "${input}": expected ${scheme}://host:port`);
  const host = hp[1] ?? hp[2] ?? '';
  const port = Number(hp[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`invalid port ${hp[3]} in "${input}": must be 0-65535`);
  }
  const ipv = net.isIP(host);
  if (hp[1] !== undefined && ipv !== 6) throw new TypeError(`invalid IPv6 address "${host}" in "${input}"`);
  const v4only = scheme.endsWith('4');
  const v6only = scheme.endsWith('6');
  if (v4only && ipv === 6) throw new TypeError(`${scheme} address with an IPv6 host in "${input}"`);
  if (v6only && ipv === 4) throw new TypeError(`${scheme} address with an IPv4 host in "${input}"`);
  const family: 4 | 6 = v6only || ipv === 6 ? 6 : 4;
  return { scheme: scheme as Scheme, family, host, port, input, dgram: scheme.startsWith('udp'), tls: scheme.startsWith('tls') };
}

/** Resolves a hostname to a numeric address of the scheme's family. */
export async function resolveAddress(a: ListenAddress): Promise<ListenAddress> {
  if (a.family === 0 || a.host === '' || net.isIP(a.host)) return a;
  const family = a.scheme.endsWith('6') ? 6 : a.scheme.endsWith('4') ? 4 : 0;
  try {
    const r = await dns.lookup(a.host, family ? { family } : {});
    return { ...a, host: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (e) {
    throw new Error(`cannot resolve host "${a.host}" in "${a.input}": ${(e as Error).message}`);
  }
}

/** The bound address as a URL, e.g. `tcp://127.0.0.1:40123`. */
export function formatAddress(a: ListenAddress, port: number): string {
  if (a.family === 0) return `unix://${a.host}`;
  const host = a.host === '' ? (a.family === 6 ? '::' : '0.0.0.0') : a.host;
  return `${a.scheme}://${a.family === 6 ? `[${host}]` : host}:${port}`;
}
