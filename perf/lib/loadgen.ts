import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ListenAddr, Scheme } from './addr.js';
import { repoRoot } from './paths.js';
import { onCpus } from './pin.js';

/** One loadgen per kind of socket: echo_load for streams (TCP, Unix), udp_load for datagrams. */
const LOADGENS: Record<Scheme, { source: string; binary: string }> = {
  tcp: { source: 'perf/loadgen/echo_load.c', binary: 'perf/bin/echo_load' },
  unix: { source: 'perf/loadgen/echo_load.c', binary: 'perf/bin/echo_load' },
  udp: { source: 'perf/loadgen/udp_load.c', binary: 'perf/bin/udp_load' },
};
/** Included by every loadgen, so a change to it rebuilds them all. */
export const LOADGEN_HEADERS = ['perf/loadgen/loadgen_common.h'];

/**
 * echo_load with its TLS client compiled in (`--tls`, `--reconnect`, `--resume`), linked with the
 * system's libssl and libcrypto (Debian: libssl-dev); a binary of its own, so the plain loadgen
 * never needs them.
 */
const TLS_LOADGEN = {
  source: 'perf/loadgen/echo_load.c',
  binary: 'perf/bin/echo_load_tls',
  flags: ['-DECHO_LOAD_TLS', '-lssl', '-lcrypto'],
  hint: 'libssl-dev (perf/setup.sh)',
} as const;

export interface LoadgenOptions {
  /** A unix:// target is passed as `--unix PATH`, the others as `--host --port`. */
  target: ListenAddr;
  conns: number;
  size: number;
  depth: number;
  seconds: number;
  warmup: number;
  /** More flags, e.g. echo_load_tls's `--tls --reconnect`. */
  flags?: readonly string[];
}

/** The error counts every loadgen's result line carries (loadgen_common.h); `errors` is their sum. */
export interface LoadgenErrors {
  errors: number;
  mismatches: number;
  earlyCloses: number;
  connectErrors: number;
  ioErrors: number;
}

/**
 * Round-trip latency percentiles (histogram bucket tops) and maximum (exact) in microseconds, as
 * loadgen_common.h prints them. Null when the loadgen had no samples or predates latency
 * recording (older binaries do not print these keys).
 */
export interface LatencyFigures {
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
}

/** The JSON line echo_load prints; see perf/loadgen/echo_load.c. Latency: over the messages completed after warmup. */
export interface LoadgenResult extends LoadgenErrors, LatencyFigures {
  msgs: number;
  seconds: number;
  msgsPerSec: number;
  bytes: number;
  conns: number;
  size: number;
  depth: number;
  connected: number;
  /**
   * udp_load only (null from echo_load): datagrams not answered within its
   * timeout after warmup (`lost`) and during warmup (`lostWarmup`), and
   * replies that arrived after their datagram was counted lost (`late`).
   */
  lost: number | null;
  lostWarmup: number | null;
  late: number | null;
  /**
   * echo_load_tls only (null otherwise): what the first handshake negotiated, the handshakes
   * completed in the measured window (with `--reconnect` one per message) and how many of them
   * the server resumed.
   */
  tlsProtocol: string | null;
  tlsCipher: string | null;
  tlsHandshakes: number | null;
  tlsResumed: number | null;
}

/** A loadgen run: its parsed result line, exit code and stderr. */
export interface LoadgenRunOf<T> {
  result: T;
  exitCode: number;
  stderr: string;
}

export type LoadgenRun = LoadgenRunOf<LoadgenResult>;

const NUMERIC_KEYS = [
  'msgs', 'seconds', 'msgsPerSec', 'bytes', 'errors', 'conns', 'size', 'depth',
  'connected', 'mismatches', 'earlyCloses', 'connectErrors', 'ioErrors',
] as const satisfies readonly (keyof LoadgenResult)[];

/** Optional keys: absent or null both read as null, anything else must be a number. */
const OPTIONAL_KEYS = [
  'p50Us', 'p99Us', 'p999Us', 'maxUs', 'lost', 'lostWarmup', 'late', 'tlsHandshakes', 'tlsResumed',
] as const satisfies readonly (keyof LoadgenResult)[];

/** Optional string keys: absent or null read as null, anything else must be a string. */
const OPTIONAL_STRING_KEYS = ['tlsProtocol', 'tlsCipher'] as const satisfies readonly (keyof LoadgenResult)[];

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Compiles a one-file C program (under perf/) when its binary is missing or
 * older than its source or any of the headers it includes (`deps`); `flags`
 * go on the compiler's command line after the source (e.g. `-pthread`, `-DX -lssl`), and
 * `hint` says in the error what to install when the build fails.
 */
