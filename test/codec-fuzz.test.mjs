// Fuzz: the native frame codecs (the very framers the reactor runs, called through the addon's
// codecFrame) against the JS references on the same bytes: examples/redis/resp.js's RespParser
// for resp, examples/http/parser.js's HttpParser for http1, and the plain definitions below for
// line / delimiter / fixed / length-field. Seeded and bounded (a fixed number of inputs per
// codec), so a failure reproduces: the message names the seed and the input.
//
// The contract checked for every input: each frame the codec reports is exactly what the
// reference parses at that place (same length, same arguments / method / target / headers /
// body); what stands at `consumed` agrees too: Ok means the reference needs more bytes there,
// Error means the reference rejects it there (http1: with the same status), Fallback only where
// the codec says it leaves things to the handler (resp: a non-array with quotes or control
// bytes; http1: Transfer-Encoding, or 100-continue with the body still to come).
import t from 'tap';
import { lib } from './helpers/engine.mjs';
import { RespParser, PROTOCOL_ERROR, NEED_MORE as RESP_NEED_MORE } from '../dist/examples/redis/resp.js';
import { HttpParser, NEED_MORE as HTTP_NEED_MORE } from '../dist/examples/http/parser.js';
import { codecSpec } from '../dist/lib/channel/codec_spec.js';
import { native } from '../dist/lib/channel/native.js';

const { FrameStatus } = lib;
const ITERATIONS = Number(process.env.CODEC_FUZZ_ITERATIONS ?? 4000);

/** mulberry32: a small seeded PRNG, so every run sees the same inputs. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (arr) => arr[Math.floor(next() * arr.length)] };
}

/** Byte mutations that hit the framers' decisions: flips to separators, truncation, insertion. */
const SPICY = [13, 10, 32, 9, 0, 58, 42, 36, 34, 39, 45, 48, 49, 57, 97, 65, 0x80, 0xff, 11, 12, 44, 59, 47, 63];
function mutate(r, buf) {
  let b = Buffer.from(buf);
  const n = r.int(4);
  for (let k = 0; k < n; k++) {
    const op = r.int(4);
    if (b.length === 0) break;
    const at = r.int(b.length);
    if (op === 0) b[at] = r.pick(SPICY);
    else if (op === 1) b = b.subarray(0, at);
    else if (op === 2) b = Buffer.concat([b.subarray(0, at), Buffer.from([r.pick(SPICY)]), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
  return b;
}

function frame(spec, bytes, cap = 1 << 16) {
  const table = new Int32Array(cap);
  const n = native.codecFrame(spec, bytes, table);
  return { table, n, len: table[0], count: table[1], consumed: table[2], status: table[3], detail: table[4] };
}

// ---------------------------------------------------------------- resp

const bulk = (r, args) => `*${args.length}\r\n${args.map((s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`).join('')}`;
function respInput(r) {
  const words = ['SET', 'GET', 'PING', 'k', 'value', '', 'a b', '"q"', "'s'", 'x'.repeat(r.int(70)), '\x00', '\r\n', '12'];
  const parts = [];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const argc = r.int(4);
    const args = Array.from({ length: argc }, () => r.pick(words));
    const kind = r.int(6);
    if (kind === 0) parts.push(`${args.join(r.pick([' ', '  ', '\t']))}${r.pick(['\r\n', '\n', '\r\n'])}`);
    else if (kind === 1) parts.push(r.pick(['*0\r\n', '*-1\r\n', '\r\n', '*3\r\n$3\r\nSET\r\n']));
    else parts.push(bulk(r, args.length ? args : ['PING']));
  }
  const buf = Buffer.from(parts.join(''), 'latin1');
  return r.int(3) === 0 ? buf : mutate(r, buf);
}

function respArgs(p) {
  const out = [];
  for (let i = 0; i < p.argc; i++) out.push(Buffer.from(p.src.subarray(p.argOff[i], p.argOff[i] + p.argLen[i])).toString('latin1'));
  return out;
}

function checkResp(t, spec, limits, bytes, label, cap) {
  const g = frame(spec, bytes, cap);
  const p = new RespParser(limits);
  let off = 0;
  let at = 5;
  for (let i = 0; i < g.count; i++) {
    const r = p.parse(bytes, off);
    if (!(r > 0)) return t.fail(`${label}: frame ${i}: the reference says ${r} at ${off}`);
    const argc = g.table[at];
    const got = [];
    for (let k = 0; k < argc; k++) {
      const s = g.table[at + 1 + 2 * k];
      got.push(bytes.subarray(s, s + g.table[at + 2 + 2 * k]).toString('latin1'));
    }
    const want = respArgs(p);
    if (JSON.stringify(got) !== JSON.stringify(want)) return t.fail(`${label}: frame ${i}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    at += 1 + 2 * argc;
    off += r;
  }
  if (off !== g.consumed) return t.fail(`${label}: consumed ${g.consumed}, the reference ${off}`);
  if (g.n !== at) return t.fail(`${label}: ${g.n} ints written, records end at ${at}`);
  const fresh = new RespParser(limits);
  const r = off < bytes.length ? fresh.parse(bytes, off) : RESP_NEED_MORE;
  if (g.status === FrameStatus.Ok && r !== RESP_NEED_MORE) return t.fail(`${label}: codec waits at ${off}, the reference says ${r}`);
  if (g.status === FrameStatus.Error && r !== PROTOCOL_ERROR) return t.fail(`${label}: codec error at ${off}, the reference says ${r}`);
  if (g.status === FrameStatus.Fallback && bytes[off] === 42 && cap >= 1 << 16) return t.fail(`${label}: fallback on an array`);
  return true;
}

