/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * Messages from handlers to the engine's thread (`engine.on('message', (msg, loop) => ...)`).
 * The reactor installs the transport; handlers just call `postToEngine`.
 */
let sink: ((msg: unknown) => void) | undefined;

/** Installed by the reactor hosting the handler. */
export function setEngineSink(fn: ((msg: unknown) => void) | undefined): void {
  sink = fn;
}

/**
 * Sends a structured-cloneable value to the engine (the thread that called `serve`), where it is
 * emitted as `engine.on('message', (msg, loop) => ...)`. Loop-only: call it from handler code.
 */
export function postToEngine(msg: unknown): void {
  if (!sink) throw new Error('postToEngine: not running inside a ringloop reactor');
  sink(msg);
}
