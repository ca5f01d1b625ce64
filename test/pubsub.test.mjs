// Topics, broadcast and direct sends across reactors: c.subscribe / c.publish / engine.publish,
// one inbox message per reactor, fan-out on the reactor, order per publisher, and what never
// reaches a connection (after unsubscribe, on a reused slot).
import t from 'tap';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { start, fixture, lib } from './helpers/engine.mjs';
import { sleep, withTimeout } from './helpers/net.mjs';

const PUBSUB = fixture('pubsub.mjs');

/** A line client: every line it received, in order, and a way to wait for one. */
class LineClient {
  constructor(s) {
    this.s = s;
    this.lines = [];
    this.rest = '';
    this.waiters = new Set();
    this.closed = false;
    s.setEncoding('utf8');
    s.on('data', (d) => {
      const parts = (this.rest + d).split('\n');
      this.rest = parts.pop();
      for (const p of parts) this.lines.push(p);
      this.#notify();
    });
    s.on('error', (err) => (this.error = err));
    s.on('close', () => {
      this.closed = true;
      this.#notify();
    });
  }
  #notify() {
    for (const w of [...this.waiters]) w();
  }
  /** Waits until `pred(lines)` holds; resolves with the lines. */
  until(pred, ms = 10000, label = 'lines') {
    return new Promise((resolve, reject) => {
      const w = () => {
        if (pred(this.lines)) {
          this.waiters.delete(w);
          clearTimeout(timer);
          resolve(this.lines);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`waiting for ${label}: got ${this.lines.length} lines, last ${JSON.stringify(this.lines.slice(-3))}, closed=${this.closed}`));
      }, ms);
      this.waiters.add(w);
      w();
    });
  }
  /** Sends a command and waits for its reply line (the first new line starting with `+<cmd>`). */
  async ask(cmd, ms = 10000) {
    const word = cmd.split(' ')[0];
    const from = this.lines.length;
    this.s.write(cmd + '\n');
    const lines = await this.until((l) => l.slice(from).some((x) => x.startsWith(`+${word}`)), ms, `reply to ${cmd}`);
    return lines.slice(from).find((x) => x.startsWith(`+${word}`));
  }
  count(prefix) {
    return this.lines.filter((l) => l.startsWith(prefix)).length;
  }
}

async function client(port, opts = {}) {
  const s = net.connect({ port, host: '127.0.0.1', ...opts });
  await new Promise((res, rej) => {
    s.once('connect', res);
    s.once('error', rej);
  });
  return new LineClient(s);
}

/** Opens `n` clients and returns them with the reactor each landed on. */
async function clients(t, port, messages, n) {
  const before = messages.filter((m) => m.ev === 'opened').length;
  const cs = [];
  for (let i = 0; i < n; i++) cs.push(await client(port));
  const opened = await messages.waitForCount((m) => m.ev === 'opened', before + n);
  t.teardown(() => cs.forEach((c) => c.s.destroy()));
  // Ask each for its ref: that names its reactor.
  for (const c of cs) {
    const [, l, s, g] = (await c.ask('ref')).split(' ');
    c.ref = { loop: Number(l), slot: Number(s), generation: Number(g) };
  }
  void opened;
  return cs;
}

t.test('an engine.publish reaches every subscriber on every reactor, and only them', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 4 });
  const cs = await clients(t, port, messages, 12);
  t.equal(new Set(cs.map((c) => c.ref.loop)).size, 4, 'the subscribers are spread over the 4 reactors');
  const subs = cs.slice(0, 8);
  const others = cs.slice(8);
  for (const c of subs) t.equal(await c.ask('sub news'), '+sub news true');
  t.equal(await subs[0].ask('sub news'), '+sub news false', 'a second subscribe to the same topic is a no-op');
  t.equal(engine.subscribers('news'), 8, 'the shared directory counts every subscription');
  t.equal(engine.publish('news', 'hello all\n'), 'queued');
  for (const c of subs) await c.until((l) => l.includes('hello all'), 10000, 'the publish');
  await sleep(100);
  for (const c of others) t.equal(c.count('hello'), 0, 'a connection not subscribed gets nothing');
  for (const c of subs) t.equal(c.count('hello all'), 1, 'each subscriber gets the message once');
  t.equal(engine.publish('nobody-listens', 'x\n'), 'queued', 'a topic without subscribers is fine');
});

