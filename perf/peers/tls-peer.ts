// Shared by the tls suite's peers: `--addr tcp://host:port --cert PATH --key PATH` (the suite makes a
// throwaway self-signed EC P-256 pair per run, lib/tls-certs.ts) and the ringloop side of it.
// Every peer prints `listening tcp://host:port`: TLS runs over TCP, and the runner's loadgens and
// tools (wrk https://, echo_load_tls) take host:port; the scheme names the transport they dial.
import { parseArgs } from 'node:util';
import { formatTcpUrl, parseTcpUrl, type TcpAddr } from '../lib/addr.js';
import { serveUntilSignal } from '../../examples/until_signal.js';

export interface TlsPeerArgs {
  addr: TcpAddr;
  certPath: string;
  keyPath: string;
}

/** This peer's `--addr`, `--cert` and `--key`; exits 2 naming what is missing. */
export function tlsPeerArgs(name: string): TlsPeerArgs {
  const { values } = parseArgs({ options: { addr: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } });
  if (values.cert === undefined || values.key === undefined) {
    process.stderr.write(`${name}: usage: --addr tcp://127.0.0.1:0 --cert cert.pem --key key.pem\n`);
    process.exit(2);
  }
  return { addr: parseTcpUrl(values.addr ?? 'tcp://127.0.0.1:0'), certPath: values.cert, keyPath: values.key };
}

/** The one `listening` line the runner waits for. */
export function announce(addr: TcpAddr): void {
  process.stdout.write(`listening ${formatTcpUrl(addr)}\n`);
}

/**
 * A ringloop example's handler (`examples/<example>/handler.js` in dist) over TLS with one reactor,
 * `serve(handler, 'tls://host:port', { numEventLoop: 1, tls: { cert, key } })`; stops on SIGTERM.
 */
export async function serveRingloopTls(name: string, example: 'http' | 'echo'): Promise<void> {
  const { serve } = await import('../../lib/index.js');
  const { addr, certPath, keyPath } = tlsPeerArgs(name);
  const handler = new URL(`../../examples/${example}/handler.js`, import.meta.url);
  const engine = await serve(handler, `tls://${formatTcpUrl(addr).slice('tcp://'.length)}`, {
    numEventLoop: 1,
    tls: { cert: certPath, key: keyPath },
  });
  // engine.addrs[0] is tls://host:port with the port resolved.
  const bound = parseTcpUrl(`tcp://${(engine.addrs[0] ?? '').replace(/^tls:\/\//, '')}`);
  announce(bound);
  await serveUntilSignal(engine);
}
