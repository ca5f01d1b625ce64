/** Defaults for the udp-echo example (read by examples/run.ts). */

/** Used when no --addr is given. */
export const defaultAddrs = ['udp://127.0.0.1:9000'];

export function options(): Record<string, never> {
  return {};
}
