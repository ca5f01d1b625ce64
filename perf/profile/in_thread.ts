// Serves an example with its one reactor on the main thread (`node in_thread.js <example>`):
// for the profilers that sample only the main isolate (0x's --prof log, clinic flame), so what
// they sample is the reactor itself. The handler module is imported here and served as a handler
// object (one loop, in-thread). Prints `listening <url>` like examples/run.ts, stops on SIGINT/SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve, type EventHandler, type ServeOptions } from '../../lib/index.js';
import { repoRoot } from '../lib/paths.js';
import { serveUntilSignal } from '../../examples/until_signal.js';

interface ExampleConfig {
  options?(a: { mode?: string; flags: Record<string, string> }): ServeOptions;
}

async function main(): Promise<void> {
  const name = process.argv[2];
  const dir = path.join(repoRoot, 'dist/examples', name ?? '');
  const handlerFile = path.join(dir, 'handler.js');
  if (!name || !fs.existsSync(handlerFile)) throw new Error(`no example named "${name}" (run npm run build first?)`);
  const mod = (await import(pathToFileURL(handlerFile).href)) as { default: EventHandler };
  const configFile = path.join(dir, 'config.js');
  const config = fs.existsSync(configFile) ? ((await import(pathToFileURL(configFile).href)) as ExampleConfig) : undefined;
  const opts: ServeOptions = { ...(config?.options?.({ flags: {} }) ?? {}), numEventLoop: 1, multicore: false };
  const engine = await serve(mod.default, 'tcp://127.0.0.1:0', opts);
  console.log(`listening ${engine.addrs.join(' ')}`);
  await serveUntilSignal(engine);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
