import { UNIX_SOCKET } from '../lib/sockpath.js';
import type { TcpSuiteConfig } from './tcp-suite.js';

const node = process.execPath;
// Each trial substitutes a fresh path under os.tmpdir() and removes it afterwards.
const ADDR = ['--addr', `unix://${UNIX_SOCKET}`];

/** The echo suite over a Unix stream socket: the same loadgen (echo_load --unix), no TCP stack. */
export const UNIX: TcpSuiteConfig = {
  name: 'unix',
  description: 'Unix stream socket echo throughput + latency: ringloop vs node:net vs a C epoll ceiling',
  transport: 'unix',
  contenders: [
    // One reactor per core the server may use, as in the echo suite (echo-config.ts).
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'unix-echo', ...ADDR, '--multicore'] },
    { name: 'node:net', argv: [node, 'dist/perf/peers/net-echo.js', ...ADDR] },
    { name: 'c-epoll', argv: ['perf/bin/c_echo', ...ADDR] },
  ],
  cPrograms: [['perf/peers/c_echo.c', 'perf/bin/c_echo']],
  subject: 'ringloop',
  baseline: 'node:net',
  peers: ['node:net', 'c-epoll'],
  workloads: [
    { name: '64B ping-pong', conns: 100, size: 64, depth: 1 },
    { name: '64B pipelined x16', conns: 100, size: 64, depth: 16 },
    { name: '4KiB ping-pong', conns: 100, size: 4096, depth: 1 },
  ],
  headline: '64B ping-pong',
  target: { peer: 'node:net', minRatio: 2 },
};
