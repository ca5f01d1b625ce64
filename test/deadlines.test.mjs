// Idle timeouts and per-connection deadlines (one timing wheel per reactor).
import t from 'tap';
import net from 'node:net';
import { start, fixture } from './helpers/engine.mjs';
import { sleep } from './helpers/net.mjs';

const F = fixture('deadlines.mjs');

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** A silent client of a server with `options`: resolves with its close message and how long after its open. */
async function silentClient(t, options) {
  const { port, messages } = await start(t, F, options);
  const s = await connect(port);
  s.on('error', () => {});
  t.teardown(() => new Promise((r) => (s.destroyed ? r() : s.once('close', r))));
  const { at: opened } = await messages.waitFor((m) => m.ev === 'opened');
  const closed = await messages.waitFor((m) => m.ev === 'closed', 5000);
  return { closed, after: closed.at - opened };
}

t.test('a silent connection is closed after idleTimeout with ETIMEDOUT', { timeout: 30000 }, async (t) => {
  const { closed, after } = await silentClient(t, { idleTimeout: 500 });
  t.equal(closed.code, 'ETIMEDOUT');
  t.match(closed.message, /idle for 500 ms/);
  t.ok(after >= 450 && after < 2000, `closed after ${after} ms`);
});

t.test('a connection that keeps talking is never idle', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, F, { idleTimeout: 500 });
  const s = await connect(port);
  for (let i = 0; i < 15; i++) {
    s.write('x');
    await sleep(100);
  }
  t.equal(messages.filter((m) => m.ev === 'closed').length, 0, 'still open after 1.5 s of activity');
  s.destroy();
});

t.test('a slowloris client trickling one byte at a time is closed at its read deadline', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, F, { handlerOptions: { readDeadlineMs: 1000 }, idleTimeout: 500 });
  const s = await connect(port);
  s.on('error', () => {});
  const { at: opened } = await messages.waitFor((m) => m.ev === 'opened');
  const trickle = setInterval(() => s.writable && s.write('G'), 150);
  t.teardown(() => clearInterval(trickle));
  const closed = await messages.waitFor((m) => m.ev === 'closed', 5000);
  const after = closed.at - opened;
  t.equal(closed.code, 'ETIMEDOUT');
  t.match(closed.message, /read deadline passed/);
  t.ok(after >= 950 && after < 2500, `closed after ${after} ms despite the trickle`);
  s.destroy();
});

t.test('a write deadline closes a connection whose output is still pending, and only then', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, F, {});
  const reader = await connect(port);
  reader.write('small');
  await new Promise((r) => reader.once('data', r));
  await sleep(600);
  t.equal(messages.filter((m) => m.ev === 'closed').length, 0, 'nothing pending: the passed deadline does not close it');
  const stuck = await connect(port);
  stuck.on('error', () => {});
  stuck.pause(); // never reads: 16 MiB cannot all be handed to the kernel
  stuck.write('big');
  const closed = await messages.waitFor((m) => m.ev === 'closed', 5000);
  t.equal(closed.code, 'ETIMEDOUT');
  t.match(closed.message, /write deadline passed with output pending/);
  reader.destroy();
  stuck.destroy();
});

t.test('a read deadline earlier than the idle timeout closes at the read deadline', { timeout: 30000 }, async (t) => {
  // The idle deadline (10 s) puts the connection on the wheel first; the read deadline set right
  // after (600 ms) is earlier and must move it to the earlier bucket.
  const { closed, after } = await silentClient(t, { handlerOptions: { readDeadlineMs: 600 }, idleTimeout: 10000 });
  t.equal(closed.code, 'ETIMEDOUT');
  t.match(closed.message, /read deadline passed/);
  t.ok(after >= 550 && after < 2500, `closed after ${after} ms, not at the 10 s idle timeout`);
});
