// The HTTP/1.1 request parser of examples/http on its own: no sockets. Feeds bytes the way a
// ringloop connection does (unconsumed bytes come back followed by what arrived since) and checks
// the requests, the errors and the limits.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { HttpParser, Method, NEED_MORE, describe } from '../dist/examples/http/parser.js';
import { feedReads, splitAt } from './helpers/reads.mjs';

/**
 * Feeds `chunks` one after the other, as reads of a connection: parses every complete request,
 * keeps the unconsumed tail (copied into a fresh buffer, as the reactor may move it) for the next
 * read. Returns the requests (as plain values) and, if one failed, `{ status, error }`.
 */
function feed(chunks, limits) {
  const p = new HttpParser(limits);
  const requests = [];
  const { code, leftover } = feedReads(p, chunks, NEED_MORE, (buf) => requests.push(describe(p, buf)));
  if (code !== 0) return { requests, failure: { status: -code, error: p.error } };
  return { requests, failure: null, leftover };
}

const CRLF = '\r\n';
const PIPELINE = Buffer.from(
  [
    `GET / HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`,
    `${CRLF}HEAD /?q=1&r=%20 HTTP/1.1${CRLF}host: b${CRLF}User-Agent: t${CRLF}${CRLF}`,
    `POST /echo HTTP/1.1${CRLF}Host: c${CRLF}Content-Type: text/x${CRLF}Content-Length: 11${CRLF}${CRLF}hello world`,
    `POST /echo HTTP/1.1${CRLF}Host: d${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}` +
      `5${CRLF}hello${CRLF}1;ext=1;b="x y"${CRLF} ${CRLF}00A${CRLF}0123456789${CRLF}0${CRLF}X-Trailer: yes${CRLF}Other: 2${CRLF}${CRLF}`,
    `GET /x HTTP/1.0${CRLF}Connection: keep-alive${CRLF}${CRLF}`,
    `PUT /echo HTTP/1.1${CRLF}Host: e${CRLF}Content-Length: 0${CRLF}Connection: TE, close${CRLF}${CRLF}`,
  ].join(''),
);

const EXPECTED = [
  { method: 'GET', target: '/', path: '/', version: 'HTTP/1.1', keepAlive: true, headers: [['Host', 'a']], trailers: [], body: '', chunked: false },
  {
    method: 'HEAD', target: '/?q=1&r=%20', path: '/', version: 'HTTP/1.1', keepAlive: true,
    headers: [['host', 'b'], ['User-Agent', 't']], trailers: [], body: '', chunked: false,
  },
  {
    method: 'POST', target: '/echo', path: '/echo', version: 'HTTP/1.1', keepAlive: true,
    headers: [['Host', 'c'], ['Content-Type', 'text/x'], ['Content-Length', '11']], trailers: [], body: 'hello world', chunked: false,
  },
  {
    method: 'POST', target: '/echo', path: '/echo', version: 'HTTP/1.1', keepAlive: true,
    headers: [['Host', 'd'], ['Transfer-Encoding', 'chunked']], trailers: [['X-Trailer', 'yes'], ['Other', '2']],
    body: 'hello 0123456789', chunked: true,
  },
  { method: 'GET', target: '/x', path: '/x', version: 'HTTP/1.0', keepAlive: true, headers: [['Connection', 'keep-alive']], trailers: [], body: '', chunked: false },
  {
    method: 'PUT', target: '/echo', path: '/echo', version: 'HTTP/1.1', keepAlive: false,
    headers: [['Host', 'e'], ['Content-Length', '0'], ['Connection', 'TE, close']], trailers: [], body: '', chunked: false,
  },
];

const plain = (requests) => requests.map(({ length, ...r }) => ({ ...r, body: r.body.toString('latin1') }));

t.test('parses a pipelined sequence in one buffer', async (t) => {
  const { requests, failure, leftover } = feed([PIPELINE]);
  t.equal(failure, null, 'no failure');
  t.same(plain(requests), EXPECTED, 'every request, in order');
  t.equal(requests.reduce((n, r) => n + r.length, 0), PIPELINE.length, 'the lengths add up to the whole input');
  t.equal(leftover, 0, 'nothing left over');
});

