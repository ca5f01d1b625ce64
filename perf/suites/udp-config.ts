import type { TcpSuiteConfig } from './tcp-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'udp://127.0.0.1:0'];

/**
 * UDP echo: one datagram in, the same datagram back to its sender. The
 * loadgen (perf/bin/udp_load) counts datagrams unanswered within 200 ms as
 * lost; the table shows them next to msgs/s.
 */
export const UDP: TcpSuiteConfig = {
  name: 'udp',
  description: 'UDP echo messages/s + latency + loss: ringloop (2 and 1 loops) vs node:dgram vs a C recvmmsg ceiling',
  transport: 'udp',
  contenders: [
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'udp-echo', ...ADDR, '--loops', '2'] },
    // What one reactor does alone: the split between loops costs or gains this much.
    { name: 'ringloop:1loop', argv: [node, 'dist/examples/run.js', 'udp-echo', ...ADDR, '--loops', '1'] },
    { name: 'node:dgram', argv: [node, 'dist/perf/peers/dgram-echo.js', ...ADDR] },
    // The ceiling: c_echo's UDP mode, one thread in a blocking recvmmsg/sendmmsg loop (batches of 64).
    { name: 'c-udp', argv: ['perf/bin/c_echo', ...ADDR] },
  ],
  cPrograms: [['perf/peers/c_echo.c', 'perf/bin/c_echo']],
  subject: 'ringloop',
  baseline: 'node:dgram',
  peers: ['node:dgram', 'ringloop:1loop', 'c-udp'],
  // Clients are connected UDP sockets of the loadgen, each with `depth` datagrams in flight.
  workloads: [
    { name: '64B ping-pong', conns: 50, size: 64, depth: 1 },
    { name: '64B x16 in flight', conns: 50, size: 64, depth: 16 },
    { name: '1KiB ping-pong', conns: 50, size: 1024, depth: 1 },
  ],
  headline: '64B ping-pong',
  target: { peer: 'node:dgram', minRatio: 2 },
};
