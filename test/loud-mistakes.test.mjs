// Mistakes with a handler module are refused by serve() with an error that names the module and
// what it exports, instead of an engine whose connections silently drop their bytes.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { lib, fixture, start } from './helpers/engine.mjs';
import { openClient, ask, withTimeout } from './helpers/net.mjs';

async function echoOnce(port, text) {
  const s = await openClient(port);
  try {
    return await withTimeout(ask(s, text), 5000, 'echo');
  } finally {
    s.destroy();
  }
}

const opts = { numEventLoop: 2 };

async function rejection(handler, options = opts) {
  return lib.serve(handler, 'tcp://127.0.0.1:0', options).then(
    async (engine) => {
      await engine.stop();
      throw new Error('serve resolved');
    },
    (e) => e,
  );
}

t.test('a module without a default export is refused, naming the module and its exports', { timeout: 30000 }, async (t) => {
  const err = await rejection(fixture('no-default.mjs'));
  t.match(err.message, /no-default\.mjs has no default export/);
  t.match(err.message, /it exports: handler, version/);
  t.match(err.message, /export default defineHandler/, 'and says what to write');
});

t.test('a handler with no known event is refused, naming what it has and what is known', { timeout: 30000 }, async (t) => {
  const err = await rejection(fixture('unknown-events.mjs'));
  t.match(err.message, /unknown-events\.mjs defines no known event/);
  t.match(err.message, /it has: onOpen, onData/);
  t.match(err.message, /known events: .*onOpened.*react/);
});

t.test('a handler object with no known event is refused too', { timeout: 30000 }, async (t) => {
  const err = await rejection({ onConnect() {} }, { numEventLoop: 1 });
  t.match(err.message, /defines no known event \(it has: onConnect/);
});

t.test("a module that throws while loading: the error's cause keeps the user's file and line", { timeout: 30000 }, async (t) => {
  const err = await rejection(fixture('throws-in-helper.mjs'));
  t.match(err.message, /throws-in-helper\.mjs failed to load: database unreachable: helper-9c1e/);
  t.ok(err.cause instanceof Error, 'cause is an Error');
  t.equal(err.cause.message, 'database unreachable: helper-9c1e');
  const file = fileURLToPath(fixture('throws-in-helper.mjs'));
  t.match(err.cause.stack, new RegExp(`at connectToDatabase \\(file://${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:9\\)`), 'the stack names the function, file, line and column');
});

t.test('named event exports (no default) are a handler', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fixture('named-events.mjs'));
  t.equal(await echoOnce(port, 'named'), 'named');
});

t.test('a .cjs module as tsc compiles `export default` (exports.default beside __esModule) is a handler', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fixture('ts-compiled-cjs.cjs'));
  t.equal(await echoOnce(port, 'from tsc'), 'from tsc');
});
