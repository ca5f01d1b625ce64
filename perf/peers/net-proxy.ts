// The node:net contender of the proxy suite: a TCP proxy that joins each client to a new backend
// connection with pipe() both ways (what a Node user writes first), one event loop.
// Usage: node dist/perf/peers/net-proxy.js --addr tcp://127.0.0.1:0 --backend tcp://127.0.0.1:PORT
import net from 'node:net';
import { formatListenUrl, parseListenUrl } from '../lib/addr.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const addr = parseListenUrl(flag('--addr') ?? '');
const b = flag('--backend');
const backend = b === undefined ? null : parseListenUrl(b);
if (addr.scheme !== 'tcp' || !backend || backend.scheme !== 'tcp') {
  throw new Error('usage: net-proxy --addr tcp://host:port --backend tcp://host:port');
}
const server = net.createServer({ noDelay: true }, (client) => {
  const up = net.connect({ host: backend.host, port: backend.port, noDelay: true });
  client.pipe(up);
  up.pipe(client);
  const done = (): void => {
    client.destroy();
    up.destroy();
  };
  client.on('error', done);
  up.on('error', done);
  client.on('close', done);
  up.on('close', done);
});
server.listen(addr.port, addr.host, () => {
  const a = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${formatListenUrl({ scheme: 'tcp', host: addr.host, port: a.port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
