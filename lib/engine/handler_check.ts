// Engine wing: runs wherever a handler module is loaded (each reactor thread, or the engine's
// thread for a handler object). Turns the usual mistakes with a handler module into errors that
// name the module and what it exports, instead of an engine whose connections drop their bytes.

/**
 * Every event name a handler may define. Keep in step with `EventHandler` in lib/handler.ts:
 * a handler defining none of them is refused (its connections would do nothing).
 */
export const HANDLER_EVENTS: readonly string[] = [
  'onInitComplete',
  'onOpened',
  'onClosed',
  'onReadClosed',
  'react',
  'tick',
  'preWrite',
  'onJobError',
];

/** The module's own names, for messages ("default, handler"); `(none)` when it has none. */
export function exportNames(mod: object): string {
  const keys = Object.keys(mod).filter((k) => k !== '__esModule');
  return keys.length > 0 ? keys.join(', ') : '(none)';
}

/**
 * The handler export of an imported module namespace, whatever format the module is:
 * - ESM `export default ...` (or `.ts` compiled to ESM): `default`;
 * - CommonJS `module.exports = ...`: `default` (Node gives module.exports as the default);
 * - `.ts` compiled to CommonJS (`exports.default = ...` beside `__esModule`): that `default`;
 * - named event exports (`export function react(c) {...}`): the namespace itself.
 * Throws, naming the module and its exports, when there is none of these.
 */
export function handlerExport(mod: Record<string, unknown>, where: string): unknown {
  if ('default' in mod && mod.default !== undefined) {
    const d = mod.default;
    if (typeof d === 'object' && d !== null && (d as { __esModule?: unknown }).__esModule === true && 'default' in d) {
      return (d as { default: unknown }).default;
    }
    return d;
  }
  if (HANDLER_EVENTS.some((k) => typeof mod[k] === 'function')) return mod;
  throw new TypeError(
    `handler module ${where} has no default export (it exports: ${exportNames(mod)}); ` +
      `export the handler as its default: export default defineHandler({ react(c) { ... } })`,
  );
}

/** Throws when the handler defines none of the known events (a typo, or the wrong object exported). */
export function checkEvents(h: object, where: string): void {
  const keys = Object.keys(h);
  if (HANDLER_EVENTS.some((k) => typeof (h as Record<string, unknown>)[k] === 'function')) return;
  // Class instances keep their methods on the prototype.
  for (let p = Object.getPrototypeOf(h) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (HANDLER_EVENTS.some((k) => typeof (p as Record<string, unknown>)[k] === 'function')) return;
  }
  throw new TypeError(
    `handler in ${where} defines no known event (it has: ${keys.length > 0 ? keys.join(', ') : '(nothing)'}; ` +
      `known events: ${HANDLER_EVENTS.join(', ')})`,
  );
}