t.test('c.publish reaches the other subscribers, not the publisher itself', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const [a, b, c] = await clients(t, port, messages, 3);
  for (const x of [a, b, c]) await x.ask('sub room');
  t.equal(await a.ask('pub room hi from a'), '+pub queued');
  await b.until((l) => l.includes('hi from a'));
  await c.until((l) => l.includes('hi from a'));
  await sleep(100);
  t.equal(a.count('hi from a'), 0, 'the publisher does not hear itself');
});

t.test('topics, unsubscribe and the subscriptions of a closed connection', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const [a] = await clients(t, port, messages, 1);
  await a.ask('sub x');
  await a.ask('sub y');
  await a.ask('sub ünï');
  t.equal(await a.ask('topics'), '+topics x,y,ünï'.normalize());
  t.equal(await a.ask('unsub y'), '+unsub y true');
  t.equal(await a.ask('unsub y'), '+unsub y false', 'leaving a topic twice is a no-op');
  t.equal(await a.ask('topics'), '+topics x,ünï');
  t.equal(engine.subscribers('x'), 1);
  a.s.destroy();
  await messages.waitFor((m) => m.ev === 'closed');
  t.equal(engine.subscribers('x'), 0, 'a closed connection leaves its topics (the directory says so at once)');
  t.equal(engine.subscribers('ünï'), 0);
});

t.test('messages of one publisher arrive in publish order at every subscriber (two publishers, three reactors)', { timeout: 60000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 3 });
  const cs = await clients(t, port, messages, 8);
  const subs = cs.slice(2);
  for (const c of subs) await c.ask('sub seq');
  const [p1, p2] = cs;
  t.not(p1.ref.loop, p2.ref.loop, 'the publishers are on different reactors');
  // Both publishers' messages fit the 4096-slot inboxes at once (past that a publish says 'full').
  const N = 1500;
  // One publisher's messages inline in the inbox slots, the other's staged (past the slot size).
  t.equal(await p1.ask(`pubn seq ${N} 0 A`), '+pubn queued');
  t.equal(await p2.ask(`pubn seq ${N} 300 B`), '+pubn queued');
  for (const c of subs) {
    await c.until((l) => l.filter((x) => x.startsWith('m ')).length >= 2 * N, 30000, `${2 * N} messages`);
    for (const id of ['A', 'B']) {
      const seqs = c.lines.filter((x) => x.startsWith(`m ${id} `)).map((x) => Number(x.split(' ')[2]));
      t.same(seqs, Array.from({ length: N }, (_, i) => i), `publisher ${id} in order at a subscriber on reactor ${c.ref.loop}`);
    }
  }
});

t.test('a large message (staged, not inline) reaches every subscriber intact', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const [p, ...subs] = await clients(t, port, messages, 4);
  for (const c of subs) await c.ask('sub big');
  const SIZE = 300_000;
  t.equal(await p.ask(`big big ${SIZE}`), '+big queued');
  for (const c of subs) {
    const lines = await c.until((l) => l.some((x) => x.length === SIZE - 1), 20000, 'the big message');
    t.ok(lines.find((x) => x.length === SIZE - 1).split('').every((ch) => ch === 'b'), 'every byte as published');
  }
});

