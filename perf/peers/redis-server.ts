// Runs the system's redis-server as a bench contender: picks a free port, waits until it answers,
// prints `listening tcp://127.0.0.1:<port>`, and stops it on SIGTERM. No persistence.
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  console.error('redis-server is not installed: run perf/setup.sh (apt-get install redis-server)');
  process.exit(3);
}
const port = await freePort();
const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
child.on('exit', (code) => process.exit(code ?? 1));
process.on('SIGTERM', () => child.kill('SIGTERM'));
for (let i = 0; i < 100; i++) {
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.on('data', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
  if (ok) {
    console.log(`listening tcp://127.0.0.1:${port}`);
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
