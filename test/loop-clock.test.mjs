// loopNow(): Date.now() as read once when the reactor's round began, inside handler calls of a
// round; a fresh clock read outside one.
import net from 'node:net';
import t from 'tap';
import { fixture, lib, start } from './helpers/engine.mjs';
import { once, sleep, withTimeout } from './helpers/net.mjs';

/** Sends `line` on `sock` and resolves with the next reply line, as numbers. */
function ask(sock, line) {
  return withTimeout(
    new Promise((resolve) => {
      let got = '';
      const onData = (d) => {
        got += d;
        const nl = got.indexOf('\n');
        if (nl < 0) return;
        sock.off('data', onData);
        resolve(got.slice(0, nl).split(' ').map(Number));
      };
      sock.on('data', onData);
      sock.write(line);
    }),
    5000,
    'reply',
  );
}

t.test('inside react it is this round\'s time, not an earlier round\'s', async (t) => {
  const { port } = await start(t, fixture('loop-clock.mjs'));
  const sock = net.connect(port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  await once(sock, 'connect');
  sock.setEncoding('utf8');
  for (let i = 0; i < 3; i++) {
    const [round, now] = await ask(sock, 'x');
    t.ok(round > 0, 'a clock reading');
    t.ok(round <= now, 'read when the round began, at or before the handler ran');
    t.ok(now - round < 100, `within the round (${now - round} ms)`);
    // The next read comes in a later round: a value kept from this one would be 300 ms old.
    await sleep(300);
  }
});

t.test('outside a round (tick) it reads the clock', async (t) => {
  const { messages } = await start(t, fixture('loop-clock.mjs'), { ticker: true });
  const msg = await messages.waitFor((m) => m.ev === 'tick', 5000, 'a tick report');
  t.ok(msg.loopNow > 0 && msg.now - msg.loopNow >= 0 && msg.now - msg.loopNow < 5, `a fresh read (${msg.now - msg.loopNow} ms apart)`);
});

t.test('on the main thread it is Date.now()', async (t) => {
  const before = Date.now();
  const v = lib.loopNow();
  t.ok(v >= before && v <= Date.now(), 'between two clock reads');
});
