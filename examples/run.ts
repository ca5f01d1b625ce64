/**
 * Runs an example: `npm run example -- <name> [--addr URL]... [--loops N] [--multicore] [--reuse-port] [--ticker] [--mode M]
 * [--tls | --tls-cert FILE --tls-key FILE] [example flags]`. With a TLS flag, `tls://` addresses use that
 * pair (and without --addr the example's default addresses become tls://).
 * An example may ship a `config.js` exporting `options({ mode, flags })` with extra serve() options,
 * `defaultAddrs`, the addresses it listens on without `--addr` (otherwise tcp://127.0.0.1:9000), and
 * `flags`, the example's own flags (name without `--` to a help line), each taking one value that
 * reaches `options` as `flags[name]`.
 * Prints exactly one line, `listening <url> [<url>...]` (every bound address, port 0 resolved), on stdout once it accepts, and
 * stops gracefully on SIGINT/SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve, type ServeOptions } from '../lib/index.js';
import type { FlagValues } from './flags.js';
import { tlsDefaults, tlsFromFlags } from './tls.js';
import { serveUntilSignal } from './until_signal.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** What an example's config.js may export. */
interface ExampleConfig {
  options(a: { mode?: string; flags: FlagValues }): ServeOptions;
  defaultAddrs?: string[];
  flags?: Readonly<Record<string, string>>;
  /** Flags that may be given more than once: their values reach `options` joined by '\n'. */
  repeatable?: readonly string[];
}

const COMMON = '[--addr URL]... [--loops N] [--multicore] [--reuse-port] [--ticker] [--mode M] [--tls | --tls-cert FILE --tls-key FILE]';

function usage(msg?: string, config?: ExampleConfig, name?: string): never {
  if (msg) console.error(`error: ${msg}`);
  const names = fs.readdirSync(here, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const own = Object.entries(config?.flags ?? {});
  if (own.length > 0) {
    console.error(`usage: npm run example -- ${name} ${COMMON} ${own.map(([f]) => `[--${f} V]`).join(' ')}`);
    for (const [f, help] of own) console.error(`  --${f}: ${help}`);
  } else {
    console.error(`usage: npm run example -- <name> ${COMMON}\nexamples: ${names.join(', ')}`);
  }
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.shift();
  if (!name || name.startsWith('-')) usage('missing example name');
  const handler = path.join(here, name, 'handler.js');
  if (!fs.existsSync(handler)) usage(`no example named "${name}"`);
  const configFile = path.join(here, name, 'config.js');
  const config = fs.existsSync(configFile) ? ((await import(pathToFileURL(configFile).href)) as ExampleConfig) : undefined;
  const addrs: string[] = [];
  let opts: ServeOptions = {};
  let mode: string | undefined;
  const flags: Record<string, string> = {};
  const tlsFlags: { tls: boolean; cert?: string; key?: string } = { tls: false };
  while (args.length > 0) {
    const a = args.shift()!;
    const value = (): string => {
      const v = args.shift();
      if (v === undefined) usage(`${a} needs a value`, config, name);
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
    else if (a === '--tls') tlsFlags.tls = true;
    else if (a === '--tls-cert') tlsFlags.cert = value();
    else if (a === '--tls-key') tlsFlags.key = value();
    else if (a.startsWith('--') && config?.flags && Object.hasOwn(config.flags, a.slice(2))) {
      const k = a.slice(2);
      const v = value();
      flags[k] = flags[k] !== undefined && config.repeatable?.includes(k) ? `${flags[k]}\n${v}` : v;
    }
    else usage(`unknown argument ${a}`, config, name);
  }
  let defaults = ['tcp://127.0.0.1:9000'];
  if (config) {
    let extra: ServeOptions;
    try {
      extra = config.options({ mode, flags });
    } catch (e) {
      usage(e instanceof Error ? e.message : String(e), config, name);
    }
    opts = { ...extra, ...opts };
    if (config.defaultAddrs) defaults = config.defaultAddrs;
  }
  let tls;
  try {
    tls = tlsFromFlags(tlsFlags);
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e), config, name);
  }
  if (tls) opts.tls = tls;
  if (addrs.length === 0) addrs.push(...(tls ? tlsDefaults(defaults) : defaults));
  if (opts.numEventLoop === undefined && !opts.multicore) opts.multicore = true;
  const engine = await serve(handler, addrs, opts);
  console.log(`listening ${engine.addrs.join(' ')}`);
  await serveUntilSignal(engine);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
