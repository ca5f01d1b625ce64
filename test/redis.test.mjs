// The RESP2 example (examples/redis) served by ringloop with one loop, driven by a hand-written
// RESP client and, when installed, redis-cli and redis-benchmark.
import t from 'tap';
import { execFile } from 'node:child_process';
import { sleep } from './helpers/net.mjs';
import { RawClient, encode, has } from './helpers/resp.mjs';
import { lib, start } from './helpers/engine.mjs';
import { startExample } from './helpers/example.mjs';

const HANDLER = new URL('../dist/examples/redis/handler.js', import.meta.url);

/**
 * Parses one reply at `off`: returns [value, next] or null if incomplete. Simple strings become
 * strings, errors `{ err }`, integers numbers, bulk strings strings (latin1) or null, arrays arrays.
 */
function decode(buf, off) {
  if (off >= buf.length) return null;
  const nl = buf.indexOf('\r\n', off);
  if (nl < 0) return null;
  const line = buf.toString('latin1', off + 1, nl);
  const next = nl + 2;
  switch (buf[off]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [{ err: line }, next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > buf.length) return null;
      return [buf.toString('latin1', next, next + n), next + n + 2];
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const out = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = decode(buf, at);
        if (!r) return null;
        out.push(r[0]);
        at = r[1];
      }
      return [out, at];
    }
    default:
      throw new Error(`bad reply byte ${buf[off]} at ${off}: ${JSON.stringify(buf.toString('latin1', off, off + 40))}`);
  }
}

/** A RESP client over one socket: `send` raw bytes, `replies(n)` waits for n replies, decoded. */
class Client {
  static async open(port) {
    const c = new Client();
    c.raw = await RawClient.open(port);
    c.socket = c.raw.socket;
    c.reader = c.raw.reader;
    return c;
  }
  send(data) {
    this.socket.write(data);
  }
  async replies(n, ms = 10000) {
    return (await this.raw.replies(n, ms)).map((r) => decode(r, 0)[0]);
  }
  async call(...args) {
    this.send(encode(...args));
    const [r] = await this.replies(1);
    return r;
  }
  close() {
    return this.raw.close();
  }
}

async function server(t, options = {}) {
  const { port, engine } = await start(t, HANDLER, { numEventLoop: 1, ...options });
  const client = await Client.open(port);
  t.teardown(() => client.close());
  return { port, engine, client };
}

const NOT_INT = { err: 'ERR value is not an integer or out of range' };

t.test('100 pipelined commands in one write are answered in order', async (t) => {
  const { client } = await server(t);
  const cmds = [];
  const want = [];
  for (let i = 0; i < 100; i++) {
    switch (i % 4) {
      case 0:
        cmds.push(encode('SET', `k${i}`, `v${i}`));
        want.push('OK');
        break;
      case 1:
        cmds.push(encode('GET', `k${i - 1}`));
        want.push(`v${i - 1}`);
        break;
      case 2:
        cmds.push(encode('INCR', 'counter'));
        want.push((i + 2) / 4);
        break;
      case 3:
        cmds.push(encode('PING', `m${i}`));
        want.push(`m${i}`);
        break;
    }
  }
  client.send(Buffer.concat(cmds));
  t.same(await client.replies(100), want);
  t.equal(await client.call('DBSIZE'), 26, '25 keys + counter');
});

t.test('a pipeline whose replies exceed the out arena (20000 commands, ~10 MiB of replies)', { timeout: 60000 }, async (t) => {
  const { client } = await server(t);
  const value = Buffer.alloc(1000, 'q');
  const cmds = [];
  for (let i = 0; i < 10000; i++) cmds.push(encode('SET', `big${i}`, Buffer.concat([Buffer.from(`${i}:`), value])));
  for (let i = 0; i < 10000; i++) cmds.push(encode('GET', `big${i}`));
  client.send(Buffer.concat(cmds));
  const replies = await client.replies(20000, 40000);
  t.equal(replies.slice(0, 10000).filter((r) => r === 'OK').length, 10000, '10000 OK');
  const bad = [];
  for (let i = 0; i < 10000; i++) if (replies[10000 + i] !== `${i}:${value.toString()}`) bad.push(i);
  t.same(bad.slice(0, 5), [], '10000 values, in order');
});

