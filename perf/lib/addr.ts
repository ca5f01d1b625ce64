// Shared by the peers (which print addresses) and the runner (which parses
// them) so both sides agree on the `listening tcp://host:port` contract.

export interface TcpAddr {
  host: string;
  port: number;
}

export function parseTcpUrl(url: string): TcpAddr {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)$/.exec(url);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new Error(`expected tcp://host:port, got '${url}'`);
  }
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad port in '${url}'`);
  }
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

export function formatTcpUrl(addr: TcpAddr): string {
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return `tcp://${host}:${addr.port}`;
}

/** Reads `--addr tcp://...` or `--addr=tcp://...`; defaults to an ephemeral loopback port. */
export function addrFromArgv(argv: readonly string[]): TcpAddr {
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
  return parseTcpUrl(value);
}
