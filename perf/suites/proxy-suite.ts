// The proxy suite: echo through a TCP proxy to the C epoll echo (perf/peers/c_echo.c), the load
// generator's messages crossing the proxy twice per round trip. Contenders: ringloop's
// examples/proxy (one reactor; bytes forwarded natively with pipe), HAProxy (mode tcp, nbthread 1,
// config generated per trial) and a node:net pipe() proxy. The backend is started once for the
// suite, on the load generator's cores, so the server core and its CPU count are the proxy's alone.
import { onCpus } from '../lib/pin.js';
import { ensureCProgram } from '../lib/loadgen.js';
import { repoRoot } from '../lib/paths.js';
import { startServer, stopServer } from '../lib/proc.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';
import { tcpSuite, type TcpSuiteConfig } from './tcp-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

/**
 * The suite's config for a backend at `backend` (tcp://host:port), run as process `backendPid`
 * (its CPU is the setup's, not background noise; 0 when there is none, as for --help).
 */
export function proxyConfig(backend: string, backendPid = 0): TcpSuiteConfig {
  const setupPids = backendPid > 0 ? [backendPid] : [];
  return {
    name: 'proxy',
    description: 'TCP proxy to the C echo: ringloop examples/proxy vs HAProxy (nbthread 1) vs node:net pipe()',
    contenders: [
      { name: 'ringloop', setupPids, argv: [node, 'dist/examples/run.js', 'proxy', ...ADDR, '--loops', '1', '--backend', backend] },
      { name: 'haproxy', setupPids, argv: ['perf/peers/haproxy-proxy.sh', ...ADDR, '--backend', backend] },
      { name: 'node:net', setupPids, argv: [node, 'dist/perf/peers/net-proxy.js', ...ADDR, '--backend', backend] },
    ],
    cPrograms: [],
    subject: 'ringloop',
    baseline: 'node:net',
    peers: ['haproxy', 'node:net'],
    workloads: [
      { name: '64B ping-pong', conns: 100, size: 64, depth: 1 },
      { name: '64B pipelined x16', conns: 100, size: 64, depth: 16 },
      { name: '4KiB ping-pong', conns: 100, size: 4096, depth: 1 },
    ],
    headline: '64B ping-pong',
    target: { peer: 'haproxy', minRatio: 1 },
  };
}

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  ensureCProgram('perf/peers/c_echo.c', 'perf/bin/c_echo', ctx.log);
  const argv = onCpus(ctx.pinning?.loadgen ?? null, ['perf/bin/c_echo', ...ADDR]);
  const backend = await startServer('backend c-epoll', argv, { cwd: repoRoot, timeoutMs: 10000 });
  ctx.log(`proxy: backend c-epoll echo at ${backend.url}`);
  try {
    return await tcpSuite(proxyConfig(backend.url, backend.pid)).run(ctx);
  } finally {
    await stopServer(backend, 2000);
  }
}

export const PROXY: Suite = {
  name: 'proxy',
  description: proxyConfig('tcp://127.0.0.1:1').description,
  contenders: proxyConfig('tcp://127.0.0.1:1').contenders.map((c) => c.name),
  run,
};