t.test('resp: the codec frames what RespParser parses, and stops where it stops', async (t) => {
  const r = prng(0x5eed1);
  const limits = { maxArgs: 8, maxBulk: 64 };
  const spec = codecSpec({ type: 'resp', ...limits });
  let bad = 0;
  const tally = [0, 0, 0, 0];
  for (let i = 0; i < ITERATIONS && bad < 5; i++) {
    const bytes = respInput(r);
    const g = frame(spec, bytes);
    tally[g.status]++;
    if (checkResp(t, spec, limits, bytes, `seed 0x5eed1 #${i} ${JSON.stringify(bytes.toString('latin1'))}`, 1 << 16) !== true) bad++;
  }
  t.equal(bad, 0, `${ITERATIONS} inputs agree (ok ${tally[0]}, fallback ${tally[2]}, error ${tally[3]})`);
  t.ok(tally[0] > 0 && tally[2] > 0 && tally[3] > 0, 'the inputs reach every outcome');
});

t.test('resp: a frame table too small for the rest stops after whole frames', async (t) => {
  const r = prng(0x5eed2);
  const spec = codecSpec({ type: 'resp' });
  let bad = 0;
  let stopped = 0;
  for (let i = 0; i < ITERATIONS / 4 && bad < 5; i++) {
    const bytes = respInput(r);
    const cap = 5 + r.int(12);
    const g = frame(spec, bytes, cap);
    if (g.status === FrameStatus.Stopped) stopped++;
    if (checkResp(t, spec, {}, bytes, `seed 0x5eed2 #${i} cap ${cap}`, cap) !== true && g.status !== FrameStatus.Stopped) bad++;
  }
  t.equal(bad, 0, 'whatever the room, the frames reported are right');
  t.ok(stopped > 0, 'some inputs did not fit');
});

// ---------------------------------------------------------------- http1

