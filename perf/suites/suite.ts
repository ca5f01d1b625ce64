import type { BenchOptions } from '../lib/args.js';
import type { Pinning } from '../lib/pin.js';

export interface SuiteContext {
  opts: BenchOptions;
  /** Where servers and load generators run (the same for every suite of one invocation); null: --no-pin. */
  pinning: Pinning | null;
  /** Progress goes to stderr so stdout stays table + (optionally) JSON. */
  log(msg: string): void;
}

export interface SuiteOutcome {
  /** Human-readable report for stdout. */
  text: string;
  /** Saved to perf/results and, with --json, printed as the last line. */
  json: Record<string, unknown>;
  /** Problems that make the run untrustworthy; any of them means exit 1. */
  failures: string[];
  warnings: string[];
}

export interface Suite {
  name: string;
  description: string;
  contenders: readonly string[];
  run(ctx: SuiteContext): Promise<SuiteOutcome>;
}
