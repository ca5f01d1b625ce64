// The engine-wide ticker: tick runs on reactor 0 when `ticker` is on, again after each returned delay.
import t from 'tap';
import { sleep, withTimeout } from './helpers/net.mjs';
import { fixture, start } from './helpers/engine.mjs';

const TICK = fixture('tick.mjs');

t.test('tick runs repeatedly, every returned delay', { timeout: 30000 }, async (t) => {
  const { messages } = await start(t, TICK, { ticker: true, handlerOptions: { delay: 50 } });
  await messages.waitFor((m) => m.ev === 'tick', 2000, 'first tick');
  await sleep(500);
  const ticks = messages.filter((m) => m.ev === 'tick');
  t.ok(ticks.length >= 5, `several ticks in ~500 ms (got ${ticks.length})`);
  t.ok(ticks.length <= 13, `not more than the delay allows (got ${ticks.length})`);
  // Reports posted before serve() resolved may not be observable (see events.test.mjs), so
  // the check starts at the first report seen.
  t.same(ticks.map((m) => m.n), ticks.map((_, i) => ticks[0].n + i), 'in order, no gaps');
  t.ok(ticks[0].n <= 2, `reports seen from tick ${ticks[0].n} on`);
  const gaps = ticks.slice(1).map((m, i) => m.at - ticks[i].at);
  t.ok(gaps.every((g) => g >= 45), `consecutive ticks are >= 45 ms apart: ${gaps.map((g) => g.toFixed(1))}`);
});

t.test('tick runs on reactor 0 only', { timeout: 30000 }, async (t) => {
  const { messages } = await start(t, TICK, { ticker: true, handlerOptions: { delay: 50 } });
  await messages.waitForCount((m) => m.ev === 'tick', 4, 3000, 'ticks');
  const entries = messages.entries.filter((e) => e.msg.ev === 'tick');
  t.ok(entries.every((e) => e.loop === 0 && e.msg.loop === 0), 'every tick came from reactor 0');
});

t.test('the first tick comes soon after serving starts', { timeout: 30000 }, async (t) => {
  const before = performance.timeOrigin + performance.now();
  const { messages } = await start(t, TICK, { ticker: true, handlerOptions: { delay: 1000 } });
  const afterServe = performance.timeOrigin + performance.now();
  const report = await messages.waitFor((m) => m.ev === 'tick', 3000, 'a tick report');
  const first = report.firstAt;
  t.ok(first - afterServe < 500, `first tick ${(first - afterServe).toFixed(1)} ms after serve resolved (< 500)`);
  t.ok(first >= before, 'not before serve was called');
});

t.test('without the ticker option, tick is never called', { timeout: 30000 }, async (t) => {
  const { messages } = await start(t, TICK, { handlerOptions: { delay: 50 } });
  await sleep(400);
  t.equal(messages.filter((m) => m.ev === 'tick').length, 0, 'no ticks');
});

t.test('tick returning Action.Shutdown stops the engine', { timeout: 30000 }, async (t) => {
  const { engine, messages } = await start(t, TICK, { ticker: true, handlerOptions: { delay: 50, shutdownAfter: 3 } });
  await withTimeout(engine.done, 5000, 'engine.done');
  t.pass('engine.done resolved');
  await sleep(300);
  const ns = messages.filter((m) => m.ev === 'tick').map((m) => m.n);
  t.equal(ns.at(-1), 3, `the last tick was the third (reports seen: ${ns})`);
  t.ok(ns.every((n) => n <= 3), 'no tick after the Shutdown');
});
