import type { ServerSpec } from '../lib/trial.js';

export interface Workload {
  name: string;
  conns: number;
  size: number;
  depth: number;
}

// The same `node` that runs the bench, so every contender gets one runtime.
const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

/**
 * Command lines run from the repo root. Each must print exactly one
 * `listening tcp://host:port` line on stdout and exit on SIGTERM.
 */
export const CONTENDERS: readonly ServerSpec[] = [
  { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'echo', ...ADDR, '--loops', '2'] },
  { name: 'node:net', argv: [node, 'dist/perf/peers/net-echo.js', ...ADDR] },
  { name: 'node:cluster', argv: [node, 'dist/perf/peers/cluster-echo.js', ...ADDR] },
  // The ceiling: a minimal single-threaded C epoll echo (built on demand, see C_PROGRAMS).
  { name: 'c-epoll', argv: ['perf/bin/c_echo', ...ADDR] },
];

/** C contenders compiled on demand before the suite runs: [source, binary]. */
export const C_PROGRAMS: readonly (readonly [string, string])[] = [['perf/peers/c_echo.c', 'perf/bin/c_echo']];

export const SUBJECT = 'ringloop';
/** Column "ratio vs" in the table. */
export const BASELINE = 'node:net';
/** Keys of `ratios`: SUBJECT msgs/s divided by each of these. */
export const PEERS: readonly string[] = ['node:net', 'node:cluster', 'c-epoll'];

export const WORKLOADS: readonly Workload[] = [
  { name: '64B ping-pong', conns: 100, size: 64, depth: 1 },
  { name: '64B pipelined x16', conns: 100, size: 64, depth: 16 },
  { name: '4KiB ping-pong', conns: 100, size: 4096, depth: 1 },
];

/** The workload whose ratios are the suite's headline numbers. */
export const HEADLINE = '64B ping-pong';
