// The pubsub suite: one publisher, many subscribers, every delivery verified by
// perf/loadgen/pubsub_load.c (sequence numbers per topic, publish -> delivery latency).
// Two pairs, each in the same run: ringloop's redis example vs redis-server (PUBLISH/SUBSCRIBE),
// and the chat example vs a node:net fan-out server (perf/peers/net-fanout.ts). The rate is
// delivered messages per second; CPU per message is the server's CPU over the tool's whole run
// (connecting and subscribing included) over the messages delivered in its measured window.
import { ensureCProgram } from '../lib/loadgen.js';
import type { Suite, SuiteContext, SuiteOutcome } from './suite.js';
import { REDIS_SERVER, REDIS_SERVER_REQUIRED } from './proto-configs.js';
import { toolSuite, type ToolRun, type ToolWorkload } from './tool-suite.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];
const SOURCE = 'perf/loadgen/pubsub_load.c';
const BINARY = 'perf/bin/pubsub_load';
/** Deliveries in flight at most (the publisher waits below it): 16 messages to 1000 subscribers. */
const WINDOW = 16000;

/** pubsub_load's JSON line: delivered messages and their rate; throws when it saw a wrong or missing one. */
export function parsePubsubLoad(out: string): ToolRun | null {
  const last = out.trim().split('\n').pop() ?? '';
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(last) as Record<string, unknown>;
  } catch {
    return null;
  }
  const num = (k: string): number | null => (typeof j[k] === 'number' && Number.isFinite(j[k]) ? (j[k] as number) : null);
  const errors = num('errors');
  if (errors === null || num('deliveredPerSec') === null || num('delivered') === null) return null;
  if (errors > 0) throw new Error(`pubsub_load saw errors: ${last}`);
  return { rps: num('deliveredPerSec')!, requests: num('delivered')!, p99Us: num('p99Us') ?? undefined };
}

function load(name: string, metric: string, mode: 'resp' | 'line', subs: number, topics: number): ToolWorkload {
  return {
    name,
    metric,
    command: (port, seconds) => [
      BINARY,
      ['--port', String(port), '--mode', mode, '--subs', String(subs), '--topics', String(topics), '--seconds', String(Math.max(1, Math.round(seconds))), '--window', String(WINDOW)],
    ],
    parse: parsePubsubLoad,
  };
}

const REDIS_PUBSUB = toolSuite({
  name: 'pubsub',
  description: 'redis PUBLISH/SUBSCRIBE',
  requires: [REDIS_SERVER_REQUIRED],
  contenders: [{ name: 'ringloop', argv: [node, 'dist/examples/run.js', 'redis', ...ADDR] }, REDIS_SERVER],
  workloads: [load('1 topic x 1000 subs', 'PUBLISH', 'resp', 1000, 1), load('100 topics x 10 subs', 'PUBLISH', 'resp', 1000, 100)],
  subject: 'ringloop',
  peers: ['redis-server'],
  headline: ['1 topic x 1000 subs', 'PUBLISH'],
  targets: [{ peer: 'redis-server', minRatio: 1.0 }],
  latency: true,
});

const CHAT_PUBSUB = toolSuite({
  name: 'pubsub',
  description: 'line chat',
  requires: [],
  contenders: [
    { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'chat', ...ADDR, '--loops', '1'] },
    { name: 'node:net', argv: [node, 'dist/perf/peers/net-fanout.js', ...ADDR] },
  ],
  workloads: [load('1 room x 1000 clients', 'line', 'line', 1000, 1)],
  subject: 'ringloop',
  peers: ['node:net'],
  headline: ['1 room x 1000 clients', 'line'],
  targets: [{ peer: 'node:net', minRatio: 3.0 }],
  latency: true,
});

export const PUBSUB: Suite = {
  name: 'pubsub',
  description: 'fan-out, 1 publisher: redis example vs redis-server (1000 subs; 100 topics x 10), chat example vs node:net (1000 clients); delivered msgs/s, verified',
  contenders: ['ringloop', 'redis-server', 'node:net'],
  async run(ctx: SuiteContext): Promise<SuiteOutcome> {
    ensureCProgram(SOURCE, BINARY, ctx.log);
    const redis = await REDIS_PUBSUB.run({ ...ctx, opts: { ...ctx.opts, only: ctx.opts.only?.filter((n) => REDIS_PUBSUB.contenders.includes(n)) ?? null } });
    const chat = await CHAT_PUBSUB.run({ ...ctx, opts: { ...ctx.opts, only: ctx.opts.only?.filter((n) => CHAT_PUBSUB.contenders.includes(n)) ?? null } });
    return {
      text: `== redis PUBLISH/SUBSCRIBE: ringloop's redis example vs redis-server\n${redis.text}\n== line chat: the chat example vs node:net fan-out\n${chat.text}`,
      json: {
        suite: 'pubsub',
        date: new Date().toISOString(),
        ok: redis.failures.length + chat.failures.length === 0,
        redis: redis.json,
        chat: chat.json,
        failures: [...redis.failures, ...chat.failures],
        warnings: [...redis.warnings, ...chat.warnings],
      },
      failures: [...redis.failures, ...chat.failures],
      warnings: [...redis.warnings, ...chat.warnings],
    };
  },
};