t.test('strings: SET/GET/MSET/MGET/DEL/EXISTS/DBSIZE/FLUSHALL', async (t) => {
  const { client: c } = await server(t);
  t.equal(await c.call('SET', 'a', '1'), 'OK');
  t.equal(await c.call('GET', 'a'), '1');
  t.equal(await c.call('GET', 'missing'), null);
  const bin = Buffer.from([0, 1, 2, 13, 10, 255, 128]);
  t.equal(await c.call('SET', bin, bin), 'OK', 'binary key and value');
  t.equal(await c.call('GET', bin), bin.toString('latin1'), 'binary value back intact');
  t.equal(await c.call('SET', 'a', '2', 'NX'), null, 'NX on an existing key');
  t.equal(await c.call('SET', 'new', 'x', 'nx'), 'OK', 'NX on a new key (options are case-insensitive)');
  t.equal(await c.call('SET', 'nokey', 'x', 'XX'), null, 'XX on a missing key');
  t.equal(await c.call('SET', 'a', '3', 'XX'), 'OK');
  t.equal(await c.call('SET', 'a', '4', 'GET'), '3', 'SET ... GET returns the old value');
  t.same(await c.call('SET', 'a', '5', 'NX', 'XX'), { err: 'ERR syntax error' });
  t.same(await c.call('SET', 'a', '5', 'EX'), { err: 'ERR syntax error' });
  t.same(await c.call('SET', 'a', '5', 'EX', 'x'), NOT_INT);
  t.same(await c.call('SET', 'a', '5', 'EX', '0'), { err: "ERR invalid expire time in 'set' command" });
  t.equal(await c.call('MSET', 'm1', 'a', 'm2', 'b'), 'OK');
  t.same(await c.call('MGET', 'm1', 'nope', 'm2'), ['a', null, 'b']);
  t.same(await c.call('MSET', 'm1', 'a', 'm2'), { err: "ERR wrong number of arguments for 'mset' command" });
  t.equal(await c.call('EXISTS', 'm1', 'm2', 'm1', 'nope'), 3, 'EXISTS counts repeats');
  t.equal(await c.call('DBSIZE'), 5);
  t.equal(await c.call('DEL', 'm1', 'm2', 'nope'), 2);
  t.equal(await c.call('EXISTS', 'm1'), 0);
  t.equal(await c.call('FLUSHALL'), 'OK');
  t.equal(await c.call('DBSIZE'), 0);
  t.equal(await c.call('ECHO', 'hi there'), 'hi there');
  t.equal(await c.call('PING'), 'PONG');
});

t.test('integers: INCR/DECR/INCRBY/DECRBY and their errors', async (t) => {
  const { client: c } = await server(t);
  t.equal(await c.call('INCR', 'n'), 1);
  t.equal(await c.call('INCRBY', 'n', '41'), 42);
  t.equal(await c.call('DECR', 'n'), 41);
  t.equal(await c.call('DECRBY', 'n', '50'), -9);
  t.equal(await c.call('GET', 'n'), '-9');
  t.equal(await c.call('SET', 's', 'abc'), 'OK');
  t.same(await c.call('INCR', 's'), NOT_INT, 'INCR of a non-integer');
  t.same(await c.call('INCRBY', 'n', '1.5'), NOT_INT, 'non-integer increment');
  t.same(await c.call('SET', 'sp', ' 1'), 'OK');
  t.same(await c.call('INCR', 'sp'), NOT_INT, 'leading space is not an integer');
  t.equal(await c.call('SET', 'big', '9223372036854775806'), 'OK');
  t.equal(await c.call('INCR', 'big'), 9223372036854775807, 'reaches int64 max');
  t.equal(await c.call('GET', 'big'), '9223372036854775807', 'exact 64-bit value');
  t.same(await c.call('INCR', 'big'), { err: 'ERR increment or decrement would overflow' });
  t.same(await c.call('INCR', 'a', 'b'), { err: "ERR wrong number of arguments for 'incr' command" });
  t.equal(await c.call('SET', 't', '10', 'EX', '100'), 'OK');
  t.equal(await c.call('INCR', 't'), 11);
  t.ok((await c.call('TTL', 't')) > 90, 'INCR keeps the TTL');
});

