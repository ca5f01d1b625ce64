// Frame codecs in the reactor (lib/codec.ts): a listener's codec frames input natively, so `react`
// finds whole frames in `c.frames` however the bytes were split on the wire; over a limit the
// connection closes with a clear code; a full frame table carries on in the next round; TLS is
// framed as plaintext; the handler's codec, serve's and an address's, and `codec: false`.
import t from 'tap';
import tls from 'node:tls';
import { connect, readerOf, sleep, withTimeout } from './helpers/net.mjs';
import { lib, portOf } from './helpers/engine.mjs';
import { hasOpenssl, makeCerts } from './helpers/tls.mjs';

const { serve, FrameStatus, LengthFieldEncoder } = lib;
// A small frame table (read when a reactor starts): rounds run out of room, and every test here
// also crosses the carry-over to the next round.
process.env.RINGLOOP_FRAME_TABLE_INTS = '4096';

/** An in-thread handler that answers every frame's payload as `<payload>\n`, and records closes. */
function payloadEcho(extra = {}) {
  const closes = [];
  const seen = { frames: 0, nullFrames: 0, statuses: new Set() };
  const handler = {
    onClosed(c, err) {
      closes.push(err);
    },
    react(c) {
      const buf = c.peek();
      const f = c.frames;
      if (f === null) {
        seen.nullFrames++;
        c.write(buf);
        c.discard();
        return;
      }
      seen.statuses.add(f.status);
      for (let i = 0; i < f.count; i++) {
        c.write(buf.subarray(f.start(i), f.end(i)));
        c.write('\n');
      }
      seen.frames += f.count;
      c.discard(f.consumed);
    },
    ...extra,
  };
  return { handler, closes, seen };
}

async function serveLocal(t, handler, options = {}, addr = 'tcp://127.0.0.1:0') {
  const engine = await serve(handler, addr, { numEventLoop: 1, ...options });
  t.teardown(() => withTimeout(engine.stop({ timeout: 5000 }), 15000, 'engine.stop'));
  return { engine, port: portOf(engine.addrs[0]) };
}

/** Writes `data` in pieces of 1..`max` bytes with a pause between some, so reads split frames anywhere. */
async function dribble(socket, data, max = 7) {
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = 1 + ((k * 5) % max);
    socket.write(data.subarray(at, at + n));
    at += n;
    if (k % 4 === 0) await sleep(1);
  }
}

t.test('line codec: react gets whole lines, CRLF or LF, however the bytes were split', async (t) => {
  const { handler, seen } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line' } });
  const s = await connect(port);
  t.teardown(() => s.destroy());
  const lines = ['hello', '', 'crlf line', 'x'.repeat(300), 'last'];
  await dribble(s, Buffer.from(lines.map((l, i) => l + (i % 2 ? '\r\n' : '\n')).join('')));
  const want = lines.map((l) => `${l}\n`).join('');
  t.equal((await readerOf(s).readExactly(want.length)).toString(), want);
  t.equal(seen.frames, lines.length, 'one frame per line');
  t.equal(seen.nullFrames, 0, 'frames on every event');
});

t.test('delimiter and fixed codecs frame by their rule', async (t) => {
  const d = payloadEcho();
  const a = await serveLocal(t, d.handler, { codec: { type: 'delimiter', delimiter: '||' } });
  const f = payloadEcho();
  const b = await serveLocal(t, f.handler, { codec: { type: 'fixed', size: 3 } });
  const s1 = await connect(a.port);
  const s2 = await connect(b.port);
  t.teardown(() => (s1.destroy(), s2.destroy()));
  await dribble(s1, Buffer.from('a|b||||c d||tail'));
  await dribble(s2, Buffer.from('abcdefgh'));
  t.equal((await readerOf(s1).readExactly(9)).toString(), 'a|b\n\nc d\n', 'the partial "tail" waits');
  t.equal((await readerOf(s2).readExactly(8)).toString(), 'abc\ndef\n', 'the partial "gh" waits');
});

t.test('length-field codec with its encoder: frames round-trip, split anywhere', async (t) => {
  const enc = new LengthFieldEncoder({ fieldLength: 2 });
  const handler = {
    react(c) {
      const buf = c.peek();
      const f = c.frames;
      for (let i = 0; i < f.count; i++) enc.write(c, buf.subarray(f.start(i), f.end(i)));
      c.discard(f.consumed);
    },
  };
  const { port } = await serveLocal(t, handler, { codec: { type: 'length-field', fieldLength: 2 } });
  const s = await connect(port);
  t.teardown(() => s.destroy());
  const payloads = ['one', '', 'a longer payload', 'z'.repeat(1000)].map((p) => Buffer.from(p));
  const wire = Buffer.concat(payloads.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 255]), p]));
  await dribble(s, wire, 13);
  t.same(await readerOf(s).readExactly(wire.length), wire, 'the same frames come back');
});

