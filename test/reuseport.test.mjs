// reusePort mode: every reactor has its own SO_REUSEPORT listener and accepts itself.
import t from 'tap';
import net from 'node:net';
import { start, fixture, lib, poll } from './helpers/engine.mjs';
import { fdCount } from './helpers/resources.mjs';

const WHERE = fixture('where.mjs');

function ask(port, msg) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(msg));
    s.on('data', (d) => {
      resolve([s, String(d)]);
    });
    s.on('error', reject);
  });
}

t.test('connections are served, spread by the kernel over every reactor', { timeout: 30000 }, async (t) => {
  const { port, messages } = await start(t, WHERE, { reusePort: true });
  const socks = [];
  for (let i = 0; i < 40; i++) {
    const [s, answer] = await ask(port, `m${i}`);
    if (answer !== `m${i}`) t.fail(`bad echo ${answer}`);
    socks.push(s);
  }
  const opened = await messages.waitForCount((m) => m.ev === 'opened', 40);
  const per = [0, 0];
  for (const m of opened) per[m.loop]++;
  t.ok(per[0] > 0 && per[1] > 0, `both reactors accepted (${per.join(' / ')})`);
  for (const s of socks) s.destroy();
});

t.test('stop closes every reactor listener: the port is free again and no fd is left', { timeout: 30000 }, async (t) => {
  const before = fdCount();
  const engine = await lib.serve(WHERE, 'tcp://127.0.0.1:0', { numEventLoop: 2, reusePort: true });
  const port = Number(engine.addrs[0].split(':').pop());
  const [s] = await ask(port, 'x');
  s.destroy();
  await engine.stop();
  t.ok(await poll(() => fdCount() === before, 3000), 'fds back to where they were');
  const again = await lib.serve(WHERE, `tcp://127.0.0.1:${port}`, { numEventLoop: 1 });
  t.equal(again.addrs[0], `tcp://127.0.0.1:${port}`, 'the same port can be served again');
  await again.stop();
});

t.test('unix addresses still work alongside in reusePort mode', { timeout: 30000 }, async (t) => {
  const path = `/tmp/ringloop-reuse-${process.pid}.sock`;
  const engine = await lib.serve(WHERE, ['tcp://127.0.0.1:0', `unix://${path}`], { numEventLoop: 2, reusePort: true });
  t.teardown(() => engine.stop());
  const got = await new Promise((resolve) => {
    const s = net.connect(path, () => s.write('u'));
    s.on('data', (d) => {
      s.destroy();
      resolve(String(d));
    });
  });
  t.equal(got, 'u');
});
