import { parseArgs } from 'node:util';

export interface BenchOptions {
  suite: string | undefined;
  json: boolean;
  runs: number;
  seconds: number;
  warmup: number;
  /** Contender names to keep, or null for all of them. */
  only: string[] | null;
  /** Pin the server and the load generator to separate cores (false: --no-pin). */
  pin: boolean;
  help: boolean;
}

/** Thrown for bad command lines; the runner turns it into exit code 2. */
export class UsageError extends Error {}

export const USAGE = `usage: node dist/perf/bench.js [suite] [options]   (or: npm run bench -- [suite] [options]; no suite: all of them)

options:
  --json            also print the results as one JSON object on the last stdout line
  --runs N          runs per workload and contender; medians are reported (default 3)
  --seconds S       measured seconds per run (default 5)
  --warmup S        unmeasured seconds before each measurement (default 1)
  --only a,b        run only these contenders, e.g. --only node:net,node:cluster
                    (useful while ringloop itself is not built)
  --no-pin          do not pin: server and load generator share every core (by default
                    the server runs on one half of the cores, the load generator on the other)
  -h, --help        show this help`;

function positive(name: string, raw: string | undefined, fallback: number, opts: { integer?: boolean; zero?: boolean } = {}): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const ok = Number.isFinite(n) && (opts.zero ? n >= 0 : n > 0) && (!opts.integer || Number.isInteger(n));
  if (!ok) throw new UsageError(`--${name} must be a ${opts.integer ? 'positive integer' : 'positive number'}, got '${raw}'`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        runs: { type: 'string' },
        seconds: { type: 'string' },
        warmup: { type: 'string' },
        only: { type: 'string' },
        'no-pin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected one suite, got: ${positionals.join(' ')}`);
  const only = values.only === undefined
    ? null
    : values.only.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (only !== null && only.length === 0) throw new UsageError('--only needs at least one contender name');
  return {
    suite: positionals[0],
    json: values.json ?? false,
    runs: positive('runs', values.runs, 3, { integer: true }),
    seconds: positive('seconds', values.seconds, 5),
    warmup: positive('warmup', values.warmup, 1, { zero: true }),
    only,
    pin: !(values['no-pin'] ?? false),
    help: values.help ?? false,
  };
}
