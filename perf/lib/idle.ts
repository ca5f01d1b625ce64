import { machineTicks } from './cpu.js';

/** Background load above this share of all CPUs makes results suspect. */
export const BUSY_WARN = 0.1;

/**
 * Fraction (0..1) of all CPUs busy over `ms`. On a 2-core box a concurrent
 * compile halves what the contenders get, so the runner warns about it
 * rather than silently reporting skewed numbers.
 */
export async function machineBusyFraction(ms = 1000): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}
