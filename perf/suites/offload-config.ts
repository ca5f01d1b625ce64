import type { TcpSuiteConfig } from './tcp-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

/**
 * react -> pool job -> write back: every message is handed to a worker-pool
 * job that answers at once, so the numbers are the cost of the offload round
 * trip itself. Both contenders use the same pool shape: 2 piscina threads,
 * kept alive (minThreads 2, maxThreads 2, idleTimeout 30 s).
 */
export const OFFLOAD: TcpSuiteConfig = {
  name: 'offload',
  description: 'react -> pool job -> asyncWrite round trips + latency: ringloop vs node:net + piscina (trivial job)',
  contenders: [
    // examples/blocking-echo --mode trivial: c.offload(msg) -> job.asyncWrite(msg) via the reactor's inbox.
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'blocking-echo', ...ADDR, '--loops', '2', '--mode', 'trivial'] },
    // socket 'data' -> pool.run(chunk) -> socket.write(result).
    { name: 'node:net+piscina', argv: [node, 'dist/perf/peers/net-piscina-echo.js', ...ADDR] },
  ],
  cPrograms: [],
  subject: 'ringloop',
  baseline: 'node:net+piscina',
  peers: ['node:net+piscina'],
  workloads: [
    { name: '64B offload ping-pong', conns: 100, size: 64, depth: 1 },
    { name: '64B offload x4', conns: 100, size: 64, depth: 4 },
  ],
  headline: '64B offload ping-pong',
  // Issue 3, item 6.
  target: { peer: 'node:net+piscina', minRatio: 1.5, maxLatencyRatio: 1 },
};