t.test('a line over maxFrame closes the connection with ERR_FRAME_TOO_LARGE', async (t) => {
  const { handler, closes } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line', maxFrame: 64 } });
  const s = await connect(port);
  s.write(`ok\n${'y'.repeat(100)}`);
  const r = readerOf(s);
  t.equal((await r.readExactly(3)).toString(), 'ok\n', 'the frame before it is answered');
  await r.waitClosed(5000);
  await withTimeout(
    (async () => {
      while (closes.length === 0) await sleep(5);
    })(),
    5000,
    'onClosed',
  );
  t.equal(closes[0]?.code, 'ERR_FRAME_TOO_LARGE');
});

t.test('a length field announcing more than maxFrame closes at once, before the bytes arrive', async (t) => {
  const { handler, closes } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'length-field', fieldLength: 4, maxFrame: 1024 } });
  const s = await connect(port);
  s.write(Buffer.from([0, 0x10, 0, 0, 1, 2, 3]));
  await readerOf(s).waitClosed(5000);
  while (closes.length === 0) await sleep(5);
  t.equal(closes[0]?.code, 'ERR_FRAME_TOO_LARGE');
});

t.test('a pipeline larger than one round\'s frame table is framed over several rounds, in order', async (t) => {
  // 300,000 one-byte frames need 600,000 ints: reads of up to 64 KiB, 2 ints per frame, in a
  // 4,096-int table (the default, 262,144, stops the same way on 128 KiB of such frames).
  const { handler, seen } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'fixed', size: 1 } });
  const s = await connect(port);
  t.teardown(() => s.destroy());
  const n = 300000;
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = 97 + (i % 26);
  s.write(data);
  const got = await readerOf(s).readExactly(2 * n, 20000);
  let ok = true;
  for (let i = 0; i < n && ok; i++) ok = got[2 * i] === data[i] && got[2 * i + 1] === 10;
  t.ok(ok, 'every frame answered in order');
  t.equal(seen.frames, n);
  t.ok(seen.statuses.has(FrameStatus.Stopped), 'some rounds stopped at a full table and went on');
});

t.test('a connection with an endless pipeline does not starve another', async (t) => {
  const { handler } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line' } });
  const flood = await connect(port, { reader: false });
  t.teardown(() => flood.destroy());
  const chunk = Buffer.from('flood flood flood\n'.repeat(4096));
  let flooding = true;
  const pump = () => {
    while (flooding && flood.write(chunk));
    if (flooding) flood.once('drain', pump);
  };
  flood.resume(); // read (and drop) its replies so it keeps sending
  pump();
  t.teardown(() => (flooding = false));
  await sleep(200);
  const probe = await connect(port);
  t.teardown(() => probe.destroy());
  const t0 = Date.now();
  probe.write('ping\n');
  t.equal((await readerOf(probe).readExactly(5, 5000)).toString(), 'ping\n');
  t.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms beside the flood`);
  flooding = false;
});

/** An in-thread handler that answers each frame from `frames.source` and checks it against `peek`. */
function sourceEcho() {
  const seen = { deliveries: 0, mismatches: 0, sources: new Set(), kept: null };
  const handler = {
    react(c) {
      const f = c.frames;
      const view = c.peek();
      if (f === null || view === null) return;
      seen.deliveries++;
      seen.sources.add(f.source);
      seen.kept = f.source;
      for (let i = 0; i < f.count; i++) {
        const s = f.base + f.start(i);
        const e = f.base + f.end(i);
        if (Buffer.compare(f.source.subarray(s, e), view.subarray(f.start(i), f.end(i))) !== 0) seen.mismatches++;
        c.write(f.source.subarray(s, e));
        c.write('\n');
      }
      c.discard(f.consumed);
    },
  };
  return { handler, seen };
}

t.test('frames.source at frames.base holds the bytes peek shows, one object for every delivery', async (t) => {
  const { handler, seen } = sourceEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line' } });
  const a = await connect(port);
  const b = await connect(port);
  t.teardown(() => (a.destroy(), b.destroy()));
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(i % 90)}`);
  const data = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  await Promise.all([dribble(a, data, 13), dribble(b, data, 29)]);
  const want = data.toString();
  t.equal((await readerOf(a).readExactly(data.length, 10000)).toString(), want, 'first connection answered from source');
  t.equal((await readerOf(b).readExactly(data.length, 10000)).toString(), want, 'second connection answered from source');
  t.ok(seen.deliveries > 2, `${seen.deliveries} deliveries`);
  t.equal(seen.mismatches, 0, 'every frame read at base + offset equals the peeked bytes');
  t.equal(seen.sources.size, 1, 'the read arena itself: no object made per delivery');
});

