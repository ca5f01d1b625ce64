// Single-process node:net echo server, the baseline contender.
// Usage: node dist/perf/peers/net-echo.js --addr tcp://127.0.0.1:0
//        node dist/perf/peers/net-echo.js --addr unix:///tmp/x.sock   (the unix suite)
import { addrArgFromArgv, formatListenUrl, parseListenUrl } from '../lib/addr.js';
import { createEchoServer, exitOnSignals } from './echo-server.js';

const addr = parseListenUrl(addrArgFromArgv(process.argv.slice(2)));
if (addr.scheme === 'udp') throw new Error('net-echo serves tcp:// and unix:// only (udp: dgram-echo)');
const echo = createEchoServer();
exitOnSignals(echo);
echo.server.on('error', (err: Error) => {
  process.stderr.write(`net-echo: ${err.message}\n`);
  process.exit(1);
});
// Announce what the kernel bound: the resolved port for tcp://...:0.
const announce = (): void => {
  const bound = echo.server.address();
  if (bound === null) throw new Error('server has no address after listen');
  const url = typeof bound === 'string'
    ? formatListenUrl({ scheme: 'unix', path: bound })
    : formatListenUrl({ scheme: 'tcp', host: addr.scheme === 'tcp' ? addr.host : bound.address, port: bound.port });
  process.stdout.write(`listening ${url}\n`);
};
if (addr.scheme === 'unix') echo.server.listen(addr.path, announce);
else echo.server.listen(addr.port, addr.host, announce);
