/**
 * Runs an example: `npm run example -- <name> [--addr URL]... [--loops N] [--multicore] [--reuse-port] [--ticker] [--mode M]`.
 * An example may ship a `config.js` exporting `options({ mode })` with extra serve() options and
 * `defaultAddrs`, the addresses it listens on without `--addr` (otherwise tcp://127.0.0.1:9000).
 * Prints exactly one line, `listening <url> [<url>...]` (every bound address, port 0 resolved), on stdout once it accepts, and
 * stops gracefully on SIGINT/SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve, type ServeOptions } from '../lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  const names = fs.readdirSync(here, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  console.error(`usage: npm run example -- <name> [--addr URL]... [--loops N] [--multicore] [--reuse-port] [--ticker] [--mode M]\nexamples: ${names.join(', ')}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.shift();
  if (!name || name.startsWith('-')) usage('missing example name');
  const addrs: string[] = [];
  let opts: ServeOptions = {};
  let mode: string | undefined;
  while (args.length > 0) {
    const a = args.shift()!;
    const value = (): string => {
      const v = args.shift();
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--addr') addrs.push(value());
    else if (a === '--loops') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) usage('--loops needs a positive integer');
      opts.numEventLoop = n;
    } else if (a === '--multicore') opts.multicore = true;
    else if (a === '--reuse-port') opts.reusePort = true;
    else if (a === '--ticker') opts.ticker = true;
    else if (a === '--mode') mode = value();
    else usage(`unknown argument ${a}`);
  }
  const handler = path.join(here, name, 'handler.js');
  if (!fs.existsSync(handler)) usage(`no example named "${name}"`);
  const config = path.join(here, name, 'config.js');
  let defaults = ['tcp://127.0.0.1:9000'];
  if (fs.existsSync(config)) {
    const mod = (await import(pathToFileURL(config).href)) as {
      options(a: { mode?: string }): ServeOptions;
      defaultAddrs?: string[];
    };
    opts = { ...mod.options({ mode }), ...opts };
    if (mod.defaultAddrs) defaults = mod.defaultAddrs;
  }
  if (addrs.length === 0) addrs.push(...defaults);
  if (opts.numEventLoop === undefined && !opts.multicore) opts.multicore = true;
  const engine = await serve(handler, addrs, opts);
  console.log(`listening ${engine.addrs.join(' ')}`);
  const stop = (): void => {
    void engine.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await engine.done;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
