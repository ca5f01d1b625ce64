// Engine helpers: load the built library, start an engine for a test, collect handler messages.
import { portOf, withTimeout } from './net.mjs';

export { portOf };

/** The package entry, as built by `npm run build`. */
export const LIB_URL = new URL('../../dist/lib/index.js', import.meta.url);
export const lib = await import(LIB_URL.href);

/** URL of a handler module in test/fixtures. */
export function fixture(name) {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

/** The default for every test: two reactors on 127.0.0.1 with a random port. */
export const ADDR = 'tcp://127.0.0.1:0';
export const LOOPS = 2;

/**
 * Starts an engine and stops it in `t.teardown`. Resolves with
 * `{ engine, port, messages }`; `messages` is a MessageLog attached as soon as serve resolved.
 */
export async function start(t, handler, options = {}, addr = ADDR) {
  const engine = await lib.serve(handler, addr, { numEventLoop: LOOPS, ...options });
  const messages = new MessageLog(engine);
  t.teardown(() => withTimeout(engine.stop({ timeout: 5000 }), 15000, 'engine.stop in teardown'));
  return { engine, port: portOf(engine.addrs[0]), messages };
}

/**
 * Records `engine.on('message', (msg, loop) => …)` as entries `{ msg, loop }` and lets a test wait
 * for the ones it expects.
 */
export class MessageLog {
  constructor(engine) {
    this.entries = [];
    this.waiters = new Set();
    engine.on('message', (msg, loop) => {
      this.entries.push({ msg, loop });
      for (const w of [...this.waiters]) w();
    });
  }

  /** Messages (payloads only) matching `pred`. */
  filter(pred = () => true) {
    return this.entries.filter((e) => pred(e.msg, e.loop)).map((e) => e.msg);
  }

  /** Waits until at least `n` messages match `pred`; resolves with the first `n` of them. */
  waitForCount(pred, n, ms = 5000, label = 'messages') {
    return new Promise((resolve, reject) => {
      const w = () => {
        const got = this.filter(pred);
        if (got.length >= n) {
          this.waiters.delete(w);
          clearTimeout(timer);
          resolve(got.slice(0, n));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(
          new Error(
            `waiting for ${n} ${label}: got ${this.filter(pred).length} after ${ms} ms ` +
              `(all messages so far: ${JSON.stringify(this.entries.slice(-20))})`,
          ),
        );
      }, ms);
      this.waiters.add(w);
      w();
    });
  }

  /** Waits for the first message matching `pred`. */
  async waitFor(pred, ms = 5000, label = 'message') {
    const [m] = await this.waitForCount(pred, 1, ms, label);
    return m;
  }
}

/**
 * Polls `fn` until it returns a truthy value or `ms` elapses; returns the last value. For state with
 * no event to wait for (counters, fds); the bound is generous since it only matters on failure
 * (a reactor thread's exit or close can take seconds on a loaded machine).
 */
export async function poll(fn, ms = 10000, every = 20) {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!v && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, every));
    v = await fn();
  }
  return v;
}