t.test('split in two at every byte boundary gives the same requests', async (t) => {
  const bad = [];
  for (let cut = 0; cut <= PIPELINE.length; cut++) {
    const { requests, failure } = feed(splitAt(PIPELINE, [cut]));
    if (failure || JSON.stringify(plain(requests)) !== JSON.stringify(EXPECTED)) bad.push(cut);
  }
  t.same(bad, [], `${PIPELINE.length + 1} splits`);
});

t.test('one byte at a time gives the same requests', async (t) => {
  const chunks = [];
  for (let i = 0; i < PIPELINE.length; i++) chunks.push(PIPELINE.subarray(i, i + 1));
  const { requests, failure } = feed(chunks);
  t.equal(failure, null);
  t.same(plain(requests), EXPECTED);
});

t.test('random splits into many pieces give the same requests', async (t) => {
  let bad = 0;
  for (let round = 0; round < 300; round++) {
    const n = 1 + Math.floor(Math.random() * 20);
    const cuts = Array.from({ length: n }, () => Math.floor(Math.random() * PIPELINE.length)).sort((a, b) => a - b);
    const { requests, failure } = feed(splitAt(PIPELINE, cuts));
    if (failure || JSON.stringify(plain(requests)) !== JSON.stringify(EXPECTED)) bad++;
  }
  t.equal(bad, 0, '300 random splits');
});