t.test('a message larger than the socket takes reaches a subscriber that reads late, intact (the rest waits in its ring)', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 1, socket: { sendBuf: 16384 } });
  const [p, late, prompt] = await clients(t, port, messages, 3);
  for (const c of [late, prompt]) await c.ask('sub big');
  late.s.pause();
  const SIZE = 4 * 1024 * 1024;
  t.equal(await p.ask(`big big ${SIZE}`), '+big queued');
  const got = await prompt.until((l) => l.some((x) => x.length === SIZE - 1), 20000, 'the big message');
  t.ok(/^b+$/.test(got.find((x) => x.length === SIZE - 1)), 'the prompt reader: every byte as published');
  await sleep(300);
  late.s.resume();
  const lines = await late.until((l) => l.some((x) => x.length === SIZE - 1), 20000, 'the big message, late');
  t.ok(/^b+$/.test(lines.find((x) => x.length === SIZE - 1)), 'the late reader: every byte as published');
  t.equal(await late.ask('ref'), `+ref ${late.ref.loop} ${late.ref.slot} ${late.ref.generation}`, 'and its connection goes on');
});

t.test('published messages and the handler\'s own writes to a subscriber in one round arrive in that order', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 1 });
  const [p, s] = await clients(t, port, messages, 2);
  await s.ask('sub o');
  const from = s.lines.length;
  t.equal(await p.ask(`pubw o ${s.ref.slot}`), '+pubw done');
  const lines = await s.until((l) => l.length >= from + 4, 10000, 'four lines');
  t.same(lines.slice(from, from + 4), ['m1', 'w1', 'm2', 'w2']);
});

for (const [cmd, how] of [['pubclose', 'close()'], ['pubhalf', 'closeWrite()']]) {
  t.test(`a message published just before ${how} in the same round reaches the subscriber before its end of stream`, { timeout: 30000 }, async (t) => {
    const { port, messages } = await start(t, PUBSUB, { numEventLoop: 1 });
    const [p, s] = await clients(t, port, messages, 2);
    await s.ask('sub e');
    const ended = new Promise((r) => s.s.once('end', r));
    t.equal(await p.ask(`${cmd} e ${s.ref.slot}`), `+${cmd} done`);
    await withTimeout(ended, 10000, 'end of stream');
    t.equal(s.lines.at(-1), 'last', 'the message, then the end');
  });
}

t.test('nothing arrives after unsubscribe returned, while a publisher keeps publishing', { timeout: 60000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const subs = await clients(t, port, messages, 6);
  for (const c of subs) await c.ask('sub flood');
  let stop = false;
  let i = 0;
  const pump = (async () => {
    while (!stop) {
      for (let k = 0; k < 50; k++) engine.publish('flood', `m E ${i++}\n`);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(subs.map((c) => c.until((l) => l.length > 50, 10000, 'some messages')));
  for (const c of subs) c.s.write('unsub flood\n');
  await Promise.all(subs.map((c) => c.until((l) => l.includes('+unsub flood true'), 10000, 'the unsubscribe')));
  await sleep(300);
  stop = true;
  await pump;
  for (const c of subs) {
    const at = c.lines.indexOf('+unsub flood true');
    const after = c.lines.slice(at + 1).filter((x) => x.startsWith('m '));
    t.equal(after.length, 0, `no message after the unsubscribe reply (reactor ${c.ref.loop}; ${at} lines before it)`);
  }
  t.equal(engine.subscribers('flood'), 0);
});

t.test('a newer connection on a reused slot gets neither the old topics nor writes by the old ref', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 1 });
  const [sender] = await clients(t, port, messages, 1);
  const [old] = await clients(t, port, messages, 1);
  await old.ask('sub t');
  const oldRef = old.ref;
  old.s.destroy();
  await messages.waitFor((m) => m.ev === 'closed');
  const [fresh] = await clients(t, port, messages, 1);
  t.equal(fresh.ref.slot, oldRef.slot, 'the new connection took the old one\'s slot');
  t.not(fresh.ref.generation, oldRef.generation);
  engine.publish('t', 'for the old one\n');
  t.equal(await sender.ask(`to ${oldRef.loop} ${oldRef.slot} ${oldRef.generation} stale ref`), '+to queued');
  t.equal(await sender.ask(`to ${fresh.ref.loop} ${fresh.ref.slot} ${fresh.ref.generation} fresh ref`), '+to queued');
  await fresh.until((l) => l.includes('fresh ref'));
  t.equal(fresh.count('for the old one'), 0, 'no topic message');
  t.equal(fresh.count('stale ref'), 0, 'no write by the stale ref');
  t.same(await fresh.ask('topics'), '+topics ', 'it is in no topic');
});

