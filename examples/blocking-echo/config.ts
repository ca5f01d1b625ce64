/** serve() options for the blocking-echo example (read by examples/run.ts). */
import type { ServeOptions } from '../../lib/index.js';

export function options(args: { mode?: string }): ServeOptions {
  const mode = args.mode === 'async' || args.mode === 'trivial' ? args.mode : 'block';
  if (mode === 'trivial') {
    // Two threads, kept: the node:net + piscina peer of the offload benchmark uses the same pool.
    return {
      handlerOptions: { mode },
      pool: { filename: new URL('./handler.js', import.meta.url), minThreads: 2, maxThreads: 2 },
    };
  }
  return {
    handlerOptions: { mode },
    pool: {
      filename: new URL('./handler.js', import.meta.url),
      maxThreads: 8,
      minThreads: 8,
      // Awaiting jobs share threads; blocking ones cannot.
      concurrentTasksPerWorker: mode === 'async' ? 256 : 1,
    },
  };
}