t.test('request fields: method codes, keep-alive rules, absolute-form path', async (t) => {
  const p = new HttpParser();
  const one = (s) => {
    const b = Buffer.from(s);
    const r = p.parse(b, 0);
    t.equal(r, b.length, `complete: ${JSON.stringify(s.slice(0, 30))}`);
    return { info: describe(p, b), method: p.method };
  };
  t.equal(one(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`).method, Method.GET);
  t.equal(one(`DELETE / HTTP/1.1\r\nHost: x\r\n\r\n`).method, Method.DELETE);
  t.equal(one(`OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n`).method, Method.OPTIONS);
  t.equal(one(`get / HTTP/1.1\r\nHost: x\r\n\r\n`).method, Method.Other, 'methods are case-sensitive');
  t.equal(one(`BREW / HTTP/1.1\r\nHost: x\r\n\r\n`).method, Method.Other);
  t.equal(one(`GET / HTTP/1.0\r\n\r\n`).info.keepAlive, false, 'HTTP/1.0 closes by default');
  t.equal(one(`GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n`).info.keepAlive, true, 'HTTP/1.0 keep-alive');
  t.equal(one(`GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n`).info.keepAlive, false, 'Connection: close');
  t.equal(one(`GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n\r\n`).info.keepAlive, true);
  t.equal(one(`GET http://example.com/echo?x HTTP/1.1\r\nHost: x\r\n\r\n`).info.path, '/echo', 'absolute-form');
  t.equal(one(`GET http://example.com HTTP/1.1\r\nHost: x\r\n\r\n`).info.path, '', 'absolute-form without a path');
  t.same(one(`GET / HTTP/1.1\r\nHost:   spaced  \t\r\nEmpty:\r\n\r\n`).info.headers, [['Host', 'spaced'], ['Empty', '']], 'OWS trimmed');
});

t.test('chunked bodies', async (t) => {
  const head = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const cases = [
    { body: `0\r\n\r\n`, want: '' },
    { body: `1\r\na\r\n0\r\n\r\n`, want: 'a' },
    { body: `A\r\n0123456789\r\nf\r\n0123456789abcde\r\n0\r\n\r\n`, want: '01234567890123456789abcde' },
    { body: `0003;name=value\r\nabc\r\n000\r\n\r\n`, want: 'abc' },
    { body: `2 ;x\r\nab\r\n0\r\nT: 1\r\n\r\n`, want: 'ab' },
  ];
  for (const { body, want } of cases) {
    const { requests, failure } = feed([Buffer.from(head + body)]);
    t.equal(failure, null, JSON.stringify(body));
    t.equal(requests[0]?.body.toString(), want, `decoded ${JSON.stringify(body)}`);
  }
  // A 64 KiB body in uneven chunks, split across reads.
  const data = randomBytes(64 * 1024);
  const parts = [Buffer.from(head)];
  for (let at = 0, size = 1; at < data.length; size = (size * 7 + 13) % 5000 + 1) {
    const piece = data.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    at += piece.length;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  const wire = Buffer.concat(parts);
  const reads = splitAt(wire, [100, 5000, 5001, 30000, 60000, wire.length - 3]);
  const { requests, failure } = feed(reads);
  t.equal(failure, null);
  t.ok(requests[0].body.equals(data), '64 KiB chunked body decoded intact');
});

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 7.1.1),
// chunk-ext-name = token, chunk-ext-val = token / quoted-string.
const CHUNKED_HEAD = 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
/** A chunked request whose first chunk-size line is `sizeLine`, followed by as many data bytes as it says. */
const chunkedWith = (sizeLine) => Buffer.from(`${CHUNKED_HEAD}${sizeLine}\r\n${dataOf(sizeLine)}\r\n0\r\n\r\n`, 'latin1');
const dataOf = (sizeLine) => 'abcdefgh'.repeat(8).slice(0, parseInt(sizeLine, 16));

const VALID_EXTENSIONS = [
  '3;a=b',
  '3 ; a = "x\\"y"',
  '3;a;b=c',
  '3;a',
  '3\t;\ta\t=\tb',
  '3;a="";b="\\\\"',
  '3;a="sp ace\ttab"',
  '3;a="\xe9obs-text"',
  "3;!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~09AZaz",
];

t.test('chunk extensions that follow the grammar are accepted and ignored', async (t) => {
  for (const line of VALID_EXTENSIONS) {
    const { requests, failure } = feed([chunkedWith(line)]);
    t.equal(failure, null, `${JSON.stringify(line)} accepted`);
    t.equal(requests[0]?.body.toString(), dataOf(line), `${JSON.stringify(line)}: the data after it is the chunk's`);
  }
  const last = feed([Buffer.from(`${CHUNKED_HEAD}3\r\nabc\r\n0;last=yes\r\n\r\n`)]);
  t.equal(last.requests[0]?.body.toString(), 'abc', 'on the last chunk too');
});

const INVALID_EXTENSIONS = [
  ['no name after ;', '2;'],
  ['no name before =', '3;=x'],
  ['words without ;', '3;a b c'],
  ['no value after =', '3;a='],
  ['unterminated quoted value', '3;a="x'],
  ['quote escaped at the end', '3;a="x\\"'],
  ['bytes after the quoted value', '3;a="x"y'],
  ['a quoted name', '3;"a"=b'],
  ['a value with a separator', '3;a=b/c'],
  ['a value with an unquoted space', '3;a=b c'],
  ['trailing whitespace', '3;a=b '],
  ['whitespace after the size only', '3 '],
  ['two ;', '3;;a'],
  ['a control byte in a quoted value', '3;a="x\x01"'],
  ['DEL in a quoted value', '3;a="x\x7f"'],
  ['a control byte after a backslash', '3;a="\\\x01"'],
  ['no ; before the name', '3a=b'],
];

t.test('chunk extensions outside the grammar are a 400', async (t) => {
  for (const [name, line] of INVALID_EXTENSIONS) {
    const { failure } = feed([chunkedWith(line)]);
    t.same(failure && { status: failure.status }, { status: 400 }, `${name}: ${JSON.stringify(line)} (${failure?.error ?? 'accepted'})`);
  }
});

t.test('a chunk extension arriving one byte at a time is judged once its line is complete', async (t) => {
  const bytes = (buf) => Array.from(buf, (_, i) => buf.subarray(i, i + 1));
  const good = feed(bytes(chunkedWith('3 ; a = "x\\"y"')));
  t.equal(good.failure, null, 'valid, byte by byte');
  t.equal(good.requests[0]?.body.toString(), 'abc');
  const bad = feed(bytes(chunkedWith('3;a="x')));
  t.equal(bad.failure?.status, 400, 'invalid, byte by byte');
});

t.test('Expect: 100-continue is reported once while the body is awaited', async (t) => {
  const p = new HttpParser();
  const head = Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n`);
  t.equal(p.parse(head, 0), NEED_MORE);
  t.equal(p.wantsContinue(), true, 'first time');
  t.equal(p.parse(head, 0), NEED_MORE);
  t.equal(p.wantsContinue(), false, 'only once');
  const full = Buffer.concat([head, Buffer.from('abc')]);
  t.equal(p.parse(full, 0), full.length);
  t.equal(p.wantsContinue(), false, 'not after the body');
});

const MALFORMED = [
  ['bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400],
  ['bare LF in headers', 'GET / HTTP/1.1\r\nHost: x\n\r\n', 400],
  ['bare CR', 'GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n', 400],
  ['garbage', 'GARBAGE\r\n\r\n', 400],
  ['no version', 'GET /\r\nHost: x\r\n\r\n', 400],
  ['double space', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['tab in target', 'GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['non-ASCII target', 'GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['lowercase version', 'GET / http/1.1\r\nHost: x\r\n\r\n', 400],
  ['short version', 'GET / HTTP/1\r\nHost: x\r\n\r\n', 400],
  ['version 2.0', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['version 1.2', 'GET / HTTP/1.2\r\nHost: x\r\n\r\n', 505],
  ['empty method', ' / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
  ['no colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 400],
  ['empty name', 'GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', 400],
  ['control byte in value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n', 400],
  ['NUL in value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', 400],
  ['missing Host in 1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400],
  ['Content-Length not a number', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\n', 400],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ['empty Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n', 400],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n', 400],
  ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
  ['Content-Length and chunked', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['chunked and Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400],
  ['unknown transfer coding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ['gzip, chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
  ['two Transfer-Encoding fields', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
  ['Transfer-Encoding in 1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ['chunk size with a sign', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', 400],
  ['bad chunk extension', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\na\r\n0\r\n\r\n', 400],
  ['chunk data too long', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n', 400],
  ['bare LF after chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n', 400],
  ['bad trailer', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n', 400],
];

t.test('malformed requests are errors with the right status', async (t) => {
  for (const [name, text, status] of MALFORMED) {
    const { failure } = feed([Buffer.from(text, 'latin1')]);
    t.equal(failure?.status, status, `${name}: ${failure?.error ?? 'no failure'}`);
  }
});

t.test('an error sticks until reset()', async (t) => {
  const p = new HttpParser();
  const bad = Buffer.from('GARBAGE\r\n\r\n');
  t.equal(p.parse(bad, 0), -400);
  const good = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  t.equal(p.parse(good, 0), -400, 'still failed');
  p.reset();
  t.equal(p.parse(good, 0), good.length, 'parses again after reset');
});

t.test('header block limits: 431 over 8 KiB, complete or not', async (t) => {
  const filler = (n) => `X-Fill: ${'a'.repeat(n)}\r\n`;
  const head = 'GET / HTTP/1.1\r\nHost: x\r\n';
  // Exactly at the limit passes.
  const base = head.length + '\r\n'.length + 'X-Fill: \r\n'.length;
  const exact = `${head}${filler(8192 - base)}\r\n`;
  t.equal(exact.length, 8192);
  t.equal(feed([Buffer.from(exact)]).requests.length, 1, 'a header block of exactly 8192 bytes is accepted');
  const over = `${head}${filler(8193 - base)}\r\n`;
  t.equal(feed([Buffer.from(over)]).failure?.status, 431, 'one byte more: 431');
  // Incomplete but already too large: no need to wait for the end.
  t.equal(feed([Buffer.from(`${head}${filler(9000)}`)]).failure?.status, 431, 'complete field, no end of block');
  t.equal(feed([Buffer.from(`${head}X-Fill: ${'a'.repeat(9000)}`)]).failure?.status, 431, 'a field without its line end');
  t.equal(feed([Buffer.from(`GET /${'a'.repeat(9000)}`)]).failure?.status, 431, 'a request line without its end');
  // Many small fields.
  const many = `${head}${Array.from({ length: 120 }, (_, i) => `F${i}: v\r\n`).join('')}\r\n`;
  t.equal(feed([Buffer.from(many)]).failure?.status, 431, 'more than 100 fields');
  // Custom limits.
  t.equal(feed([Buffer.from(exact)], { maxHeaderBytes: 1024 }).failure?.status, 431, 'maxHeaderBytes option');
  // Split byte by byte, the 431 still comes (and not before the limit).
  const chunks = [];
  const big = Buffer.from(over);
  for (let i = 0; i < big.length; i++) chunks.push(big.subarray(i, i + 1));
  t.equal(feed(chunks).failure?.status, 431, 'byte by byte');
});

t.test('body limits: 413 over 1 MiB', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${MiB + 1}\r\n\r\n`)]).failure?.status, 413, 'declared Content-Length over the limit, before any body byte');
  t.equal(feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n`)]).failure?.status, 413, 'huge Content-Length');
  const body = Buffer.alloc(MiB, 120);
  const exact = feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${MiB}\r\n\r\n`), body]);
  t.equal(exact.requests[0]?.body.length, MiB, 'exactly 1 MiB is accepted');
  const chunk = `10000\r\n${'y'.repeat(0x10000)}\r\n`;
  const chunked = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(16)}0\r\n\r\n`;
  t.equal(feed([Buffer.from(chunked)]).requests[0]?.body.length, MiB, 'exactly 1 MiB chunked is accepted');
  const over = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(16)}1\r\n`;
  t.equal(feed([Buffer.from(over)]).failure?.status, 413, 'chunks adding up to more than 1 MiB');
  t.equal(feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n`)]).failure?.status, 413, 'a huge chunk size');
  t.equal(feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n`)], { maxBodyBytes: 10 }).failure?.status, 413, 'maxBodyBytes option');
  // Tiny chunks with long extensions: the framing is bounded too.
  const framing = `1;${'e'.repeat(4000)}\r\na\r\n`;
  const wire = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${framing.repeat(300)}`;
  t.equal(feed([Buffer.from(wire)], { maxBodyBytes: 1024 }).failure?.status, 413, 'framing beyond maxBodyBytes + 64 KiB');
  t.equal(feed([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}`)]).failure?.status, 400, 'a chunk-size line over 4 KiB');
});

