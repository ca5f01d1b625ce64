import type { TcpSuiteConfig } from './tcp-suite.js';

// The same `node` that runs the bench, so every contender gets one runtime.
const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

/** Plain TCP echo: what one round trip through each server costs. */
export const ECHO: TcpSuiteConfig = {
  name: 'echo',
  description: 'TCP echo throughput + latency: ringloop vs node:net vs node:cluster(2) vs a C epoll ceiling',
  contenders: [
    // One reactor per core the server may use (--multicore, as gnet's WithMulticore): on the
    // pinned split that is the server's share. Two reactors time-sliced on one core held a
    // connection up to a scheduler slice (p99 4.4 ms where one reactor had 1.3 ms, same run).
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'echo', ...ADDR, '--multicore'] },
    // The same server in SO_REUSEPORT mode: each reactor accepts on its own listener.
    { name: 'ringloop:reuseport', argv: [node, 'dist/examples/run.js', 'echo', ...ADDR, '--multicore', '--reuse-port'] },
    { name: 'node:net', argv: [node, 'dist/perf/peers/net-echo.js', ...ADDR] },
    { name: 'node:cluster', argv: [node, 'dist/perf/peers/cluster-echo.js', ...ADDR] },
    // The ceiling: a minimal single-threaded C epoll echo (built on demand, see cPrograms).
    { name: 'c-epoll', argv: ['perf/bin/c_echo', ...ADDR] },
  ],
  cPrograms: [['perf/peers/c_echo.c', 'perf/bin/c_echo']],
  subject: 'ringloop',
  baseline: 'node:net',
  peers: ['node:net', 'node:cluster', 'c-epoll'],
  workloads: [
    { name: '64B ping-pong', conns: 100, size: 64, depth: 1 },
    { name: '64B pipelined x16', conns: 100, size: 64, depth: 16 },
    { name: '4KiB ping-pong', conns: 100, size: 4096, depth: 1 },
  ],
  headline: '64B ping-pong',
};
