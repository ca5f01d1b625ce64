// Process resource counts used to prove an engine cleans up after itself.
import fs from 'node:fs';
import net from 'node:net';

/** Number of open file descriptors of this process. */
export function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Open fds with what they point to (for failure diagnostics). */
export function fdList() {
  const out = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.push(`${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the fd of the directory listing itself is gone by now
    }
  }
  return out;
}

/** Number of OS threads of this process (main, libuv pool, V8 platform, one per worker). */
export function threadCount() {
  return fs.readdirSync('/proc/self/task').length;
}

/** Active libuv handles/requests of this thread, by kind, without timers (test timeouts). */
export function activeHandles() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout' || kind === 'Immediate') continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

export function snapshot() {
  return { fds: fdCount(), threads: threadCount(), handles: activeHandles() };
}

/**
 * Waits (up to `ms`) until fds and threads are back to at most the baseline: closing fds and
 * joining threads may finish a moment after the promise that reported it.
 */
export async function settleTo(baseline, ms = 3000) {
  const deadline = Date.now() + ms;
  let now = snapshot();
  while ((now.fds > baseline.fds || now.threads > baseline.threads) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    now = snapshot();
  }
  return now;
}

/**
 * Touches the lazily created process-wide resources (libuv thread pool, the native addon, worker
 * bootstrap, libuv's reserve fd) once, so that later before/after comparisons see only what an
 * engine leaves behind.
 */
export async function warmUp(lib, handler) {
  await fs.promises.stat('.');
  // libuv opens a spare fd (/dev/null, for accepting past EMFILE) at the first stream handle of a
  // loop and keeps it. Under tap, stdout is a pipe stream and it exists already; with stdout a file
  // the test's first client socket would open it, and it would count as an fd the engine kept.
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
  const engine = await lib.serve(handler, 'tcp://127.0.0.1:0', { numEventLoop: 2 });
  await engine.stop();
}
