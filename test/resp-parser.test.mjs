// The RESP2 request parser of examples/redis on its own: no sockets. Feeds bytes the way a ringloop
// connection does and checks commands, inline splitting, protocol errors and limits.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { NEED_MORE, PROTOCOL_ERROR, RespParser, parseInt64, parseInteger } from '../dist/examples/redis/resp.js';
import { feedReads } from './helpers/reads.mjs';

/** The arguments of the command `p` just parsed, as latin1 strings. */
function args(p) {
  const out = [];
  for (let i = 0; i < p.argc; i++) out.push(Buffer.from(p.src.subarray(p.argOff[i], p.argOff[i] + p.argLen[i])).toString('latin1'));
  return out;
}

/** Feeds `chunks` as successive reads; returns the commands (argc 0 ones included, as []) and any error. */
function feed(chunks, limits) {
  const p = new RespParser(limits);
  const commands = [];
  const { code, leftover } = feedReads(p, chunks, NEED_MORE, () => commands.push(args(p)));
  if (code !== 0) return { commands, error: p.error };
  return { commands, error: null, leftover };
}

const bulk = (...a) => `*${a.length}\r\n${a.map((s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`).join('')}`;

const STREAM = Buffer.from(
  [
    bulk('SET', 'key', 'value'),
    'PING\r\n',
    bulk('GET', 'key'),
    'set "a b" \'c d\' "\\x41\\n\\t\\"q" \'it\\\'s\'\n',
    bulk('MSET', 'k\r\n1', '', 'bin\x00\xff', 'x'.repeat(300)),
    '\r\n',
    '*0\r\n',
    '   ECHO   spaced   \r\n',
    bulk('DEL'),
    '*-1\r\n',
  ].join(''),
  'latin1',
);

const EXPECTED = [
  ['SET', 'key', 'value'],
  ['PING'],
  ['GET', 'key'],
  ['set', 'a b', 'c d', 'A\n\t"q', "it's"],
  ['MSET', 'k\r\n1', '', 'bin\x00\xff', 'x'.repeat(300)],
  [],
  [],
  ['ECHO', 'spaced'],
  ['DEL'],
  [],
];

t.test('parses a mixed pipeline of arrays and inline commands', async (t) => {
  const { commands, error, leftover } = feed([STREAM]);
  t.equal(error, null);
  t.same(commands, EXPECTED);
  t.equal(leftover, 0);
});

t.test('split in two at every byte boundary gives the same commands', async (t) => {
  const bad = [];
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { commands, error } = feed([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    if (error || JSON.stringify(commands) !== JSON.stringify(EXPECTED)) bad.push(cut);
  }
  t.same(bad, [], `${STREAM.length + 1} splits`);
});

t.test('one byte at a time, and random splits', async (t) => {
  const bytes = [];
  for (let i = 0; i < STREAM.length; i++) bytes.push(STREAM.subarray(i, i + 1));
  t.same(feed(bytes).commands, EXPECTED, 'byte by byte');
  let bad = 0;
  for (let round = 0; round < 300; round++) {
    const cuts = Array.from({ length: 1 + Math.floor(Math.random() * 15) }, () => Math.floor(Math.random() * STREAM.length)).sort((a, b) => a - b);
    const chunks = [];
    let last = 0;
    for (const c of [...cuts, STREAM.length]) {
      chunks.push(STREAM.subarray(last, c));
      last = c;
    }
    if (JSON.stringify(feed(chunks).commands) !== JSON.stringify(EXPECTED)) bad++;
  }
  t.equal(bad, 0, '300 random splits');
});

t.test('array arguments point into the input (no copy); a large command resumes', async (t) => {
  const p = new RespParser();
  const buf = Buffer.from(bulk('ECHO', 'hello'));
  t.equal(p.parse(buf, 0), buf.length);
  t.equal(p.src, buf, 'src is the input buffer');
  // 10000 arguments arriving in pieces: each piece continues where the last stopped.
  const many = Buffer.from(bulk('DEL', ...Array.from({ length: 10000 }, (_, i) => `key:${i}`)));
  const q = new RespParser();
  let r = NEED_MORE;
  for (let end = 1000; r === NEED_MORE; end = Math.min(end + 1000, many.length)) r = q.parse(many.subarray(0, end), 0);
  t.equal(r, many.length);
  t.equal(q.argc, 10001);
  t.equal(args(q)[10000], 'key:9999');
});

t.test('protocol errors, worded as redis', async (t) => {
  const cases = [
    ['*abc\r\n', 'invalid multibulk length'],
    ['*1x\r\n', 'invalid multibulk length'],
    ['*+1\r\n', 'invalid multibulk length'],
    ['*01\r\n', 'invalid multibulk length'],
    [`*${1024 * 1024 + 1}\r\n`, 'invalid multibulk length'],
    ['*1\r\n:1\r\n', "expected '$', got ':'"],
    ['*1\r\n$-1\r\n', 'invalid bulk length'],
    ['*1\r\n$x\r\n', 'invalid bulk length'],
    ['*1\r\n$3\r\nabcd\r\n', 'expected CRLF after a bulk string'],
    ['*1\r\n$3\r\nabc\n\n', 'expected CRLF after a bulk string'],
    ['*1\rx', 'expected LF after CR'],
    ['SET "a b\r\n', 'unbalanced quotes in request'],
    ['SET "a"b\r\n', 'unbalanced quotes in request'],
    ["SET 'a\r\n", 'unbalanced quotes in request'],
    [`*1${'1'.repeat(70000)}`, 'too big mbulk count string'],
    [`*1\r\n$1${'1'.repeat(70000)}`, 'too big bulk count string'],
    [`PING ${'x'.repeat(70000)}`, 'too big inline request'],
  ];
  for (const [input, want] of cases) {
    const p = new RespParser();
    const r = p.parse(Buffer.from(input), 0);
    t.equal(r, PROTOCOL_ERROR, JSON.stringify(input.slice(0, 30)));
    t.equal(p.error, want, `-> ${want}`);
    t.equal(p.parse(Buffer.from('PING\r\n'), 0), PROTOCOL_ERROR, 'the error sticks');
  }
  t.equal(feed([Buffer.from(bulk('SET', 'k', 'x'.repeat(101)))], { maxBulk: 100 }).error, 'invalid bulk length', 'maxBulk option');
  t.equal(feed([Buffer.from('*11\r\n')], { maxArgs: 10 }).error, 'invalid multibulk length', 'maxArgs option');
  t.equal(feed([Buffer.from(`PING ${'x'.repeat(60000)}\r\n`)]).commands[0]?.[1].length, 60000, 'a 60 KB inline command is fine');
});

t.test('integers as redis string2ll', async (t) => {
  const n = (s) => parseInteger(Buffer.from(s), 0, s.length);
  const i64 = (s) => parseInt64(Buffer.from(s), 0, s.length);
  t.equal(n('0'), 0);
  t.equal(n('123'), 123);
  t.equal(n('-5'), -5);
  for (const bad of ['', '-', '-0', '01', '+1', ' 1', '1 ', '1.0', 'x', '123456789012345678901']) t.equal(n(bad), null, JSON.stringify(bad));
  t.equal(i64('9223372036854775807'), 9223372036854775807n, 'int64 max as bigint');
  t.equal(i64('-9223372036854775808'), -9223372036854775808n, 'int64 min');
  t.equal(i64('9223372036854775808'), null, 'over int64 max');
  t.equal(i64('9007199254740991'), 9007199254740991, 'safe integers stay numbers');
  t.equal(i64('9007199254740993'), 9007199254740993n);
});

t.test('random byte strings and mutations never throw', async (t) => {
  const inputs = [];
  for (let i = 0; i < 3000; i++) inputs.push(randomBytes(1 + Math.floor(Math.random() * 200)));
  const alphabet = Buffer.from('*$0123456789-\r\n "\'\\xSETGET');
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.alloc(1 + Math.floor(Math.random() * 100));
    for (let k = 0; k < b.length; k++) b[k] = alphabet[Math.floor(Math.random() * alphabet.length)];
    inputs.push(b);
  }
  for (let i = 0; i < 4000; i++) {
    const b = [...STREAM];
    for (let e = 0; e < 1 + Math.floor(Math.random() * 4); e++) {
      const at = Math.floor(Math.random() * b.length);
      const kind = Math.floor(Math.random() * 4);
      if (kind === 0) b[at] = Math.floor(Math.random() * 256);
      else if (kind === 1) b.splice(at, 1);
      else if (kind === 2) b.splice(at, 0, [13, 10, 42, 36, 48, 34][Math.floor(Math.random() * 6)]);
      else b.length = at;
    }
    inputs.push(Buffer.from(b));
  }
  const started = Date.now();
  const problems = [];
  for (const input of inputs) {
    const p = new RespParser({ maxBulk: 1 << 20 });
    try {
      let off = 0;
      for (let k = 0; k < 1000; k++) {
        const r = p.parse(input, off);
        if (!Number.isInteger(r) || r < -1) throw new Error(`result ${r}`);
        if (r <= 0) break;
        if (off + r > input.length) throw new Error('consumed past the end');
        for (let a = 0; a < p.argc; a++) if (p.argOff[a] < 0 || p.argOff[a] + p.argLen[a] > p.src.length) throw new Error('argument out of range');
        off += r;
      }
    } catch (e) {
      problems.push(`${JSON.stringify(input.toString('latin1').slice(0, 60))}: ${e.message}`);
    }
  }
  t.same(problems.slice(0, 5), [], `${inputs.length} inputs: no throw, arguments in range`);
  t.ok(Date.now() - started < 20000, `took ${Date.now() - started} ms`);
});