t.test('expiry: EXPIRE/PEXPIRE/TTL/PTTL/PERSIST and SET EX/PX', async (t) => {
  const { client: c } = await server(t);
  t.equal(await c.call('TTL', 'nokey'), -2, 'TTL of a missing key');
  t.equal(await c.call('SET', 'k', 'v'), 'OK');
  t.equal(await c.call('TTL', 'k'), -1, 'TTL of a key without expiry');
  t.equal(await c.call('EXPIRE', 'k', '100'), 1);
  const ttl = await c.call('TTL', 'k');
  t.ok(ttl === 100 || ttl === 99, `TTL ${ttl} (rounded to the nearest second, as redis)`);
  t.equal(await c.call('EXPIRE', 'k', '50', 'GT'), 0, 'GT not met');
  t.equal(await c.call('EXPIRE', 'k', '50', 'LT'), 1, 'LT met');
  t.equal(await c.call('EXPIRE', 'k', '10', 'NX'), 0, 'NX: already has one');
  t.equal(await c.call('EXPIRE', 'nokey', '10'), 0, 'EXPIRE of a missing key');
  t.same(await c.call('EXPIRE', 'k', 'soon'), NOT_INT);
  t.same(await c.call('EXPIRE', 'k', '10', 'NX', 'XX'), { err: 'ERR NX and XX, GT or LT options at the same time are not compatible' });
  t.equal(await c.call('PERSIST', 'k'), 1);
  t.equal(await c.call('TTL', 'k'), -1, 'PERSIST removed the deadline');
  t.equal(await c.call('SET', 'k', 'v', 'EX', '100'), 'OK');
  t.equal(await c.call('SET', 'k', 'v2'), 'OK');
  t.equal(await c.call('TTL', 'k'), -1, 'a plain SET clears the TTL');
  t.equal(await c.call('SET', 'medium', 'v', 'PX', '20000'), 'OK');
  const pttl = await c.call('PTTL', 'medium');
  t.ok(pttl > 10000 && pttl <= 20000, `PTTL ${pttl}`);
  t.equal(await c.call('DEL', 'medium'), 1);
  t.equal(await c.call('SET', 'short', 'v', 'PX', '100'), 'OK');
  t.equal(await c.call('PEXPIRE', 'k', '100'), 1);
  await sleep(250);
  t.equal(await c.call('GET', 'short'), null, 'expired after PX 100');
  t.equal(await c.call('TTL', 'k'), -2, 'expired after PEXPIRE 100');
  t.equal(await c.call('EXISTS', 'k', 'short'), 0);
  t.equal(await c.call('SET', 'gone', 'v'), 'OK');
  t.equal(await c.call('EXPIRE', 'gone', '-1'), 1, 'a deadline in the past deletes the key');
  t.equal(await c.call('EXISTS', 'gone'), 0);
  t.equal(await c.call('DBSIZE'), 0);
});

t.test('active expiry runs from tick when the engine has a ticker', async (t) => {
  const { client: c } = await server(t, { ticker: true });
  const cmds = [];
  for (let i = 0; i < 500; i++) cmds.push(encode('SET', `tmp${i}`, 'x', 'PX', '50'));
  cmds.push(encode('SET', 'keep', 'x'));
  c.send(Buffer.concat(cmds));
  await c.replies(501);
  t.equal(await c.call('DBSIZE'), 501);
  let size = 501;
  for (let i = 0; i < 50 && size !== 1; i++) {
    await sleep(50);
    size = await c.call('DBSIZE');
  }
  t.equal(size, 1, 'the expired keys were reclaimed without being accessed');
});