// ---- Fuzz-ish: never throws, never loops, always a valid result ----

const VALID_RESULTS = new Set([400, 413, 431, 501, 505]);

function checkNeverThrows(t, inputs, label) {
  const started = Date.now();
  const problems = [];
  for (const input of inputs) {
    const p = new HttpParser({ maxBodyBytes: 4096 });
    try {
      // Whole, then as two reads.
      let off = 0;
      for (let k = 0; k < 64; k++) {
        const r = p.parse(input, off);
        if (typeof r !== 'number' || !Number.isInteger(r)) throw new Error(`result ${r}`);
        if (r < 0 && !VALID_RESULTS.has(-r)) throw new Error(`status ${-r}`);
        if (r <= 0) break;
        if (off + r > input.length) throw new Error(`consumed ${r} past the end`);
        off += r;
      }
      const q = new HttpParser({ maxBodyBytes: 4096 });
      const cut = Math.floor(input.length / 2);
      const r1 = q.parse(input.subarray(0, cut), 0);
      if (r1 === NEED_MORE) q.parse(input, 0);
    } catch (e) {
      problems.push(`${JSON.stringify(input.toString('latin1').slice(0, 80))}: ${e.message}`);
    }
  }
  t.same(problems.slice(0, 5), [], `${inputs.length} ${label}: no throw, valid results`);
  t.ok(Date.now() - started < 20000, `${label} took ${Date.now() - started} ms`);
}

