/** Defaults for the unix-echo example (read by examples/run.ts). */
import os from 'node:os';
import path from 'node:path';

/** Used when no --addr is given. A stale socket file left by a crashed server is replaced; a live one is refused. */
export const defaultAddrs = [`unix://${path.join(os.tmpdir(), 'ringloop-echo.sock')}`];

export function options(): Record<string, never> {
  return {};
}