t.test('errors: unknown command, wrong arity, inline commands', async (t) => {
  const { client: c } = await server(t);
  t.same(await c.call('FOO', 'bar', 'baz'), { err: "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' " });
  t.same(await c.call('nope'), { err: "ERR unknown command 'nope', with args beginning with: " });
  t.same(await c.call('GET'), { err: "ERR wrong number of arguments for 'get' command" });
  t.same(await c.call('get', 'a', 'b'), { err: "ERR wrong number of arguments for 'get' command" });
  t.same(await c.call('PING', 'a', 'b'), { err: "ERR wrong number of arguments for 'ping' command" });
  t.same(await c.call('SELECT', '1'), { err: 'ERR DB index is out of range' });
  t.equal(await c.call('SELECT', '0'), 'OK');
  t.same(await c.call('x\r\ny'), { err: "ERR unknown command 'x  y', with args beginning with: " }, 'CR/LF in an error become spaces');
  c.send('PING\r\nset inl "hello world"\r\n  get   inl  \nECHO \'q\\\'s\'\r\n\r\n');
  t.same(await c.replies(4), ['PONG', 'OK', 'hello world', "q's"], 'inline commands (quotes, bare LF, empty line)');
  t.equal(await c.call('PING'), 'PONG', 'still in sync');
});

t.test('client-compatibility commands', async (t) => {
  const { client: c } = await server(t);
  t.same(await c.call('COMMAND'), []);
  t.same(await c.call('COMMAND', 'DOCS'), []);
  t.ok((await c.call('COMMAND', 'COUNT')) > 20);
  t.same(await c.call('CONFIG', 'GET', 'save'), ['save', '']);
  t.same(await c.call('CONFIG', 'GET', 'appendonly'), ['appendonly', 'no']);
  t.same(await c.call('CONFIG', 'GET', 'nothing'), []);
  t.equal(await c.call('CLIENT', 'SETNAME', 'tester'), 'OK');
  t.equal(await c.call('CLIENT', 'GETNAME'), 'tester');
  t.equal(await c.call('CLIENT', 'SETINFO', 'lib-name', 'x'), 'OK');
  t.equal(typeof (await c.call('CLIENT', 'ID')), 'number');
  t.match(await c.call('INFO'), /redis_version:/);
});

t.test('QUIT answers +OK and closes', async (t) => {
  const { client: c } = await server(t);
  c.send(Buffer.concat([encode('PING'), encode('QUIT'), encode('PING')]));
  t.same(await c.replies(2), ['PONG', 'OK']);
  await c.reader.waitEnded(5000);
  t.equal(c.reader.length, 0, 'nothing after QUIT');
});

t.test('a protocol error is answered, then the connection closes', async (t) => {
  const { client: c, port } = await server(t);
  c.send(Buffer.concat([encode('SET', 'a', '1'), Buffer.from('*1\r\n$x\r\n'), encode('PING')]));
  t.same(await c.replies(2), ['OK', { err: 'ERR Protocol error: invalid bulk length' }]);
  await c.reader.waitEnded(5000);
  t.equal(c.reader.length, 0, 'the command after the error was not run');
  const d = await Client.open(port);
  t.teardown(() => d.close());
  d.send('SET "unbalanced\r\n');
  t.same(await d.replies(1), [{ err: 'ERR Protocol error: unbalanced quotes in request' }]);
  await d.reader.waitEnded(5000);
});

t.test('a large value split across reads; state shared by every connection', { timeout: 30000 }, async (t) => {
  const { client: c, port } = await server(t);
  const big = Buffer.alloc(3 * 1024 * 1024, 'v');
  const cmd = encode('SET', 'big', big);
  for (let at = 0; at < cmd.length; at += 256 * 1024) {
    c.send(cmd.subarray(at, at + 256 * 1024));
    await sleep(5);
  }
  t.equal((await c.replies(1, 20000))[0], 'OK');
  const other = await Client.open(port);
  t.teardown(() => other.close());
  t.equal((await other.call('GET', 'big')).length, big.length, 'another connection sees it');
});

t.test('refuses to start with more than one loop', async (t) => {
  await t.rejects(lib.serve(HANDLER, 'tcp://127.0.0.1:0', { numEventLoop: 2 }), /one owner, like redis itself.*--loops 1/);
});

