// Resource limits: maxConnections and running out of file descriptors.
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { start, fixture, poll } from './helpers/engine.mjs';
import { sleep, withTimeout } from './helpers/net.mjs';

const ECHO = fixture('echo.mjs');

function echoOnce(port, msg = 'hi', ms = 5000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(msg));
      s.on('data', (d) => {
        s.destroy();
        resolve(String(d));
      });
      s.on('error', reject);
      s.on('close', () => resolve(null));
    }),
    ms,
    'echo',
  );
}

t.test('maxConnections refuses the extra connections at once and serves again when below', { timeout: 30000 }, async (t) => {
  const { engine, port } = await start(t, ECHO, { maxConnections: 3 });
  const held = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write('x');
    await new Promise((r) => s.once('data', r));
    held.push(s);
  }
  t.equal(await echoOnce(port), null, 'the fourth is closed without an answer');
  t.equal(engine.stats().refused, 1);
  held[0].destroy();
  // The acceptor counts what the reactors count: wait until the reactor has closed its side.
  await poll(() => engine.countConnections() === 2, 10000);
  t.equal(await echoOnce(port), 'hi', 'below the limit again: served');
  for (const s of held) s.destroy();
});

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

t.test('when accept hits EMFILE the acceptor neither spins nor crashes, and recovers', { timeout: 60000 }, async (t) => {
  const script = new URL('./fixtures/emfile-server.mjs', import.meta.url).pathname;
  // Without the test runner's preloads (NODE_OPTIONS), which would spend descriptors of their own.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const child = spawn('bash', ['-c', `ulimit -n 100 && exec "${process.execPath}" "${script}"`], { stdio: ['ignore', 'pipe', 'pipe'], env });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      const iv = setInterval(() => {
        const m = /listening tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearInterval(iv);
          resolve(Number(m[1]));
        }
      }, 20);
      child.once('exit', (c) => reject(new Error(`server exited (${c}): ${err}`)));
    }),
    15000,
    'server start',
  );
  // Far more connections than descriptors: the kernel completes them, accept() fails with EMFILE.
  const socks = [];
  for (let i = 0; i < 160; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    socks.push(s);
  }
  await sleep(1000);
  const cpu0 = cpuSeconds(child.pid);
  await sleep(1500);
  const used = cpuSeconds(child.pid) - cpu0;
  t.ok(used < 0.5, `no busy loop while out of descriptors (${used.toFixed(2)} s CPU in 1.5 s)`);
  t.equal(child.exitCode, null, 'still running');
  for (const s of socks) s.destroy();
  await sleep(500);
  t.equal(await echoOnce(port, 'back', 10000), 'back', 'serves again once descriptors are free');
});
