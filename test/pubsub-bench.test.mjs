// The pubsub benchmark's load generator verifies what it counts: its JSON line is read as the
// suite reads it, a real run against the chat example delivers without errors, and a server that
// loses a message is caught (a mismatch fails the run).
import t from 'tap';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { parsePubsubLoad } from '../dist/perf/suites/pubsub-suite.js';
import { ensureCProgram } from '../dist/perf/lib/loadgen.js';
import { start } from './helpers/engine.mjs';

const CHAT = new URL('../dist/examples/chat/handler.js', import.meta.url);
const bin = ensureCProgram('perf/loadgen/pubsub_load.c', 'perf/bin/pubsub_load', () => {});

function load(port, extra = []) {
  return new Promise((resolve) => {
    execFile(bin, ['--port', String(port), '--mode', 'line', '--subs', '20', '--seconds', '1', ...extra], { timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('the JSON line: delivered/s and deliveries, p99; errors fail the run; garbage reads as nothing', async (t) => {
  const line = '{"delivered":1000,"seconds":1,"deliveredPerSec":1000.0,"published":50,"p99Us":120,"errors":0}';
  t.same(parsePubsubLoad(`measure start\nmeasure end\n${line}\n`), { rps: 1000, requests: 1000, p99Us: 120 });
  t.throws(() => parsePubsubLoad(line.replace('"errors":0', '"errors":3')), /saw errors/);
  t.equal(parsePubsubLoad('nothing here'), null);
});

t.test('a run against the chat example: every delivery verified, none wrong', { timeout: 60000 }, async (t) => {
  const { port } = await start(t, CHAT, { numEventLoop: 2 });
  const r = await load(port);
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  t.ok(j.delivered > 0, `${j.delivered} deliveries`);
  t.equal(j.errors, 0);
});

t.test('a fan-out server that loses one line in a hundred is caught', { timeout: 60000 }, async (t) => {
  const clients = new Set();
  let n = 0;
  const server = net.createServer((s) => {
    clients.add(s);
    let rest = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const l of lines) {
        if (!l.startsWith('h') && ++n % 100 === 0) continue; // lost
        for (const o of clients) if (o !== s) o.write(l + '\n');
      }
    });
    s.on('error', () => {});
    s.on('close', () => clients.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of clients) s.destroy();
    server.close();
  });
  const r = await load(server.address().port);
  t.equal(r.code, 1, 'the run fails');
  t.match(r.stderr, /expected \d+, got \d+/);
  t.ok(JSON.parse(r.stdout.trim().split('\n').pop()).mismatches > 0);
});
