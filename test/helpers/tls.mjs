// TLS fixtures made fresh for each test file with the openssl CLI: a CA, server certificates for
// `localhost` (and 127.0.0.1, ::1) and for `other.test` signed by it, a client certificate signed
// by it, and one signed by an unrelated CA. Files live in a temp dir removed in `t.teardown`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { withTimeout } from './net.mjs';

/** Whether the openssl CLI is installed (the tests that need it skip visibly without it). */
export function hasOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir, name) {
  run(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

function leaf(dir, name, caName, san, usage) {
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
  run(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}/O=ringloop tests`,
    '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  run(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', ext, '-out', `${name}.crt`]);
}

/**
 * Makes the fixtures; returns `{ dir, ca, server, other, client, stranger }`: `ca` is PEM text,
 * the others `{ cert, key, certPath, keyPath }` (PEM text and file paths).
 */
export function makeCerts(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-tls-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  ca(dir, 'ca');
  ca(dir, 'strangerca');
  leaf(dir, 'localhost', 'ca', 'DNS:localhost,IP:127.0.0.1,IP:::1', 'serverAuth');
  leaf(dir, 'other.test', 'ca', 'DNS:other.test', 'serverAuth');
  leaf(dir, 'client', 'ca', 'DNS:client', 'clientAuth');
  leaf(dir, 'stranger', 'strangerca', 'DNS:stranger', 'clientAuth');
  const pair = (name) => ({
    cert: fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8'),
    key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'),
    certPath: path.join(dir, `${name}.crt`),
    keyPath: path.join(dir, `${name}.key`),
  });
  return {
    dir,
    ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    caPath: path.join(dir, 'ca.crt'),
    server: pair('localhost'),
    other: pair('other.test'),
    client: pair('client'),
    stranger: pair('stranger'),
  };
}

/** A node:tls client trusting `certs.ca`; resolves once the handshake is done, rejects with the handshake error. */
export function dialTls(certs, port, opts = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca, servername: 'localhost', ...opts }, () => resolve(s));
      s.once('error', reject);
    }),
    10000,
    'TLS handshake',
  );
}

/** Writes `data` on `s` and reads back exactly as many bytes. */
export function echoBack(s, data) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      const onData = (d) => {
        chunks.push(d);
        n += d.length;
        if (n >= data.length) {
          s.off('data', onData);
          resolve(Buffer.concat(chunks));
        }
      };
      s.on('data', onData);
      s.once('error', reject);
      s.write(data);
    }),
    20000,
    `echo of ${data.length} bytes`,
  );
}
