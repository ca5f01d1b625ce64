// Benchmark runner: node dist/perf/bench.js <suite> [--json] [--runs N] [--seconds S]
// Exit codes: 0 all good, 1 a contender failed or the loadgen saw errors, 2 usage.
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './lib/args.js';
import { killAllServers } from './lib/proc.js';
import { chartSavedResults } from './lib/chart-files.js';
import { describePinning, pinSelf, planPinning, requireTaskset, type Pinning } from './lib/pin.js';
import { machineInfo, saveResults } from './lib/report.js';
import { ECHO } from './suites/echo-config.js';
import { OFFLOAD } from './suites/offload-config.js';
import type { Suite } from './suites/suite.js';
import { tcpSuite } from './suites/tcp-suite.js';
import { UDP } from './suites/udp-config.js';
import { UNIX } from './suites/unix-config.js';
import { HTTP, REDIS } from './suites/proto-configs.js';
import { TLS } from './suites/tls-suite.js';
import { FLOOD } from './suites/flood-suite.js';
import { PROXY } from './suites/proxy-suite.js';
import { PUBSUB } from './suites/pubsub-suite.js';

const SUITES: readonly Suite[] = [tcpSuite(ECHO), tcpSuite(OFFLOAD), tcpSuite(UNIX), tcpSuite(UDP), HTTP, REDIS, TLS, FLOOD, PROXY, PUBSUB];

function suiteList(): string {
  return SUITES.map((s) => `  ${s.name.padEnd(8)} ${s.description}`).join('\n');
}

function usageExit(message: string | null): never {
  if (message) process.stderr.write(`bench: ${message}\n\n`);
  process.stderr.write(`${USAGE}\n\nsuites:\n${suiteList()}\n`);
  process.exit(2);
}

function pickSuite(opts: BenchOptions): Suite {
  const suite = SUITES.find((s) => s.name === opts.suite);
  if (!suite) usageExit(`unknown suite '${opts.suite}'; available: ${SUITES.map((s) => s.name).join(', ')}`);
  const unknown = (opts.only ?? []).filter((n) => !suite.contenders.includes(n));
  if (unknown.length > 0) {
    usageExit(`--only: unknown contender(s) ${unknown.join(', ')}; ${suite.name} has: ${suite.contenders.join(', ')}`);
  }
  return suite;
}

// The chart next to the results file. Its lines go to stderr, so that with --json the JSON
// object stays the last stdout line; a chart problem never fails the benchmark.
function drawChart(file: string, json: unknown): void {
  try {
    for (const line of chartSavedResults(file, json)) process.stderr.write(`bench: ${line}\n`);
  } catch (err) {
    process.stderr.write(`bench: chart not drawn: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

// Servers live in their own process groups, so nothing else would stop them
// if we are interrupted mid-trial.
function installCleanup(): void {
  process.on('exit', killAllServers);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllServers();
      process.stderr.write(`bench: interrupted by ${sig}\n`);
      process.exit(130);
    });
  }
}

/**
 * The cores of this invocation, the same for every suite in it: the server's half and the
 * load generator's (which this runner joins); null with --no-pin or on one core.
 */
function setUpPinning(opts: BenchOptions): Pinning | null {
  if (!opts.pin) return null;
  const pinning = planPinning();
  if (pinning === null) {
    process.stderr.write('bench: one CPU only, nothing to pin: server and load generator share it\n');
    return null;
  }
  requireTaskset();
  pinSelf(pinning.loadgen);
  return pinning;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) usageExit(err.message);
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n\nsuites:\n${suiteList()}\n`);
    return 0;
  }
  // No suite: the whole benchmark in one invocation, one results file for all of it.
  const suites = opts.suite === undefined ? SUITES : [pickSuite(opts)];
  installCleanup();
  const pinning = setUpPinning(opts);
  process.stderr.write(`bench: ${describePinning(pinning)}\n`);

  const out: string[] = [];
  const all: Record<string, unknown> = {};
  let failed = false;
  for (const suite of suites) {
    const log = (msg: string): void => void process.stderr.write(`[${suite.name}] ${msg}\n`);
    const outcome = await suite.run({ opts: { ...opts, only: suites.length > 1 ? null : opts.only }, log, pinning });
    out.push(outcome.text);
    const item = (text: string): string => `  - ${text.split('\n').join('\n    ')}`;
    if (outcome.warnings.length > 0) out.push('', 'warnings:', ...outcome.warnings.map(item));
    if (outcome.failures.length > 0) out.push('', 'FAILURES:', ...outcome.failures.map(item));
    failed ||= outcome.failures.length > 0;
    all[suite.name] = outcome.json;
    if (suites.length === 1) {
      const file = saveResults(suite.name, outcome.json);
      drawChart(file, outcome.json);
      out.push('', `results written to ${file}`);
      process.stdout.write(`${out.join('\n')}\n`);
      // Last line, single line: consumers can `tail -n1 | jq`.
      if (opts.json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`);
      return failed ? 1 : 0;
    }
    out.push('');
  }
  // Date, machine and options once for the whole run: the tool suites' own JSON has no date.
  const { runs, seconds, warmup } = opts;
  const json = { suite: 'all', date: new Date().toISOString(), machine: machineInfo(), pinning, config: { runs, seconds, warmup, only: null }, suites: all };
  const file = saveResults('all', json);
  drawChart(file, json);
  out.push(`results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(json)}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killAllServers();
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
