// The protocol suites: HTTP/1.1 with wrk, RESP with redis-benchmark.
import { toolSuite, type ToolWorkload } from './tool-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

export function wrk(name: string, pipeline: number): ToolWorkload {
  return {
    name,
    command: (port, seconds) => [
      'wrk',
      ['-c', '100', '-t', '2', '-d', `${seconds}s`, ...(pipeline > 1 ? ['-s', 'examples/http/wrk-pipeline.lua'] : []), `http://127.0.0.1:${port}/`, ...(pipeline > 1 ? ['--', String(pipeline)] : [])],
    ],
    parse: (out): Record<string, number> => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const bad = /Non-2xx or 3xx responses: (\d+)|Socket errors:.*?(?:read|write) (\d+)/.exec(out);
      if (bad && Number(bad[1] ?? 0) > 0) throw new Error(`wrk saw errors: ${bad[0]}`);
      return m ? { 'GET /': Number(m[1]) } : {};
    },
  };
}

export const HTTP = toolSuite({
  name: 'http',
  description: 'HTTP/1.1 GET / with wrk (100 conns): ringloop http vs node:http vs node:cluster(2)',
  requires: [{ cmd: 'wrk', install: 'apt-get install wrk' }],
  contenders: [
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'http', ...ADDR, '--loops', '2'] },
    { name: 'node:http', argv: [node, 'dist/perf/peers/http-node.js', ...ADDR] },
    { name: 'node:cluster', argv: [node, 'dist/perf/peers/http-node.js', ...ADDR, '--cluster', '2'] },
  ],
  workloads: [wrk('plain', 1), wrk('pipelined x16', 16)],
  subject: 'ringloop',
  peers: ['node:http', 'node:cluster'],
  headline: ['plain', 'GET /'],
});

export function redisBench(name: string, pipeline: number): ToolWorkload {
  return {
    name,
    command: (port, seconds) => [
      'redis-benchmark',
      ['-p', String(port), '-t', 'ping,set,get', '-c', '50', '-n', String(Math.round(seconds * (pipeline > 1 ? 300000 : 30000))), '-q', ...(pipeline > 1 ? ['-P', String(pipeline)] : [])],
    ],
    parse: (out) => {
      const r: Record<string, number> = {};
      // redis-benchmark -q prints "\r"-separated progress; the final lines are "NAME: N requests per second".
      for (const m of out.replace(/\r/g, '\n').matchAll(/^(PING_INLINE|PING_MBULK|SET|GET): ([\d.]+) requests per second/gm)) r[m[1]!] = Number(m[2]);
      return r;
    },
  };
}

export const REDIS = toolSuite({
  name: 'redis',
  description: 'RESP with redis-benchmark (-c 50, ping/set/get, with and without -P 16): ringloop redis vs redis-server',
  requires: [
    { cmd: 'redis-benchmark', install: 'apt-get install redis-tools' },
    { cmd: 'redis-server', install: 'apt-get install redis-server' },
  ],
  contenders: [
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'redis', ...ADDR] },
    { name: 'redis-server', argv: [node, 'dist/perf/peers/redis-server.js'] },
  ],
  workloads: [redisBench('no pipelining', 1), redisBench('pipelined -P 16', 16)],
  subject: 'ringloop',
  peers: ['redis-server'],
  headline: ['pipelined -P 16', 'SET'],
});
