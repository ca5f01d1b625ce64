/** Median of the values, or null when there are none (e.g. every run failed). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] as number;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] as number) + hi) / 2;
}

/** a / b, or null when either side is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

/**
 * Server CPU per message in µs: CPU seconds over a window divided by the messages completed in
 * that same window; null when either is missing or nothing completed.
 */
export function usPerMsg(cpuSeconds: number | null, msgs: number | null): number | null {
  if (cpuSeconds === null || msgs === null || !(msgs > 0)) return null;
  return (cpuSeconds * 1e6) / msgs;
}

/**
 * Share (0..1, a little above 1 with tick jitter) of `cores` cores the server kept busy for
 * `seconds`: near 1 the server is the bottleneck, well below it the load generator is.
 */
export function busyShare(cpuSeconds: number | null, seconds: number | null, cores: number): number | null {
  if (cpuSeconds === null || seconds === null || !(seconds > 0) || cores <= 0) return null;
  return cpuSeconds / (seconds * cores);
}

/**
 * `items` rotated left by `by`: the contenders' order in run `by`, so they alternate within a
 * run and the order rotates between runs, spreading thermal or neighbour noise over all of them.
 */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
