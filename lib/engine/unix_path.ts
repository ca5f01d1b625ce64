/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * Unix socket paths before binding. A socket file left by a crashed process is removed (nobody
 * accepts on it: a connect is refused) and the path reused; a live server's socket is never taken
 * over, and a path that is not a socket is never deleted.
 */
import fs from 'node:fs';
import net from 'node:net';

function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (r: 'live' | 'stale'): void => {
      s.destroy();
      resolve(r);
    };
    s.once('connect', () => done('live'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'stale' : 'live'));
    s.setTimeout(1000, () => done('live'));
  });
}

/** Makes `path` bindable or throws a clear error (EADDRINUSE for a live server). */
export async function prepareUnixPath(path: string, input: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) {
    throw Object.assign(new Error(`cannot listen on ${input}: ${path} exists and is not a socket`), { code: 'EEXIST' });
  }
  if ((await probe(path)) === 'live') {
    throw Object.assign(new Error(`cannot listen on ${input}: a server is accepting on ${path} (EADDRINUSE)`), {
      code: 'EADDRINUSE',
    });
  }
  fs.rmSync(path, { force: true });
}