t.test("the handler's codec applies to listeners without one; serve's codec: false keeps them raw", async (t) => {
  const withCodec = payloadEcho({ codec: { type: 'line' } });
  const a = await serveLocal(t, withCodec.handler);
  const raw = payloadEcho({ codec: { type: 'line' } });
  const b = await serveLocal(t, raw.handler, { codec: false });
  const s1 = await connect(a.port);
  const s2 = await connect(b.port);
  t.teardown(() => (s1.destroy(), s2.destroy()));
  s1.write('x\ny\n');
  s2.write('x\ny\n');
  t.equal((await readerOf(s1).readExactly(4)).toString(), 'x\ny\n');
  t.equal((await readerOf(s2).readExactly(4)).toString(), 'x\ny\n');
  t.ok(withCodec.seen.frames === 2 && withCodec.seen.nullFrames === 0, 'framed');
  t.ok(raw.seen.frames === 0 && raw.seen.nullFrames > 0, 'raw: c.frames is null');
});

t.test('an address object carries its own codec', async (t) => {
  const { handler, seen } = payloadEcho();
  const engine = await serve(handler, [{ addr: 'tcp://127.0.0.1:0', codec: { type: 'fixed', size: 2 } }, 'tcp://127.0.0.1:0'], {
    numEventLoop: 1,
  });
  t.teardown(() => engine.stop({ timeout: 5000 }));
  const s1 = await connect(portOf(engine.addrs[0]));
  const s2 = await connect(portOf(engine.addrs[1]));
  t.teardown(() => (s1.destroy(), s2.destroy()));
  s1.write('abcd');
  t.equal((await readerOf(s1).readExactly(6)).toString(), 'ab\ncd\n');
  s2.write('abcd');
  t.equal((await readerOf(s2).readExactly(4)).toString(), 'abcd', 'the other listener is raw');
  t.equal(seen.frames, 2);
});

t.test('bad codec options are refused by serve with the field named', async (t) => {
  const h = { react() {} };
  await t.rejects(serve(h, 'tcp://127.0.0.1:0', { codec: { type: 'lines' } }), /type must be one of/);
  await t.rejects(serve(h, 'tcp://127.0.0.1:0', { codec: { type: 'fixed' } }), /needs size/);
  await t.rejects(serve(h, 'tcp://127.0.0.1:0', { codec: { type: 'delimiter', delimiter: '' } }), /delimiter must be 1 to 16 bytes/);
  await t.rejects(serve(h, 'tcp://127.0.0.1:0', { codec: { type: 'length-field', fieldLength: 5 } }), /fieldLength must be 1, 2, 3, 4 or 8/);
  await t.rejects(serve({ ...h, codec: { type: 'http1', maxHeaders: 0 } }, 'tcp://127.0.0.1:0', { numEventLoop: 1 }), /maxHeaders/);
});

t.test('over TLS the codec frames the plaintext', { skip: hasOpenssl() ? false : 'openssl is not installed' }, async (t) => {
  const certs = makeCerts(t);
  const { handler, seen } = payloadEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line' }, tls: { cert: certs.server.cert, key: certs.server.key } }, 'tls://127.0.0.1:0');
  const s = await new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, ca: certs.ca, servername: 'localhost' }, () => resolve(c));
    c.once('error', reject);
  });
  t.teardown(() => s.destroy());
  const r = readerOf(s);
  s.write('sec');
  await sleep(20);
  s.write('ret\nsecond\n');
  t.equal((await r.readExactly(14)).toString(), 'secret\nsecond\n');
  t.equal(seen.frames, 2);
});

// Last in the file: debug mode, once on, stays on for every in-thread reactor of this thread.
t.test('in debug mode frames.source is a copy of the window that goes stale when the event returns', async (t) => {
  const { handler, seen } = sourceEcho();
  const { port } = await serveLocal(t, handler, { codec: { type: 'line' }, debug: true });
  const s = await connect(port);
  t.teardown(() => s.destroy());
  s.write('one\ntwo\n');
  t.equal((await readerOf(s).readExactly(8, 5000)).toString(), 'one\ntwo\n');
  t.equal(seen.mismatches, 0, 'the copy holds the same bytes');
  t.equal(seen.kept.byteLength, 0, 'kept past its event, it reads as empty instead of as other bytes');
});
