// Unix-socket contenders need a path no other server (or earlier trial) holds,
// so a config writes UNIX_SOCKET into its command line and every trial gets a
// fresh path in its place.
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const UNIX_SOCKET = '{unix-socket}';

/** sun_path is 108 bytes on Linux, NUL included. */
const SUN_PATH_MAX = 107;

let made = 0;
/** Paths handed out and not released yet: removed on exit, so an interrupted run leaves none behind. */
const live = new Set<string>();

/**
 * `argv` with UNIX_SOCKET replaced by a new path under os.tmpdir(), and that
 * path; `socketPath` is null when the command line has no placeholder.
 * Give the path back with releaseSocket once its server has stopped.
 */
export function withFreshSocket(argv: readonly string[]): { argv: string[]; socketPath: string | null } {
  if (!argv.some((a) => a.includes(UNIX_SOCKET))) return { argv: [...argv], socketPath: null };
  const socketPath = join(os.tmpdir(), `ringloop-bench-${process.pid}-${++made}.sock`);
  if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
    throw new Error(`unix socket path too long for sun_path (${socketPath}); set TMPDIR to a shorter directory`);
  }
  if (live.size === 0) process.once('exit', removeLiveSockets);
  live.add(socketPath);
  return { argv: argv.map((a) => a.split(UNIX_SOCKET).join(socketPath)), socketPath };
}

/** Removes the socket file (its server should have, but a killed one cannot). */
export function releaseSocket(socketPath: string): void {
  rmSync(socketPath, { force: true });
  live.delete(socketPath);
  if (live.size === 0) process.off('exit', removeLiveSockets);
}

function removeLiveSockets(): void {
  for (const p of live) rmSync(p, { force: true });
  live.clear();
}