t.test('random byte strings', async (t) => {
  const inputs = [];
  for (let i = 0; i < 3000; i++) inputs.push(randomBytes(1 + Math.floor(Math.random() * 300)));
  // Random strings over the bytes that matter to the grammar.
  const alphabet = Buffer.from('GET POST/ HTTP/1.1\r\n:;0123456789abcdefHost Content-Length Transfer-Encoding chunked\t\x00');
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(Math.random() * 200);
    const b = Buffer.alloc(n);
    for (let k = 0; k < n; k++) b[k] = alphabet[Math.floor(Math.random() * alphabet.length)];
    inputs.push(b);
  }
  checkNeverThrows(t, inputs, 'random inputs');
});

t.test('random mutations of valid requests', async (t) => {
  const inputs = [];
  const source = [...PIPELINE];
  for (let i = 0; i < 4000; i++) {
    const b = [...source];
    const edits = 1 + Math.floor(Math.random() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(Math.random() * b.length);
      const kind = Math.floor(Math.random() * 4);
      if (kind === 0) b[at] = Math.floor(Math.random() * 256);
      else if (kind === 1) b.splice(at, 1);
      else if (kind === 2) b.splice(at, 0, [13, 10, 48, 58, 32, 255][Math.floor(Math.random() * 6)]);
      else b.length = at;
    }
    inputs.push(Buffer.from(b));
  }
  checkNeverThrows(t, inputs, 'mutated pipelines');
});
