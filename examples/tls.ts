/**
 * TLS for the examples (examples/run.ts): `--tls-cert FILE --tls-key FILE` serve a real pair;
 * `--tls` makes a throwaway self-signed pair for local trials (EC P-256, `localhost` and
 * 127.0.0.1, valid one day) with the openssl CLI, in a temp dir removed at exit. Node has no API
 * that makes certificates, hence the CLI. Clients of a throwaway pair must skip verification
 * (`curl -k`, `redis-cli --tls --insecure`) or trust the printed certificate file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TlsOptions } from '../lib/index.js';

/** A self-signed pair for localhost; returns the paths (the dir goes at process exit). */
export function throwawayPair(): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-example-tls-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-keyout', key, '-out', cert],
      { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`--tls needs the openssl CLI to make a throwaway certificate (${(e as Error).message.split('\n')[0]}); or pass --tls-cert and --tls-key`);
  }
  return { cert, key };
}

/** The tls option for the flags given, or undefined without TLS flags; throws on a half-given pair. */
export function tlsFromFlags(f: { tls: boolean; cert?: string; key?: string }): TlsOptions | undefined {
  if (f.cert === undefined && f.key === undefined) {
    if (!f.tls) return undefined;
    const pair = throwawayPair();
    console.error(`tls: throwaway self-signed certificate ${pair.cert} (clients: curl -k, or --cacert it)`);
    return pair;
  }
  if (f.cert === undefined || f.key === undefined) throw new Error('--tls-cert and --tls-key go together');
  return { cert: f.cert, key: f.key };
}

/** Without --addr, a TLS example listens where it would in plain, with the tls scheme. */
export function tlsDefaults(addrs: readonly string[]): string[] {
  return addrs.map((a) => a.replace(/^tcp([46]?):/, 'tls$1:'));
}