t.test('a handler writes to a connection on another reactor by ref (info.remote), without the main thread', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const cs = await clients(t, port, messages, 4);
  const a = cs[0];
  const b = cs.find((c) => c.ref.loop !== a.ref.loop);
  t.equal(await a.ask(`to ${b.ref.loop} ${b.ref.slot} ${b.ref.generation} across reactors`), '+to queued');
  await b.until((l) => l.includes('across reactors'));
  t.pass('delivered to the other reactor\'s connection');
});

t.test('broadcast reaches every open connection on every reactor', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 3 });
  const cs = await clients(t, port, messages, 9);
  t.equal(engine.broadcast('to everyone\n'), 'queued');
  for (const c of cs) await c.until((l) => l.includes('to everyone'));
  t.equal(await cs[0].ask('bcast from a handler'), '+bcast queued');
  for (const c of cs) await c.until((l) => l.includes('from a handler'));
  await sleep(100);
  for (const c of cs) t.equal(c.count('to everyone'), 1);
});

t.test('publish from a pool job reaches subscribers on every reactor, in order', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 2, pool: true });
  const cs = await clients(t, port, messages, 5);
  for (const c of cs.slice(1)) await c.ask('sub jobs');
  cs[0].s.write('job jobs 500 J\n');
  await cs[0].until((l) => l.includes('+job J done'));
  for (const c of cs.slice(1)) {
    await c.until((l) => l.filter((x) => x.startsWith('m J ')).length >= 500, 10000, 'the job\'s messages');
    const seqs = c.lines.filter((x) => x.startsWith('m J ')).map((x) => Number(x.split(' ')[2]));
    t.same(seqs, Array.from({ length: 500 }, (_, i) => i));
  }
});

