/**
 * The end of every server process started from the command line (the example runner, the
 * profiler's in-thread server, the TLS peers of the bench): stop the engine on SIGINT or SIGTERM,
 * then exit 0, and resolve when it has stopped.
 */
import type { Engine } from '../lib/index.js';

/** Serves until SIGINT or SIGTERM: then `engine.stop()` and exit 0. */
export async function serveUntilSignal(engine: Engine): Promise<void> {
  const stop = (): void => {
    void engine.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await engine.done;
}
