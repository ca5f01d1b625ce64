// The flood suite's load generator, perf/bin/flood_probe (perf/loadgen/flood_probe.c): its
// command line, its result line, and building it on demand like the other loadgens.
import type { ListenAddr } from './addr.js';
import {
  ensureCProgram, LOADGEN_HEADERS, parseResultLine, runParsed,
  type LatencyFigures, type LoadgenErrors, type LoadgenHooks, type LoadgenRunOf,
} from './loadgen.js';

const SOURCE = 'perf/loadgen/flood_probe.c';
const BINARY = 'perf/bin/flood_probe';

/** Compiles flood_probe when the binary is missing or older than its sources (its probe is a thread). */
export function ensureFloodProbe(log: (msg: string) => void): string {
  return ensureCProgram(SOURCE, BINARY, log, LOADGEN_HEADERS, ['-pthread']);
}

export interface FloodProbeOptions {
  target: ListenAddr;
  /** Non-reading clients pipelining `flood`. */
  flooders: number;
  /** The flooders' request, as bytes (passed to the loadgen with C escapes). */
  flood: string;
  /** What the probe sends, and the exact reply it waits for. */
  probe: string;
  reply: string;
  /** The probe's pause between a reply and its next request. */
  everyMs: number;
  seconds: number;
  warmup: number;
}

/** The JSON line flood_probe prints (see perf/loadgen/flood_probe.c); latency: the probe's round trips. */
export interface FloodProbeResult extends LoadgenErrors, LatencyFigures {
  /** The measured window as the probe saw it. */
  seconds: number;
  flooders: number;
  /** Flooders connected (the probe is not counted). */
  connected: number;
  everyMs: number;
  /** Probe round trips in the window, the unanswered one (if any) included. */
  samples: number;
  answered: number;
  /** 1 when the last probe had no reply when the window ended (its wait is a sample). */
  unanswered: number;
  /** That probe's wait (µs), the sample it counts as; null when every probe was answered. */
  unansweredUs: number | null;
  /** Flood bytes that reached the server's sockets during the window. */
  floodBytes: number;
  floodBytesPerSec: number;
  /** Flood bytes still queued in the flooders' send buffers at the window's end. */
  floodQueuedBytes: number;
  floodRequestBytes: number;
}

const REQUIRED = [
  'seconds', 'flooders', 'connected', 'everyMs', 'samples', 'answered', 'unanswered', 'floodBytes',
  'floodBytesPerSec', 'floodQueuedBytes', 'floodRequestBytes', 'errors', 'mismatches', 'earlyCloses',
  'connectErrors', 'ioErrors',
] as const satisfies readonly (keyof FloodProbeResult)[];
const OPTIONAL = ['unansweredUs', 'p50Us', 'p99Us', 'p999Us', 'maxUs'] as const satisfies readonly (keyof FloodProbeResult)[];

/** flood_probe's result from its stdout (the last line), or null when that is not a complete result. */
export function parseFloodProbeResult(stdout: string): FloodProbeResult | null {
  return parseResultLine(stdout, REQUIRED, OPTIONAL);
}

/** Bytes as the loadgen's options take them: C escapes for CR, LF, tab, backslash and the rest of the controls. */
export function cEscape(bytes: string): string {
  return bytes.replace(/[\\\x00-\x1f\x7f-\xff]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\r') return '\\r';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** flood_probe's arguments for `o` (a TCP target). */
export function floodProbeArgs(o: FloodProbeOptions): string[] {
  if (o.target.scheme !== 'tcp') throw new Error(`flood_probe speaks tcp://, not ${o.target.scheme}://`);
  return [
    '--host', o.target.host, '--port', String(o.target.port),
    '--flooders', String(o.flooders), '--flood', cEscape(o.flood),
    '--probe', cEscape(o.probe), '--reply', cEscape(o.reply), '--every-ms', String(o.everyMs),
    '--seconds', String(o.seconds), '--warmup', String(o.warmup),
  ];
}

/** Runs one flood; a non-zero exit with a parsable result is data (the errors), not thrown. */
export function runFloodProbe(bin: string, o: FloodProbeOptions, hooks: LoadgenHooks): Promise<LoadgenRunOf<FloodProbeResult>> {
  return runParsed([bin, ...floodProbeArgs(o)], (o.seconds + o.warmup + 30) * 1000, hooks, parseFloodProbeResult);
}
