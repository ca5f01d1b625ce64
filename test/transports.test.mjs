// Unix sockets, IPv6 and several listen addresses on one engine.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { fixture, lib } from './helpers/engine.mjs';

const ECHO = fixture('echo.mjs');

const LISTENER = fixture('listener.mjs');

function roundTrip(opts, msg) {
  return new Promise((resolve, reject) => {
    const s = net.connect(opts, () => s.write(msg));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.endsWith(msg)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

function tmpSock(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 's.sock');
}

t.test('a unix socket serves like TCP and its file is removed on stop', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  const engine = await lib.serve(LISTENER, `unix://${p}`, { numEventLoop: 2 });
  t.same(engine.addrs, [`unix://${p}`]);
  t.equal(await roundTrip({ path: p }, 'hello'), 'L0:hello');
  await engine.stop();
  t.notOk(fs.existsSync(p), 'socket file removed');
});

t.test('1 MiB echoes byte for byte over a unix socket', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  const engine = await lib.serve(ECHO, `unix://${p}`, { numEventLoop: 2 });
  t.teardown(() => engine.stop());
  const big = 'xyz'.repeat(1 << 18);
  t.ok((await roundTrip({ path: p }, big)) === big);
});

t.test('a stale socket file left by a crashed server is replaced', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  // A server killed outright leaves its socket file behind.
  const crash = `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', crash]);
  t.ok(fs.lstatSync(p).isSocket(), 'a dead socket file is in place');
  const engine = await lib.serve(LISTENER, `unix://${p}`, { numEventLoop: 2 });
  t.teardown(() => engine.stop());
  t.equal(await roundTrip({ path: p }, 'again'), 'L0:again');
});

t.test('a live server on the path is never taken over', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  const other = net.createServer((c) => {
    c.on('error', () => {}); // the probe hangs up at once
    c.end('theirs');
  });
  await new Promise((r) => other.listen(p, r));
  t.teardown(() => other.close());
  await t.rejects(lib.serve(LISTENER, `unix://${p}`, { numEventLoop: 1 }), { code: 'EADDRINUSE', message: /a server is accepting/ });
  const got = await new Promise((r) => net.connect(p).on('data', (d) => r(String(d))));
  t.equal(got, 'theirs', 'the other server still owns its socket');
});

t.test('a path that is not a socket is refused, not deleted', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  fs.writeFileSync(p, 'precious');
  await t.rejects(lib.serve(LISTENER, `unix://${p}`, { numEventLoop: 1 }), /is not a socket/);
  t.equal(fs.readFileSync(p, 'utf8'), 'precious');
});

t.test('IPv6 on ::1', { timeout: 30000 }, async (t) => {
  const engine = await lib.serve(LISTENER, 'tcp6://[::1]:0', { numEventLoop: 2 });
  t.teardown(() => engine.stop());
  t.match(engine.addrs[0], /^tcp6:\/\/\[::1\]:\d+$/);
  const port = Number(engine.addrs[0].split(':').pop());
  t.equal(await roundTrip({ host: '::1', port }, 'six'), 'L0:six');
});

t.test('several addresses on one engine: tcp, tcp6 and unix, each connection knows its listener', { timeout: 30000 }, async (t) => {
  const p = tmpSock(t);
  const engine = await lib.serve(LISTENER, ['tcp://127.0.0.1:0', 'tcp6://[::1]:0', `unix://${p}`], { numEventLoop: 2 });
  t.teardown(() => engine.stop());
  t.equal(engine.addrs.length, 3);
  const p4 = Number(engine.addrs[0].split(':').pop());
  const p6 = Number(engine.addrs[1].split(':').pop());
  t.equal(await roundTrip({ host: '127.0.0.1', port: p4 }, 'a'), 'L0:a');
  t.equal(await roundTrip({ host: '::1', port: p6 }, 'b'), 'L1:b');
  t.equal(await roundTrip({ path: p }, 'c'), 'L2:c');
});