function httpInput(r) {
  const reqs = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const method = r.pick(['GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'BREW', 'G T', '']);
    const target = r.pick(['/', '/', '/echo', '/a?b=c', 'http://h/x?y', 'HTTPS://h', 'https://h?q', '*', '/%7e', '']);
    const version = r.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.x', 'http/1.1']);
    const body = 'b'.repeat(r.pick([0, 0, 1, 5, 40]));
    const headers = [];
    if (r.int(12) !== 0) headers.push(`Host: ${r.pick(['h', 'x.y', ''])}`);
    if (r.int(6) === 0) headers.push('Host: dup');
    if (body.length || r.int(4) === 0) headers.push(`Content-Length: ${r.pick([body.length, body.length, body.length + 3, '1x', '', '99999999'])}`);
    if (r.int(8) === 0) headers.push(`Content-Length: ${r.pick([body.length, 7])}`);
    if (r.int(4) === 0) headers.push(`Connection: ${r.pick(['close', 'keep-alive', 'Keep-Alive, x', ' close ,', 'upgrade'])}`);
    if (r.int(3) === 0) headers.push(`Content-Type: ${r.pick(['text/plain', 'a/b; c=d', ''])}`);
    if (r.int(10) === 0) headers.push(`Transfer-Encoding: ${r.pick(['chunked', 'gzip'])}`);
    if (r.int(8) === 0) headers.push(`Expect: ${r.pick(['100-continue', '100-Continue', 'other'])}`);
    if (r.int(12) === 0) headers.push(r.pick(['Bad Name: v', ' folded', 'X-Ctl: a\x01b', 'X-Empty:', 'X-Tab:\tv\t', 'NoColon']));
    const extra = r.int(3);
    for (let k = 0; k < extra; k++) headers.push(`X-H${k}: ${'v'.repeat(r.int(30))}`);
    const pre = r.int(6) === 0 ? '\r\n' : '';
    reqs.push(`${pre}${method} ${target} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`);
  }
  const buf = Buffer.from(reqs.join(''), 'latin1');
  return r.int(3) !== 0 ? buf : mutate(r, buf);
}

function checkHttp(t, spec, limits, bytes, label) {
  const g = frame(spec, bytes);
  const p = new HttpParser(limits);
  let off = 0;
  let at = 5;
  const T = g.table;
  for (let i = 0; i < g.count; i++) {
    const r = p.parse(bytes, off);
    if (!(r > 0)) return t.fail(`${label}: frame ${i}: the reference says ${r} (${p.error}) at ${off}`);
    const b = p.base;
    const same =
      T[at] === b + r &&
      T[at + 1] === p.method &&
      ((T[at + 2] & 1) === 1) === p.keepAlive &&
      T[at + 3] === p.version &&
      T[at + 4] === b + p.methodStart &&
      T[at + 5] === b + p.methodEnd &&
      T[at + 6] === b + p.targetStart &&
      T[at + 7] === b + p.targetEnd &&
      T[at + 8] === b + p.pathStart &&
      T[at + 9] === b + p.pathEnd &&
      T[at + 11] === p.bodyLength &&
      (p.segCount === 0 || T[at + 10] === b + p.segs[0]) &&
      T[at + 12] === p.contentType &&
      T[at + 13] === p.headerCount;
    if (!same) return t.fail(`${label}: frame ${i} differs: ${JSON.stringify(Array.from(T.subarray(at, at + 14)))}`);
    for (let h = 0; h < p.headerCount * 4; h++) {
      if (T[at + 14 + h] !== b + p.headers[h]) return t.fail(`${label}: frame ${i}: header int ${h} differs`);
    }
    at += 14 + 4 * T[at + 13];
    off += r;
  }
  if (off !== g.consumed) return t.fail(`${label}: consumed ${g.consumed}, the reference ${off}`);
  if (off >= bytes.length) return g.status === FrameStatus.Ok || t.fail(`${label}: status ${g.status} after every byte`);
  const fresh = new HttpParser(limits);
  const r = fresh.parse(bytes, off);
  if (g.status === FrameStatus.Ok) {
    if (r !== HTTP_NEED_MORE) return t.fail(`${label}: codec waits at ${off}, the reference says ${r} (${fresh.error})`);
    if ((g.detail === 2) !== fresh.awaitingBody) return t.fail(`${label}: body awaited ${g.detail === 2}, the reference ${fresh.awaitingBody}`);
  } else if (g.status === FrameStatus.Error) {
    if (r !== -g.detail) return t.fail(`${label}: codec answers ${g.detail} at ${off}, the reference ${r} (${fresh.error})`);
  } else if (g.status === FrameStatus.Fallback) {
    const head = bytes.subarray(off).toString('latin1').toLowerCase();
    if (!head.includes('transfer-encoding') && !head.includes('expect')) return t.fail(`${label}: fallback without a reason`);
    if (r < 0 && !head.includes('transfer-encoding')) return t.fail(`${label}: fallback where the reference fails (${fresh.error})`);
  } else {
    return t.fail(`${label}: status ${g.status}`);
  }
  return true;
}

t.test('http1: the codec frames what HttpParser parses, and fails with its status', async (t) => {
  const r = prng(0x4771);
  const limits = { maxHeaderBytes: 240, maxHeaders: 6, maxBodyBytes: 32 };
  const spec = codecSpec({ type: 'http1', ...limits });
  let bad = 0;
  const tally = [0, 0, 0, 0];
  for (let i = 0; i < ITERATIONS && bad < 5; i++) {
    const bytes = httpInput(r);
    tally[frame(spec, bytes).status]++;
    if (checkHttp(t, spec, limits, bytes, `seed 0x4771 #${i} ${JSON.stringify(bytes.toString('latin1'))}`) !== true) bad++;
  }
  t.equal(bad, 0, `${ITERATIONS} inputs agree (ok ${tally[0]}, fallback ${tally[2]}, error ${tally[3]})`);
  t.ok(tally[0] > 0 && tally[2] > 0 && tally[3] > 0, 'the inputs reach every outcome');
});

// ---------------------------------------------------------------- line, delimiter, fixed, length-field

/** The plain definitions (lib/codec.ts): frames as [payloadStart, payloadEnd], and what stops them. */
function reference(o, b) {
  const frames = [];
  let at = 0;
  const max = o.maxFrame ?? 65536;
  for (;;) {
    const avail = b.length - at;
    if (avail <= 0) return { frames, consumed: at, status: 0 };
    if (o.type === 'line' || o.type === 'delimiter') {
      const d = o.type === 'line' ? Buffer.from('\n') : Buffer.from(o.delimiter, 'latin1');
      const k = b.subarray(at, at + Math.min(avail, max)).indexOf(d);
      if (k < 0) return { frames, consumed: at, status: avail >= max ? 3 : 0 };
      let pe = at + k;
      if (o.type === 'line' && pe > at && b[pe - 1] === 13) pe--;
      frames.push([at, pe]);
      at += k + d.length;
    } else if (o.type === 'fixed') {
      if (avail < o.size) return { frames, consumed: at, status: 0 };
      frames.push([at, at + o.size]);
      at += o.size;
    } else {
      const fo = o.fieldOffset ?? 0;
      const fl = o.fieldLength ?? 4;
      const head = fo + fl;
      if (avail < head) return { frames, consumed: at, status: 0 };
      let v = 0;
      for (let i = 0; i < fl; i++) v = v * 256 + b[at + fo + (o.littleEndian ? fl - 1 - i : i)];
      const len = head + v + (o.adjustment ?? 0);
      const strip = o.strip ?? head;
      if (len < head || len < strip) return { frames, consumed: at, status: 3 };
      if (len > max) return { frames, consumed: at, status: 3 };
      if (avail < len) return { frames, consumed: at, status: 0 };
      frames.push([at + strip, at + len]);
      at += len;
    }
  }
}

const SIMPLE = [
  { type: 'line', maxFrame: 24 },
  { type: 'delimiter', delimiter: '\r\n\r\n', maxFrame: 30 },
  { type: 'delimiter', delimiter: '|', maxFrame: 10 },
  { type: 'fixed', size: 7 },
  { type: 'length-field', fieldLength: 2, maxFrame: 40 },
  { type: 'length-field', fieldOffset: 1, fieldLength: 1, adjustment: -1, strip: 0, maxFrame: 40 },
  { type: 'length-field', fieldLength: 4, littleEndian: true, adjustment: 2, maxFrame: 64 },
  { type: 'length-field', fieldLength: 3, maxFrame: 1000 },
];

t.test('line, delimiter, fixed, length-field: the codec frames as their definitions', async (t) => {
  const r = prng(0xf12ed);
  for (const o of SIMPLE) {
    const spec = codecSpec(o);
    let bad = 0;
    for (let i = 0; i < ITERATIONS / 4 && bad < 3; i++) {
      const bytes = Buffer.from(Array.from({ length: r.int(80) }, () => (r.int(3) === 0 ? r.pick([10, 13, 124, 0, 1, 2, 3]) : r.int(256))));
      const g = frame(spec, bytes);
      const want = reference(o, bytes);
      const got = [];
      for (let k = 0; k < g.count; k++) got.push([g.table[5 + 2 * k], g.table[6 + 2 * k]]);
      const same = JSON.stringify(got) === JSON.stringify(want.frames) && g.consumed === want.consumed && g.status === want.status;
      if (!same) {
        bad++;
        t.fail(`${JSON.stringify(o)} #${i} ${bytes.toString('hex')}: ${JSON.stringify([got, g.consumed, g.status])} vs ${JSON.stringify([want.frames, want.consumed, want.status])}`);
      }
    }
    t.equal(bad, 0, `${o.type} ${JSON.stringify(o)}: ${ITERATIONS / 4} inputs agree`);
  }
});
