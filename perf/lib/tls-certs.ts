// The tls suite's certificate: a throwaway self-signed EC P-256 pair for `localhost` and
// 127.0.0.1, made with the openssl CLI into a fresh temp dir at the start of the suite and removed
// at its end (also when the run is interrupted). The loadgens do not check it: TLS here is
// about the cost of encryption and handshakes, not about identity.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface BenchCerts {
  dir: string;
  certPath: string;
  keyPath: string;
  /** Removes the directory (idempotent). */
  remove(): void;
}

/** Whether the openssl CLI is on PATH. */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Makes the pair; throws with openssl's complaint when it cannot. */
export function makeBenchCerts(): BenchCerts {
  const dir = mkdtempSync(join(os.tmpdir(), 'ringloop-bench-tls-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyPath, '-out', certPath,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    remove();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl could not make the bench certificate: ${stderr || (err as Error).message}`);
  }
  return {
    dir, certPath, keyPath,
    remove() {
      process.removeListener('exit', remove);
      remove();
    },
  };
}