function run(cmd, args, input, timeout = 30000) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

t.test('redis-cli', { skip: has('redis-cli') ? false : 'redis-cli is not installed (apt-get install redis-tools)', timeout: 60000 }, async (t) => {
  const { port } = await server(t);
  const cli = (...args) => run('redis-cli', ['-p', String(port), ...args]);
  t.equal((await cli('PING')).stdout, 'PONG\n');
  t.equal((await cli('SET', 'cli', 'hello world')).stdout, 'OK\n');
  t.equal((await cli('GET', 'cli')).stdout, 'hello world\n');
  t.equal((await cli('INCRBY', 'num', '5')).stdout, '5\n');
  t.match((await cli('GET')).stdout, /ERR wrong number of arguments for 'get' command/);
  // Interactive mode reading commands from stdin (it calls COMMAND DOCS first).
  const piped = await run('redis-cli', ['-p', String(port)], 'SET p 1\nINCR p\nMGET p cli nope\n');
  t.equal(piped.stdout, 'OK\n2\n2\nhello world\n\n', 'replies in redis-cli no-tty format (nil is an empty line)');
  // Mass insertion: --pipe sends raw RESP and counts the replies.
  const mass = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encode('SET', `mass${i}`, i)));
  const pipe = await run('redis-cli', ['-p', String(port), '--pipe'], mass);
  t.match(pipe.stdout, /errors: 0, replies: 1000/, '--pipe');
  t.equal((await cli('DBSIZE')).stdout, '1003\n');
});

t.test('redis-benchmark smoke run', { skip: has('redis-benchmark') ? false : 'redis-benchmark is not installed (apt-get install redis-tools)', timeout: 60000 }, async (t) => {
  const { port } = await server(t);
  for (const extra of [[], ['-P', '16']]) {
    const r = await run('redis-benchmark', ['-p', String(port), '-t', 'ping,set,get', '-c', '10', '-n', '5000', '-q', ...extra]);
    t.equal(r.code, 0, `exit code ${extra.join(' ')}`);
    const lines = r.stdout.split(/[\r\n]/).filter((l) => /requests per second/.test(l));
    t.equal(lines.length, 4, `four results ${extra.join(' ')}: ${lines.map((l) => l.trim()).join('; ')}`);
    t.notMatch(r.stderr, /Could not fetch server CONFIG|ERROR/, 'no warnings');
  }
});

/** The tests redis-benchmark 7 runs when given no -t, in its order (their -q result names). */
const DEFAULT_TESTS = [
  'PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'SADD', 'HSET', 'SPOP', 'ZADD', 'ZPOPMIN',
  'LPUSH (needed to benchmark LRANGE)', 'LRANGE_100 (first 100 elements)', 'LRANGE_300 (first 300 elements)',
  'LRANGE_500 (first 500 elements)', 'LRANGE_600 (first 600 elements)', 'MSET (10 keys)',
];

for (const extra of [[], ['-P', '16']]) {
  const how = extra.length ? 'pipelined -P 16' : 'without pipelining';
  t.test(`redis-benchmark's whole default test set completes with no error, ${how}`, { skip: has('redis-benchmark') ? false : 'redis-benchmark is not installed (apt-get install redis-tools)', timeout: 120000 }, async (t) => {
    const { port } = await server(t);
    // redis-benchmark exits at the first error reply it gets, naming it on stderr.
    const r = await run('redis-benchmark', ['-p', String(port), '-q', '-n', '2000', '-c', '10', ...extra], undefined, 100000);
    const results = r.stdout.split(/[\r\n]/).map((l) => /^(.+?): [\d.]+ requests per second/.exec(l)?.[1]).filter(Boolean);
    t.equal(r.code, 0, `exit code 0 (stderr: ${r.stderr.trim() || 'empty'})`);
    t.same(results, DEFAULT_TESTS, 'a result for every test of the default set, in order');
    t.notMatch(r.stderr, /error/i, 'nothing on stderr');
  });
}

