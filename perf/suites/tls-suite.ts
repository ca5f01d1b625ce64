// The tls suite: ringloop's native TLS (handshakes and records in the reactor, Node's OpenSSL)
// against node:https / node:tls and uWebSockets.js's SSLApp, one reactor against one event loop,
// pinned like every suite. Two runners in one suite, sharing one throwaway certificate:
// - HTTPS with wrk (tool-suite.ts): keep-alive GET / (the headline, the targets) and a
//   new connection per request (`Connection: close`, connections counted by the kernel);
// - TLS echo with echo_load_tls (tcp-suite.ts): full and resumed handshakes per second (a new
//   connection per message) and 64 B / 4 KiB ping-pong over kept connections.
// Their results are merged into one report and one JSON object.
import { ensureUws } from '../lib/uws.js';
import { makeBenchCerts } from '../lib/tls-certs.js';
import { wrk } from './proto-configs.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';
import { tcpSuite, type TcpSuiteConfig } from './tcp-suite.js';
import { missingTools, toolSuite, type ToolSuiteConfig } from './tool-suite.js';

const node = process.execPath;

/** Where a trial's peers find the certificate (`--cert`, `--key`). */
interface CertPaths {
  certPath: string;
  keyPath: string;
}

/** The two halves' configs for a certificate; with placeholder paths they give the contender names. */
export function tlsConfigs(certs: CertPaths): { https: ToolSuiteConfig; echo: TcpSuiteConfig } {
  const args = ['--addr', 'tcp://127.0.0.1:0', '--cert', certs.certPath, '--key', certs.keyPath];
  const peer = (file: string): string[] => [node, `dist/perf/peers/${file}.js`, ...args];
  const https: ToolSuiteConfig = {
    name: 'tls/https',
    description: 'HTTPS GET / with wrk -t1 -c100',
    requires: [{ cmd: 'wrk', install: 'apt-get install wrk' }],
    contenders: [
      { name: 'ringloop', argv: peer('https-ringloop') },
      { name: 'node:https', argv: peer('https-node') },
      // Installed on demand into perf/.peers (lib/uws.ts); skipped, saying why, when it cannot be.
      { name: 'uws', argv: peer('https-uws'), prepare: ensureUws },
    ],
    workloads: [
      wrk('HTTPS keep-alive', 1, { scheme: 'https', threads: 1 }),
      wrk('HTTPS new connection', 1, {
        scheme: 'https', threads: 1, headers: ['Connection: close'], metric: 'GET / (Connection: close)', connectionPerRequest: true,
      }),
    ],
    subject: 'ringloop',
    // node:https first: the chart's ratios on these panels are to it.
    peers: ['node:https', 'uws'],
    headline: ['HTTPS keep-alive', 'GET /'],
    // The TLS issue's goals for HTTPS keep-alive.
    targets: [
      { peer: 'uws', minRatio: 1 },
      { peer: 'node:https', minRatio: 4 },
    ],
  };
  const echo: TcpSuiteConfig = {
    name: 'tls/echo',
    description: 'TLS echo and handshakes with echo_load_tls',
    tls: true,
    contenders: [
      { name: 'ringloop', argv: peer('tls-echo-ringloop') },
      { name: 'node:tls', argv: peer('tls-echo-node') },
    ],
    cPrograms: [],
    subject: 'ringloop',
    baseline: 'node:tls',
    peers: ['node:tls'],
    workloads: [
      { name: 'TLS full handshake', conns: 100, size: 64, depth: 1, reconnect: 'full' },
      { name: 'TLS resumed handshake', conns: 100, size: 64, depth: 1, reconnect: 'resume' },
      { name: 'TLS 64B ping-pong', conns: 100, size: 64, depth: 1 },
      { name: 'TLS 4KiB ping-pong', conns: 100, size: 4096, depth: 1 },
    ],
    headline: 'TLS 64B ping-pong',
  };
  return { https, echo };
}

type Json = Record<string, unknown>;