export function ensureCProgram(source: string, binary: string, log: (msg: string) => void, deps: readonly string[] = [], flags: readonly string[] = [], hint?: string): string {
  const src = join(repoRoot, source);
  const bin = join(repoRoot, binary);
  let srcTime = -Infinity;
  for (const file of [source, ...deps]) {
    const t = mtimeMs(join(repoRoot, file));
    if (t === null) throw new Error(`C source missing: ${join(repoRoot, file)}`);
    srcTime = Math.max(srcTime, t);
  }
  const binTime = mtimeMs(bin);
  if (binTime !== null && binTime >= srcTime) return bin;
  mkdirSync(join(repoRoot, 'perf', 'bin'), { recursive: true });
  const cc = process.env['CC'] ?? 'cc';
  const args = ['-O2', '-o', binary, source, ...flags];
  log(`building: ${cc} ${args.join(' ')}`);
  try {
    execFileSync(cc, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    const needs = hint ? ` (needs ${hint})` : '';
    throw new Error(`failed to build ${source} with '${cc}'${needs}: ${(err as Error).message}`);
  }
  return bin;
}

/** Compiles the loadgen for `scheme` when the binary is missing or older than its sources. */
export function ensureLoadgen(log: (msg: string) => void, scheme: Scheme = 'tcp'): string {
  const { source, binary } = LOADGENS[scheme];
  return ensureCProgram(source, binary, log, LOADGEN_HEADERS);
}

/** Compiles echo_load_tls (TLS over TCP) when missing or older than its sources. */
export function ensureTlsLoadgen(log: (msg: string) => void): string {
  return ensureCProgram(TLS_LOADGEN.source, TLS_LOADGEN.binary, log, LOADGEN_HEADERS, TLS_LOADGEN.flags, TLS_LOADGEN.hint);
}

/**
 * The last line of a loadgen's stdout as a flat JSON object with every `required` key a finite
 * number, every `optional` one a finite number or null and every `optionalStrings` one a string
 * or null (absent reads as null); null when it is anything else, so an incomplete result is
 * never read as zeros.
 */
export function parseResultLine<R extends string, O extends string, S extends string = never>(
  stdout: string, required: readonly R[], optional: readonly O[], optionalStrings: readonly S[] = [],
): (Record<R, number> & Record<O, number | null> & Record<S, string | null>) | null {
  const last = stdout.trim().split('\n').pop();
  if (!last) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const rec = parsed as Record<string, unknown>;
  const out: Record<string, number | null> = {};
  for (const key of required) {
    const v = rec[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    out[key] = v;
  }
  for (const key of optional) {
    const v = rec[key];
    if (v === undefined || v === null) out[key] = null;
    else if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else return null;
  }
  const strings: Record<string, string | null> = {};
  for (const key of optionalStrings) {
    const v = rec[key];
    if (v === undefined || v === null) strings[key] = null;
    else if (typeof v === 'string') strings[key] = v;
    else return null;
  }
  return { ...out, ...strings } as Record<R, number> & Record<O, number | null> & Record<S, string | null>;
}

/** The loadgen's result from its stdout (the last line), or null when that is not a complete result. */
export function parseLoadgenResult(stdout: string): LoadgenResult | null {
  return parseResultLine(stdout, NUMERIC_KEYS, OPTIONAL_KEYS, OPTIONAL_STRING_KEYS);
}

/** The window lines the loadgens print as measurement starts and ends (loadgen_common.h). */
export type WindowMark = 'start' | 'end';

/** How a load phase runs: on which CPUs (null: anywhere), and who hears the window lines. */
export interface LoadgenHooks {
  cpus: readonly number[] | null;
  /** Called synchronously on each `measure start` / `measure end` line, as it arrives. */
  onMark?(mark: WindowMark): void;
}

/** What a loadgen run left: its stdout and stderr, and its exit code (null: killed, or never ran). */
export interface LoadgenOutput {
  stdout: string;
  stderr: string;
  code: number | null;
  error: Error | null;
}

/**
 * Runs a loadgen `argv` on `hooks.cpus`, calling `hooks.onMark` on each `measure start` /
 * `measure end` line as it arrives, and resolves with its output once it has exited (killed
 * after `timeoutMs`). Never rejects: what the output means is the caller's to judge.
 */
export function runMarked(argv: readonly string[], timeoutMs: number, hooks: LoadgenHooks): Promise<LoadgenOutput> {
  const [cmd, ...args] = onCpus(hooks.cpus, argv);
  return new Promise((resolve) => {
    const child = execFile(cmd!, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ stdout, stderr, code, error: err });
    });
    // A second listener next to execFile's own buffering: the marks must be acted on as they
    // come (the server's CPU is sampled then), not after the loadgen has exited.
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const m = /^measure (start|end)$/.exec(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (m) hooks.onMark?.(m[1] as WindowMark);
      }
    });
  });
}

/**
 * A loadgen's run read by `parse`: a non-zero exit with a parsable result is not thrown (errors
 * such as bad bytes or early closes are data the runner must report); no result is.
 */
export async function runParsed<T>(argv: readonly string[], timeoutMs: number, hooks: LoadgenHooks, parse: (stdout: string) => T | null): Promise<LoadgenRunOf<T>> {
  const out = await runMarked(argv, timeoutMs, hooks);
  const result = parse(out.stdout);
  if (result === null) {
    const why = out.error ? out.error.message : 'no JSON result line';
    throw new Error(`loadgen failed: ${why}\n  args: ${argv.slice(1).join(' ')}\n  stderr: ${out.stderr.trim()}`);
  }
  return { result, exitCode: out.code ?? 1, stderr: out.stderr.trim() };
}

/** Runs one load phase of echo_load or udp_load. */
export function runLoadgen(bin: string, o: LoadgenOptions, hooks: LoadgenHooks = { cpus: null }): Promise<LoadgenRun> {
  const target = o.target.scheme === 'unix' ? ['--unix', o.target.path] : ['--host', o.target.host, '--port', String(o.target.port)];
  const args = [
    ...target, '--conns', String(o.conns),
    '--size', String(o.size), '--depth', String(o.depth),
    '--seconds', String(o.seconds), '--warmup', String(o.warmup), ...(o.flags ?? []),
  ];
  // Generous slack over the nominal duration: connects may be retried.
  return runParsed([bin, ...args], (o.seconds + o.warmup + 30) * 1000, hooks, parseLoadgenResult);
}
