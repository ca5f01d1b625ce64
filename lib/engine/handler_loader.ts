// Engine wing: runs on the engine's (main) thread, which checks the handler module before it
// starts reactors; each reactor worker then loads it with this same function.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EventHandler, InitInfo } from '../handler.js';
import { HANDLER_EVENTS, checkEvents, handlerExport } from './handler_check.js';

/** Turns a path (relative to the working directory) or URL into a file URL; checks that it exists. */
export function resolveHandlerUrl(spec: string | URL): string {
  let url: URL;
  if (spec instanceof URL) url = spec;
  else if (typeof spec === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) url = new URL(spec);
  else if (typeof spec === 'string') url = pathToFileURL(path.resolve(spec));
  else throw new TypeError(`handler must be a module path, a URL or a handler object, got ${typeof spec}`);
  if (url.protocol === 'file:') {
    const file = fileURLToPath(url);
    if (!fs.existsSync(file)) throw new Error(`handler module not found: ${file}`);
  }
  return url.href;
}

function isHandler(v: unknown): v is EventHandler {
  return typeof v === 'object' && v !== null;
}

/** Imports the module and builds its handler (calling a factory default export with `info`). */
export async function loadHandler(url: string, info: InitInfo): Promise<EventHandler> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // `cause` keeps the module's own error, with its stack (the user's file and line).
    throw new Error(`handler module ${url} failed to load: ${msg}`, { cause: e });
  }
  return buildHandler(handlerExport(mod, url), url, info);
}

export async function buildHandler(exp: unknown, where: string, info: InitInfo): Promise<EventHandler> {
  let h: unknown = exp;
  if (typeof exp === 'function') {
    try {
      h = await (exp as (i: InitInfo) => unknown)(info);
    } catch (e) {
      throw new Error(`handler factory in ${where} threw: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  if (!isHandler(h)) throw new TypeError(`handler module ${where} must export (default) a handler object or factory`);
  for (const k of HANDLER_EVENTS) {
    const v = (h as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'function') throw new TypeError(`handler.${k} in ${where} must be a function`);
  }
  checkEvents(h, where);
  return h;
}
