// Idle-connection memory: `node dist/perf/memory.js [--conns 10000] [--json]`.
// Opens N idle connections to each contender (a fresh server process each) and reports the
// server's RSS growth per connection, ringloop against node:net in the same run.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { portOf } from './lib/addr.js';
import { startServer, stopServer } from './lib/proc.js';
import { repoRoot } from './lib/paths.js';

const node = process.execPath;
const ADDR = ['--addr', 'tcp://127.0.0.1:0'];
const CONTENDERS = [
  { name: 'ringloop', argv: [node, 'dist/examples/run.js', 'echo', ...ADDR, '--loops', '2'] },
  { name: 'node:net', argv: [node, 'dist/perf/peers/net-echo.js', ...ADDR] },
];

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function openIdle(port: number, n: number): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  // In waves, so the listen backlog never overflows.
  for (let i = 0; i < n; i += 500) {
    const wave = Array.from({ length: Math.min(500, n - i) }, () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
      return new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('error', reject);
      });
    });
    await Promise.all(wave);
  }
  // Every connection talks once, so each server has really set it up (not only accepted it).
  await Promise.all(
    socks.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('data', () => resolve());
          s.write('x');
        }),
    ),
  );
  return socks;
}

async function measure(c: { name: string; argv: string[] }, n: number): Promise<{ name: string; perConn: number; rssMiB: number }> {
  const server = await startServer(c.name, c.argv, { cwd: repoRoot, timeoutMs: 15000 });
  try {
    await sleep(500);
    const before = rssBytes(server.pid);
    const socks = await openIdle(portOf(server.addr), n);
    await sleep(1500); // let the server settle (GC, lazy allocations)
    const after = rssBytes(server.pid);
    for (const s of socks) s.destroy();
    return { name: c.name, perConn: (after - before) / n, rssMiB: after / 1048576 };
  } finally {
    await stopServer(server, 5000);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--conns');
  const n = i >= 0 ? Number(args[i + 1]) : 10000;
  const json = args.includes('--json');
  const rows = [];
  for (const c of CONTENDERS) rows.push(await measure(c, n));
  const base = rows.find((r) => r.name === 'node:net')!;
  const rl = rows.find((r) => r.name === 'ringloop')!;
  console.log(`idle connections: ${n} per contender (server RSS growth / connections)\n`);
  console.log('| contender | bytes per connection | server RSS MiB |');
  console.log('|-----------|---------------------:|---------------:|');
  for (const r of rows) console.log(`| ${r.name.padEnd(9)} | ${r.perConn.toFixed(0).padStart(20)} | ${r.rssMiB.toFixed(1).padStart(14)} |`);
  const ratio = rl.perConn / base.perConn;
  console.log(`\nringloop / node:net = ${ratio.toFixed(3)} (target <= 0.25)`);
  if (json) console.log(JSON.stringify({ suite: 'memory', conns: n, results: rows, ratios: { 'node:net': ratio } }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
