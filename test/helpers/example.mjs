// Running an example the way a user does: `node dist/examples/run.js <name> [flags]` in a child
// process (what `npm run example -- <name>` runs), on a random loopback port.
import { spawn } from 'node:child_process';
import { once, portOf, withTimeout } from './net.mjs';

const RUN = new URL('../../dist/examples/run.js', import.meta.url).pathname;

/**
 * Starts example `name` with `args` (after `--addr tcp://127.0.0.1:0`), resolves once it printed
 * its `listening <url>` line with `{ port, child, output }` (`output()`: stdout and stderr so far).
 * `t.teardown` stops it with SIGTERM (SIGKILL if it has not exited 10 s later).
 */
export async function startExample(t, name, args = [], { timeout = 20000 } = {}) {
  // Without the test runner's preloads (NODE_OPTIONS): the reactors would load them too.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const child = spawn(process.execPath, [RUN, name, '--addr', 'tcp://127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(killer);
  });
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      const check = () => {
        const m = /^listening (\S+)/m.exec(out);
        if (m) {
          child.stdout.off('data', check);
          resolve(portOf(m[1]));
        }
      };
      child.stdout.on('data', check);
      exited.then(({ code, signal }) => reject(new Error(`example ${name} exited (${code ?? signal}) before listening: ${out}`)));
    }),
    timeout,
    `example ${name} start`,
  );
  return { port, child, output: () => out };
}

/** Runs example `name` with `args` expecting it to exit by itself; resolves with `{ code, output }`. */
export async function runExample(name, args, ms = 20000) {
  const env = { ...process.env, NODE_OPTIONS: '' };
  const child = spawn(process.execPath, [RUN, name, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const [code] = await once(child, 'exit', ms);
    return { code, output: out };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
