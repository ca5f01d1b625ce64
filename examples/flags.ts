/**
 * Parsing of the examples' own command-line flags (the ones a `config.ts` declares in `flags`;
 * examples/run.ts collects their values). Each helper throws an Error that says what the flag
 * wants, which run.ts prints with the usage line.
 */

/** The values given on the command line, by flag name without its `--`. */
export type FlagValues = Readonly<Record<string, string>>;

/** Largest duration the engine's timers take (serve's `idleTimeout` is at most 2^31 - 1 ms). */
const MAX_MS = 2 ** 31 - 1;

/**
 * A duration flag given in seconds (fractions allowed, as in `--header-timeout 0.5`), returned in
 * milliseconds; 0 means off. Seconds, because that is how redis (`timeout`) and nginx
 * (`client_header_timeout`) spell these settings.
 */
export function secondsFlag(flags: FlagValues, name: string, defaultSeconds: number): number {
  const v = flags[name];
  if (v === undefined) return Math.round(defaultSeconds * 1000);
  const n = Number(v);
  const ms = Math.round(n * 1000);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || ms > MAX_MS) {
    throw new Error(`--${name} needs a number of seconds from 0 (off) to ${Math.floor(MAX_MS / 1000)}, got "${v}"`);
  }
  return ms;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size flag in bytes, with an optional `kb`/`mb`/`gb` suffix (powers of 1024, as redis reads them); 0 means no limit. */
export function bytesFlag(flags: FlagValues, name: string, defaultBytes: number): number {
  const v = flags[name];
  if (v === undefined) return defaultBytes;
  const m = /^(\d+)\s*([kmg]?b?)$/i.exec(v.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} needs a size in bytes, optionally with kb, mb or gb (0 = no limit), got "${v}"`);
  return n;
}
