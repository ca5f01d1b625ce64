// Shared by the peers (which print addresses) and the runner (which parses
// them) so both sides agree on the `listening tcp://host:port` contract (or
// `listening udp://host:port`, `listening unix:///path`).

export interface TcpAddr {
  host: string;
  port: number;
}

/** What a server listens on; `scheme` also decides which loadgen can talk to it. */
export type ListenAddr = ({ scheme: 'tcp' | 'udp' } & TcpAddr) | { scheme: 'unix'; path: string };
export type Scheme = ListenAddr['scheme'];

function parseHostPort(scheme: 'tcp' | 'udp', url: string): TcpAddr {
  const m = new RegExp(`^${scheme}://(\\[[^\\]]+\\]|[^:/\\s]+):(\\d+)$`).exec(url);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new Error(`expected ${scheme}://host:port, got '${url}'`);
  }
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad port in '${url}'`);
  }
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

export function parseTcpUrl(url: string): TcpAddr {
  return parseHostPort('tcp', url);
}

export function parseListenUrl(url: string): ListenAddr {
  if (url.startsWith('unix://')) {
    const path = url.slice('unix://'.length);
    // Spaces would not survive the one-line `listening` contract.
    if (!path.startsWith('/') || /\s/.test(path)) throw new Error(`expected unix:///absolute/path, got '${url}'`);
    return { scheme: 'unix', path };
  }
  const scheme = url.startsWith('udp://') ? 'udp' : 'tcp';
  return { scheme, ...parseHostPort(scheme, url) };
}

export function formatTcpUrl(addr: TcpAddr): string {
  return formatListenUrl({ scheme: 'tcp', ...addr });
}

export function formatListenUrl(addr: ListenAddr): string {
  if (addr.scheme === 'unix') return `unix://${addr.path}`;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return `${addr.scheme}://${host}:${addr.port}`;
}

/** The address in a server's `listening <url>` line, or null for any other line. */
export function parseListeningLine(line: string): ListenAddr | null {
  const m = /^listening ((?:tcp|udp|unix):\/\/\S+)\s*$/.exec(line);
  return m?.[1] === undefined ? null : parseListenUrl(m[1]);
}

/** The port of a TCP or UDP address; tools that only speak TCP (wrk, soak clients) need it. */
export function portOf(addr: ListenAddr): number {
  if (addr.scheme === 'unix') throw new Error(`expected a host:port address, got unix://${addr.path}`);
  return addr.port;
}

/** Reads `--addr tcp://...` or `--addr=tcp://...`; defaults to an ephemeral loopback port. */
export function addrFromArgv(argv: readonly string[]): TcpAddr {
  return parseTcpUrl(addrArgFromArgv(argv));
}

/** The raw `--addr URL` (any scheme; the peer checks it can serve it), default `tcp://127.0.0.1:0`. */
export function addrArgFromArgv(argv: readonly string[]): string {
  let value = 'tcp://127.0.0.1:0';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--addr') {
      const next = argv[i + 1];
      if (next === undefined) throw new Error('--addr needs a value');
      value = next;
      i++;
    } else if (arg !== undefined && arg.startsWith('--addr=')) {
      value = arg.slice('--addr='.length);
    } else {
      throw new Error(`unknown argument '${arg ?? ''}'`);
    }
  }
  return value;
}
