// The protocol suites: HTTP/1.1 with wrk, RESP with redis-benchmark.
import { ensureUws } from '../lib/uws.js';
import type { ServerSpec } from '../lib/trial.js';
import { toolSuite, type Requirement, type ToolRun, type ToolWorkload } from './tool-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];

/**
 * wrk's summary: requests/sec over the requests it counted. Throws when wrk saw bad responses or
 * connect, read or write errors; timeouts (no answer within wrk's 2 s) are slow, not wrong: a note.
 *
 * With `closing` (requests sent with `Connection: close`), read errors up to one per request
 * are a note too: a server that closes after answering but leaves `Connection: close` out of
 * its response (uWebSockets.js does) makes wrk send its next request on the closed connection
 * and count a read error before it reconnects; the requests it counted are still answered ones.
 * More read errors than requests are still an error.
 */
export function parseWrk(out: string, closing = false): ToolRun | null {
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx && Number(non2xx[1]) > 0) throw new Error(`wrk saw errors: ${non2xx[0]}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const requests = /^\s*(\d+) requests in /m.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const [connect, read, write, timeouts] = (sock?.slice(1, 5) ?? []).map(Number);
  const unsaid = closing && requests !== null && (read ?? 0) <= Number(requests[1]) ? (read ?? 0) : 0;
  if (sock && ((connect ?? 0) > 0 || (read ?? 0) > unsaid || (write ?? 0) > 0)) throw new Error(`wrk saw errors: ${sock[0]}`);
  if (!rps || !requests) return null;
  const notes = [
    ...((timeouts ?? 0) > 0 ? [`wrk: ${timeouts} requests timed out (no answer within 2 s)`] : []),
    ...(unsaid > 0 ? [`wrk: ${unsaid} read errors on ${requests[1]} requests: the server closed after answering without saying \`Connection: close\`, so wrk's next request on that connection failed before it reconnected`] : []),
  ];
  return { rps: Number(rps[1]), requests: Number(requests[1]), ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
}

/** wrk takes whole seconds only (`-d 0.5s` is a usage error): rounded up, at least 1. */
export function wrkSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/** How wrk is run beyond its pipelining depth; the defaults are the http suite's. */
export interface WrkOptions {
  scheme?: 'http' | 'https';
  threads?: number;
  /** Request headers, e.g. `Connection: close`. */
  headers?: readonly string[];
  metric?: string;
  connectionPerRequest?: boolean;
}

export function wrk(name: string, pipeline: number, o: WrkOptions = {}): ToolWorkload {
  const headers = (o.headers ?? []).flatMap((h) => ['-H', h]);
  return {
    name,
    metric: o.metric ?? 'GET /',
    command: (port, seconds) => [
      'wrk',
      [
        '-c', '100', '-t', String(o.threads ?? 2), '-d', `${wrkSeconds(seconds)}s`, ...headers,
        ...(pipeline > 1 ? ['-s', 'examples/http/wrk-pipeline.lua'] : []),
        `${o.scheme ?? 'http'}://127.0.0.1:${port}/`, ...(pipeline > 1 ? ['--', String(pipeline)] : []),
      ],
    ],
    parse: (out) => parseWrk(out, o.connectionPerRequest === true),
    ...(o.connectionPerRequest ? { connectionPerRequest: true } : {}),
  };
}

export const HTTP = toolSuite({
  name: 'http',
  description: 'HTTP/1.1 GET / with wrk (100 conns): ringloop http vs node:http vs node:cluster(2) vs uWebSockets.js (optional)',
  requires: [{ cmd: 'wrk', install: 'apt-get install wrk' }],
  contenders: [
    // One reactor per core the server may use, as in the echo suite (echo-config.ts).
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'http', ...ADDR, '--multicore'] },
    { name: 'node:http', argv: [node, 'dist/perf/peers/http-node.js', ...ADDR] },
    { name: 'node:cluster', argv: [node, 'dist/perf/peers/http-node.js', ...ADDR, '--cluster', '2'] },
    // Installed on demand into perf/.peers; skipped, saying why, when it cannot be.
    { name: 'uws', argv: [node, 'dist/perf/peers/http-uws.js', ...ADDR], prepare: ensureUws },
  ],
  workloads: [wrk('plain', 1), wrk('pipelined x16', 16)],
  subject: 'ringloop',
  peers: ['node:http', 'node:cluster', 'uws'],
  headline: ['plain', 'GET /'],
});

/** redis-benchmark's report of one test (without -q): the requests it completed and its throughput. */
export function parseRedisBenchmark(out: string): ToolRun | null {
  const text = out.replace(/\r/g, '\n');
  const requests = /^\s*(\d+) requests completed in /m.exec(text);
  // Redis 7 prints "throughput summary: N requests per second"; older ones "N requests per second".
  const rps = /throughput summary: ([\d.]+) requests per second/.exec(text) ?? /^\s*([\d.]+) requests per second/m.exec(text);
  return rps && requests ? { rps: Number(rps[1]), requests: Number(requests[1]) } : null;
}

/** The tests measured, in redis-benchmark's names (each runs alone, so its CPU is its own). */
const REDIS_TESTS = ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'MSET'] as const;

/** One workload per test: `redis-benchmark -t <test>`, 50 clients, with `-P pipeline` above 1. */
export function redisBench(name: string, pipeline: number): ToolWorkload[] {
  return REDIS_TESTS.map((test) => ({
    name,
    metric: test,
    command: (port, seconds) => [
      'redis-benchmark',
      ['-p', String(port), '-t', test.toLowerCase(), '-c', '50', '-n', String(Math.max(1000, Math.round(seconds * (pipeline > 1 ? 300000 : 30000)))), ...(pipeline > 1 ? ['-P', String(pipeline)] : [])],
    ],
    parse: parseRedisBenchmark,
  }));
}

/** The system's redis-server (no persistence) behind peers/redis-server.ts; the flood suite's peer too. */
export const REDIS_SERVER = { name: 'redis-server', argv: [node, 'dist/perf/peers/redis-server.js'] } as const satisfies ServerSpec;
export const REDIS_SERVER_REQUIRED = { cmd: 'redis-server', install: 'apt-get install redis-server' } as const satisfies Requirement;

export const REDIS = toolSuite({
  name: 'redis',
  description: 'RESP with redis-benchmark (-c 50, ping/set/get/incr/lpush/mset, with and without -P 16): ringloop redis vs redis-server',
  requires: [{ cmd: 'redis-benchmark', install: 'apt-get install redis-tools' }, REDIS_SERVER_REQUIRED],
  contenders: [{ name: 'ringloop', argv: [node, 'dist/examples/run.js', 'redis', ...ADDR] }, REDIS_SERVER],
  workloads: [...redisBench('no pipelining', 1), ...redisBench('pipelined -P 16', 16)],
  subject: 'ringloop',
  peers: ['redis-server'],
  headline: ['pipelined -P 16', 'SET'],
});
