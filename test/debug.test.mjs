// Debug mode (debug: true, or RINGLOOP_DEBUG=1): a read view kept past its event goes stale
// visibly (detached: length 0), and writing another reactor's Conn during an event throws.
import t from 'tap';
import { lib, fixture, start } from './helpers/engine.mjs';
import { openClient, ask, withTimeout } from './helpers/net.mjs';

async function session(t, port) {
  const s = await openClient(port);
  t.teardown(() => s.destroy());
  return (msg) => withTimeout(ask(s, msg), 5000, `answer to ${msg}`);
}

t.test('without debug a kept view still has its length (it may show other bytes later)', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fixture('debug-views.mjs'));
  const say = await session(t, port);
  t.equal(await say('keep abcdef'), 'kept 11\n');
  t.match(await say('show'), /^shows 11 \d+\n$/);
});

t.test('with debug: true a view kept past its event is detached', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fixture('debug-views.mjs'), { debug: true });
  const say = await session(t, port);
  t.equal(await say('keep abcdef'), 'kept 11\n', 'during its event the view is whole');
  t.equal(await say('show'), 'shows 0 undefined\n', 'after it, length 0 and nothing to read');
});

t.test('RINGLOOP_DEBUG=1 turns debug on too', { timeout: 30000 }, async (t) => {
  process.env.RINGLOOP_DEBUG = '1';
  t.teardown(() => delete process.env.RINGLOOP_DEBUG);
  const { port } = await start(t, fixture('debug-views.mjs'));
  const say = await session(t, port);
  await say('keep xyz');
  t.equal(await say('show'), 'shows 0 undefined\n');
});

t.test('with debug a view offloaded to the pool is sent whole', { timeout: 30000 }, async (t) => {
  const { port } = await start(t, fixture('debug-views.mjs'), { debug: true, pool: true });
  const say = await session(t, port);
  t.equal(await say('job hello'), 'HELLO');
});

// Two in-thread reactors (handler objects, one loop each) share this thread: B's Conn is
// reachable from A's events. (Debug state is per thread and stays on once a reactor enabled it,
// so the case without debug runs first.)
async function twoEngines(t, debug) {
  let bConn;
  const b = await start(t, { onOpened(c) { bConn = c; } }, { numEventLoop: 1, debug });
  const a = await start(
    t,
    {
      react(c) {
        c.next();
        try {
          bConn.write('from A\n');
        } catch (e) {
          return `threw: ${e.message}\n`;
        }
        return 'wrote\n';
      },
    },
    { numEventLoop: 1, debug },
  );
  const bClient = await openClient(b.port);
  t.teardown(() => bClient.destroy());
  const gotB = new Promise((r) => bClient.once('data', (d) => r(String(d))));
  for (let i = 0; i < 100 && !bConn; i++) await new Promise((r) => setTimeout(r, 10));
  const say = await session(t, a.port);
  return { answer: await say('x'), gotB };
}

t.test("without debug a write on another reactor's Conn goes through", { timeout: 30000 }, async (t) => {
  const { answer, gotB } = await twoEngines(t, false);
  t.equal(answer, 'wrote\n');
  t.equal(await withTimeout(gotB, 5000, "B's peer"), 'from A\n');
});

t.test("with debug a write on another reactor's Conn during an event throws", { timeout: 30000 }, async (t) => {
  const { answer } = await twoEngines(t, true);
  t.match(answer, /^threw: ringloop debug: write on a Conn of reactor 0 during an event of another reactor/);
});