t.test('publish from a plain worker_thread through connect(engine.handle)', { timeout: 30000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 2 });
  const cs = await clients(t, port, messages, 4);
  for (const c of cs) await c.ask('sub w');
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.lib).then(({ connect }) => {
      const r = connect(workerData.handle);
      let bad = 0;
      for (let i = 0; i < 300; i++) if (r.publish('w', 'm W ' + i + '\\n') !== 'queued') bad++;
      parentPort.postMessage({ bad, subscribers: r.subscribers('w') });
    });`;
  const w = new Worker(code, { eval: true, workerData: { lib: new URL('../dist/lib/index.js', import.meta.url).href, handle: engine.handle } });
  const res = await withTimeout(new Promise((r, j) => (w.once('message', r), w.once('error', j))), 10000, 'the worker');
  await w.terminate();
  t.same(res, { bad: 0, subscribers: 4 });
  for (const c of cs) {
    await c.until((l) => l.filter((x) => x.startsWith('m W ')).length >= 300, 10000, 'the worker\'s messages');
    t.same(c.lines.filter((x) => x.startsWith('m W ')).map((x) => Number(x.split(' ')[2])), Array.from({ length: 300 }, (_, i) => i));
  }
});

t.test('a slow subscriber is closed with ENOBUFS at writeBufferCap; the others get everything', { timeout: 60000 }, async (t) => {
  const cap = 256 * 1024;
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 2, writeBufferCap: cap, writeBufferHighWater: cap / 2, socket: { sendBuf: 16384 } });
  const cs = await clients(t, port, messages, 3);
  for (const c of cs) await c.ask('sub firehose');
  const slow = cs[0];
  slow.s.pause(); // never reads again: its socket buffers fill, then its out ring
  const N = 20000;
  const line = (i) => `m F ${i} ${'x'.repeat(500)}\n`;
  // In bursts, each one read by the reading subscribers before the next: they are never more than
  // a burst behind, while the one that does not read falls behind by everything.
  const fast = cs.slice(1);
  const base = fast.map((c) => c.lines.length);
  for (let i = 0; i < N; ) {
    const r = engine.publish('firehose', line(i));
    if (r === 'queued') i++;
    else await sleep(1);
    if (i % 50 === 0) await Promise.all(fast.map((c, k) => c.until((l) => l.length >= base[k] + i, 10000, 'the burst')));
  }
  const closed = await messages.waitFor((m) => m.ev === 'closed' && m.ref.slot === slow.ref.slot && m.ref.loop === slow.ref.loop, 20000);
  t.equal(closed.code, 'ENOBUFS', 'the slow subscriber is dropped with ENOBUFS');
  for (const c of cs.slice(1)) {
    await c.until((l) => l.filter((x) => x.startsWith('m F ')).length >= N, 30000, 'every message');
    const seqs = c.lines.filter((x) => x.startsWith('m F ')).map((x) => Number(x.split(' ')[2]));
    t.same(seqs, Array.from({ length: N }, (_, i) => i), 'a reading subscriber gets every message, in order');
  }
});

t.test('topics and published data are checked', { timeout: 10000 }, async (t) => {
  const { engine } = await start(t, PUBSUB, { numEventLoop: 1 });
  t.throws(() => engine.publish(42, 'x'), TypeError);
  t.throws(() => engine.publish('x'.repeat(70000), 'x'), RangeError);
  t.throws(() => engine.publish('x', 42), TypeError);
  t.throws(() => engine.broadcast({}), TypeError);
  t.equal(typeof lib.connect(engine.handle).publish, 'function');
});

t.test('a handler\'s publish larger than the out arena still reaches its own reactor\'s subscribers (through the inbox)', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, PUBSUB, { numEventLoop: 1 });
  const [p, ...subs] = await clients(t, port, messages, 3);
  for (const c of subs) await c.ask('sub huge');
  const SIZE = 3_000_000; // past the 1 MiB out arena
  t.equal(await p.ask(`big huge ${SIZE}`), '+big queued');
  for (const c of subs) {
    const lines = await c.until((l) => l.some((x) => x.length === SIZE - 1), 30000, 'the huge message');
    t.ok(/^b+$/.test(lines.find((x) => x.length === SIZE - 1)), 'intact');
  }
});

t.test('a full inbox: the publishes that said queued arrive, in order, and no other', { timeout: 60000 }, async (t) => {
  const { engine, port, messages } = await start(t, PUBSUB, { numEventLoop: 1, inboxSlots: 64 });
  const [sub] = await clients(t, port, messages, 1);
  await sub.ask('sub burst');
  const queued = [];
  let full = 0;
  for (let i = 0; i < 20000; i++) {
    const r = engine.publish('burst', `m Q ${i}\n`);
    if (r === 'queued') queued.push(i);
    else if (r === 'full') full++;
    else t.fail(`unexpected result ${r}`);
  }
  t.comment(`${queued.length} queued, ${full} refused as full`);
  await sub.ask('ref'); // after everything queued before it (one reactor: the same inbox order)
  await sub.until((l) => l.filter((x) => x.startsWith('m Q ')).length >= queued.length, 20000, 'the queued messages');
  await sleep(200);
  const got = sub.lines.filter((x) => x.startsWith('m Q ')).map((x) => Number(x.split(' ')[2]));
  t.same(got, queued, 'exactly the queued messages, in publish order');
});
