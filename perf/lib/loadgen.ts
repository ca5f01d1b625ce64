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
const LOADGEN_HEADERS = ['perf/loadgen/loadgen_common.h'];

/**
 * echo_load with its TLS client compiled in (`--tls`, `--reconnect`, `--resume`), linked with the
 * system's libssl and libcrypto (Debian: libssl-dev); a binary of its own, so the plain loadgen
 * never needs them.
 */
const TLS_LOADGEN = {
  source: 'perf/loadgen/echo_load.c',
  binary: 'perf/bin/echo_load_tls',
  build: { defines: ['-DECHO_LOAD_TLS'], libs: ['-lssl', '-lcrypto'], hint: 'libssl-dev (perf/setup.sh)' },
} as const;

/** How a C program is compiled beyond `cc -O2 -o binary source`. */
export interface CBuild {
  /** Before the source, e.g. `-DX`. */
  defines?: readonly string[];
  /** After the source, e.g. `-lssl`. */
  libs?: readonly string[];
  /** What to install when the build fails, for the error message. */
  hint?: string;
}

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

/** The JSON line echo_load prints; see perf/loadgen/echo_load.c. */
export interface LoadgenResult {
  msgs: number;
  seconds: number;
  msgsPerSec: number;
  bytes: number;
  errors: number;
  conns: number;
  size: number;
  depth: number;
  connected: number;
  mismatches: number;
  earlyCloses: number;
  connectErrors: number;
  ioErrors: number;
  /**
   * Round-trip latency percentiles and maximum in microseconds over the
   * messages completed after warmup. Null when the loadgen had no samples or
   * predates latency recording (older binaries do not print these keys).
   */
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
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

export interface LoadgenRun {
  result: LoadgenResult;
  exitCode: number;
  stderr: string;
}

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
 * older than its source or any of the headers it includes (`deps`).
 */
export function ensureCProgram(source: string, binary: string, log: (msg: string) => void, deps: readonly string[] = [], build: CBuild = {}): string {
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
  const args = ['-O2', ...(build.defines ?? []), '-o', binary, source, ...(build.libs ?? [])];
  log(`building: ${cc} ${args.join(' ')}`);
  try {
    execFileSync(cc, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    const hint = build.hint ? ` (needs ${build.hint})` : '';
    throw new Error(`failed to build ${source} with '${cc}'${hint}: ${(err as Error).message}`);
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
  return ensureCProgram(TLS_LOADGEN.source, TLS_LOADGEN.binary, log, LOADGEN_HEADERS, TLS_LOADGEN.build);
}

/** The loadgen's result from its stdout (the last line), or null when that is not a complete result. */
export function parseLoadgenResult(stdout: string): LoadgenResult | null {
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
  const out: Partial<Record<keyof LoadgenResult, number | null>> = {};
  for (const key of NUMERIC_KEYS) {
    const v = rec[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    out[key] = v;
  }
  for (const key of OPTIONAL_KEYS) {
    const v = rec[key];
    if (v === undefined || v === null) out[key] = null;
    else if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else return null;
  }
  const strings: Partial<Record<keyof LoadgenResult, string | null>> = {};
  for (const key of OPTIONAL_STRING_KEYS) {
    const v = rec[key];
    if (v === undefined || v === null) strings[key] = null;
    else if (typeof v === 'string') strings[key] = v;
    else return null;
  }
  return { ...out, ...strings } as LoadgenResult;
}

/** The window lines the loadgens print as measurement starts and ends (loadgen_common.h). */
export type WindowMark = 'start' | 'end';

/** How a load phase runs: on which CPUs (null: anywhere), and who hears the window lines. */
export interface LoadgenHooks {
  cpus: readonly number[] | null;
  /** Called synchronously on each `measure start` / `measure end` line, as it arrives. */
  onMark?(mark: WindowMark): void;
}

/**
 * Runs one load phase. A non-zero exit with a parsable result is not thrown:
 * errors (bad bytes, early closes) are data the runner must report.
 */
export function runLoadgen(bin: string, o: LoadgenOptions, hooks: LoadgenHooks = { cpus: null }): Promise<LoadgenRun> {
  const target = o.target.scheme === 'unix' ? ['--unix', o.target.path] : ['--host', o.target.host, '--port', String(o.target.port)];
  const args = [
    ...target, '--conns', String(o.conns),
    '--size', String(o.size), '--depth', String(o.depth),
    '--seconds', String(o.seconds), '--warmup', String(o.warmup), ...(o.flags ?? []),
  ];
  const [cmd, ...argv] = onCpus(hooks.cpus, [bin, ...args]);
  // Generous slack over the nominal duration: connects may be retried.
  const timeout = (o.seconds + o.warmup + 30) * 1000;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd!, argv, { timeout, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const result = parseLoadgenResult(stdout);
      if (result === null) {
        const why = err ? err.message : 'no JSON result line';
        reject(new Error(`loadgen failed: ${why}\n  args: ${args.join(' ')}\n  stderr: ${stderr.trim()}`));
        return;
      }
      const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
      resolve({ result, exitCode: code, stderr: stderr.trim() });
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
