// Soak: `npm run soak -- [--minutes N] [--conns 1000] [--every 5]`.
// Connection churn against the echo example (2 reactors): `--conns` clients each connect, echo a
// random-size message (verified byte for byte), close, and start over. Every few seconds prints
// the server's fds, RSS, the open connections and the throughput; ends with a flatness summary
// and exits 1 on any verification error or if fds/RSS kept growing.
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { portOf } from './lib/addr.js';
import { startServer, stopServer } from './lib/proc.js';
import { repoRoot } from './lib/paths.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const minutes = arg('minutes', 1);
const conns = arg('conns', 1000);
const every = arg('every', 5);
const pool = randomBytes(1 << 16);

const stats = { cycles: 0, bytes: 0, errors: 0, open: 0 };
let running = true;

function cycle(port: number): Promise<void> {
  return new Promise((resolve) => {
    const size = 1 + Math.floor(Math.random() * 65535);
    const off = Math.floor(Math.random() * (pool.length - size));
    const msg = pool.subarray(off, off + size);
    const s = net.connect(port, '127.0.0.1');
    stats.open++;
    const got: Buffer[] = [];
    let n = 0;
    const done = (ok: boolean): void => {
      if (!ok) stats.errors++;
      stats.open--;
      s.destroy();
      resolve();
    };
    s.on('connect', () => s.write(msg));
    s.on('data', (d) => {
      got.push(d);
      n += d.length;
      if (n < size) return;
      const ok = n === size && Buffer.concat(got).equals(msg);
      if (ok) {
        stats.cycles++;
        stats.bytes += size;
      }
      done(ok);
    });
    s.on('error', () => done(false));
    s.setTimeout(10000, () => done(false));
  });
}

async function client(port: number): Promise<void> {
  while (running) await cycle(port);
}

function serverSample(pid: number): { fds: number; rssMiB: number } {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssMiB: m ? Number(m[1]) / 1024 : NaN };
}

async function main(): Promise<number> {
  const server = await startServer('ringloop', [process.execPath, 'dist/examples/run.js', 'echo', '--addr', 'tcp://127.0.0.1:0', '--loops', '2'], {
    cwd: repoRoot,
    timeoutMs: 15000,
  });
  const port = portOf(server.addr);
  console.log(`soak: ${conns} churning clients for ${minutes} min against ${server.url}`);
  console.log('elapsed_s  server_fds  server_rss_MiB  open_conns  cycles/s  MiB/s  errors');
  const clients = Array.from({ length: conns }, () => client(port));
  const samples: { fds: number; rssMiB: number }[] = [];
  const t0 = Date.now();
  let last = { cycles: 0, bytes: 0, t: t0 };
  while (Date.now() - t0 < minutes * 60000) {
    await new Promise((r) => setTimeout(r, every * 1000));
    const now = Date.now();
    const s = serverSample(server.pid);
    samples.push(s);
    const dt = (now - last.t) / 1000;
    console.log(
      [
        ((now - t0) / 1000).toFixed(0).padStart(9),
        String(s.fds).padStart(11),
        s.rssMiB.toFixed(1).padStart(15),
        String(stats.open).padStart(11),
        ((stats.cycles - last.cycles) / dt).toFixed(0).padStart(9),
        ((stats.bytes - last.bytes) / dt / 1048576).toFixed(1).padStart(6),
        String(stats.errors).padStart(7),
      ].join(' '),
    );
    last = { cycles: stats.cycles, bytes: stats.bytes, t: now };
  }
  running = false;
  await Promise.all(clients);
  await new Promise((r) => setTimeout(r, 1000));
  const end = serverSample(server.pid);
  await stopServer(server, 10000);
  // Flat: after warm-up (first quarter), the last samples are no higher than the warm ones + slack.
  const warm = samples.slice(Math.floor(samples.length / 4));
  const first = warm[0] ?? end;
  const rssGrowth = end.rssMiB - first.rssMiB;
  console.log(`\nafter the clients left: server fds ${end.fds} (warm ${first.fds}), RSS ${end.rssMiB.toFixed(1)} MiB (warm ${first.rssMiB.toFixed(1)})`);
  console.log(`${stats.cycles} verified connection cycles, ${stats.errors} errors`);
  const flat = end.fds <= first.fds && rssGrowth < 64;
  console.log(flat ? 'flat: yes' : `flat: NO (fds ${first.fds} -> ${end.fds}, RSS +${rssGrowth.toFixed(1)} MiB)`);
  return stats.errors === 0 && flat ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