t.test('over maxMemory, writes get -OOM while reads, deletes and pops go on; freeing memory lets writes in again', { timeout: 30000 }, async (t) => {
  const { client: c } = await server(t, { handlerOptions: { maxMemory: 64 * 1024 } });
  const value = 'v'.repeat(1000);
  let refusedAt = -1;
  for (let i = 0; i < 200 && refusedAt < 0; i++) {
    const r = await c.call('SET', `k${i}`, value);
    if (r !== 'OK') {
      t.same(r, { err: "OOM command not allowed when used memory > 'maxmemory'." }, 'redis\'s OOM error');
      refusedAt = i;
    }
  }
  t.ok(refusedAt > 30 && refusedAt < 70, `refused after about 64 KiB of 1000-byte values (write ${refusedAt})`);
  const used = Number(/used_memory:(\d+)/.exec(await c.call('INFO'))[1]);
  t.ok(used > 64 * 1024 && used < 64 * 1024 + 2000, `INFO used_memory ${used}: over the limit by one write at most`);
  t.same(await c.call('RPUSH', 'l', 'x'), { err: "OOM command not allowed when used memory > 'maxmemory'." }, 'a list cannot grow either');
  t.equal(await c.call('GET', 'k0'), value, 'reads are served');
  t.equal(await c.call('EXISTS', 'k1'), 1);
  t.equal(await c.call('DEL', 'k0', 'k1', 'k2', 'k3', 'k4'), 5, 'deletes are served');
  t.equal(await c.call('SET', 'again', 'x'), 'OK', 'below the limit again: writes are served');
});

t.test('the memory estimate goes back to 0 once every value is gone, whatever the type', { timeout: 30000 }, async (t) => {
  const { client: c } = await server(t);
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await c.call('INFO'))[1]);
  t.equal(await usedMemory(), 0, 'empty');
  const many = Array.from({ length: 500 }, (_, i) => `member-${i}`);
  await c.call('RPUSH', 'l', ...many);
  await c.call('LPUSH', 'l', 'head');
  await c.call('SADD', 's', ...many);
  await c.call('HSET', 'h', ...many.flatMap((m) => [m, `${m}-value`]));
  await c.call('HSET', 'h', 'member-1', 'a longer value than before');
  await c.call('ZADD', 'z', ...many.flatMap((m, i) => [String(i % 7), m]));
  await c.call('ZADD', 'z', '100', 'member-3');
  await c.call('SET', 'str', 'x'.repeat(5000));
  await c.call('SET', 'str', 'shorter');
  await c.call('SET', 'gone', 'soon', 'PX', '1');
  const full = await usedMemory();
  t.ok(full > 500 * 4 * 50, `${full} bytes estimated for 2000 elements`);
  t.equal((await c.call('LPOP', 'l', '300')).length, 300);
  t.equal((await c.call('RPOP', 'l', '201')).length, 201, 'the list popped empty');
  await c.call('SPOP', 's', '499');
  await c.call('SPOP', 's');
  await c.call('HDEL', 'h', ...many);
  await c.call('ZPOPMIN', 'z', '250');
  await c.call('ZREM', 'z', ...many);
  await c.call('DEL', 'str');
  await sleep(20);
  t.equal(await c.call('GET', 'gone'), null, 'expired');
  t.equal(await c.call('DBSIZE'), 0, 'every key is gone');
  t.equal(await usedMemory(), 0, 'and so is every byte of the estimate');
});

t.test('run as an example, the redis server has a 256 MiB memory limit by default and --maxmemory sets it', { timeout: 30000 }, async (t) => {
  const dflt = await startExample(t, 'redis');
  const a = await Client.open(dflt.port);
  t.teardown(() => a.close());
  t.same(await a.call('CONFIG', 'GET', 'maxmemory'), ['maxmemory', String(256 * 1024 * 1024)]);
  const set = await startExample(t, 'redis', ['--maxmemory', '10mb']);
  const b = await Client.open(set.port);
  t.teardown(() => b.close());
  t.same(await b.call('CONFIG', 'GET', 'maxmemory'), ['maxmemory', String(10 * 1024 * 1024)]);
});