const record = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The first TLS parameters any echo row recorded (what the loadgen's handshakes negotiated). */
function negotiated(echo: Json): { protocol: unknown; cipher: unknown } | null {
  for (const r of list(echo['results'])) {
    const tls = record(record(r)['tls']);
    if ('protocol' in tls) return { protocol: tls['protocol'], cipher: tls['cipher'] };
  }
  return null;
}

/** One JSON object for both halves: rows and per-workload ratios side by side, the HTTPS headline on top. */
export function mergeTlsJson(https: Json | null, echo: Json | null, opts: SuiteContext['opts']): Json {
  const h = https ?? {};
  const e = echo ?? {};
  const merge = (key: string): Json => ({ ...record(h[key]), ...record(e[key]) });
  const failures = [...list(h['failures']), ...list(e['failures'])];
  return {
    suite: 'tls',
    date: new Date().toISOString(),
    machine: e['machine'] ?? h['machine'] ?? null,
    pinning: e['pinning'] ?? h['pinning'] ?? null,
    subject: 'ringloop',
    config: {
      runs: opts.runs,
      seconds: opts.seconds,
      warmup: opts.warmup,
      only: opts.only,
      headline: 'HTTPS keep-alive GET /',
      https: https === null ? null : { skipped: h['skipped'] ?? null, config: h['config'] ?? null },
      echo: echo === null ? null : (e['config'] ?? null),
    },
    ...(negotiated(e) ? { tls: negotiated(e) } : {}),
    results: [...list(h['results']), ...list(e['results'])],
    ratios: record(h['ratios']),
    cpuRatios: record(h['cpuRatios']),
    ratiosByWorkload: merge('ratiosByWorkload'),
    cpuRatiosByWorkload: merge('cpuRatiosByWorkload'),
    latencyRatiosByWorkload: record(e['latencyRatiosByWorkload']),
    targets: h['targets'] ?? null,
    targetsMet: h['targetsMet'] ?? null,
    ok: failures.length === 0,
    failures,
    warnings: [...list(h['warnings']), ...list(e['warnings'])],
  };
}

/** A half runs only when --only leaves it a contender. */
function selected(names: readonly string[], only: readonly string[] | null): boolean {
  return only === null || names.some((n) => only.includes(n));
}

export function tlsSuite(): Suite {
  const names = tlsConfigs({ certPath: 'cert.pem', keyPath: 'key.pem' });
  const https = names.https.contenders.map((c) => c.name);
  const echo = names.echo.contenders.map((c) => c.name);
  return {
    name: 'tls',
    description: 'TLS (1 reactor): HTTPS keep-alive and new connections with wrk vs node:https vs uWS SSLApp; TLS handshakes/s and echo vs node:tls',
    contenders: [...new Set([...https, ...echo])],
    async run(ctx: SuiteContext): Promise<SuiteOutcome> {
      // The openssl CLI makes the throwaway certificate.
      const missing = missingTools('tls', [{ cmd: 'openssl', install: 'apt-get install openssl' }]);
      if (missing) return missing;
      const certs = makeBenchCerts();
      ctx.log(`certificate: self-signed EC P-256 in ${certs.dir} (removed at the end)`);
      try {
        const cfg = tlsConfigs(certs);
        const sub = (name: string): SuiteContext => ({ ...ctx, log: (m) => ctx.log(`${name} ${m}`) });
        const h = selected(https, ctx.opts.only) ? await toolSuite(cfg.https).run(sub('https')) : null;
        const e = selected(echo, ctx.opts.only) ? await tcpSuite(cfg.echo).run(sub('echo')) : null;
        const text = [
          ...(h ? [h.text] : []),
          ...(e ? [e.text] : []),
          'TLS: every contender serves one certificate (self-signed EC P-256) with its library\'s defaults: ringloop and node with Node\'s OpenSSL, uWS with the BoringSSL in its binary; wrk and echo_load_tls use the system OpenSSL and do not check the certificate.',
          '',
        ].join('\n');
        return {
          text,
          json: mergeTlsJson(h?.json ?? null, e?.json ?? null, ctx.opts),
          failures: [...(h?.failures ?? []), ...(e?.failures ?? [])],
          warnings: [...(h?.warnings ?? []), ...(e?.warnings ?? [])],
        };
      } finally {
        certs.remove();
      }
    },
  };
}

export const TLS: Suite = tlsSuite();
