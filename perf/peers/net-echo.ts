// Single-process node:net echo server, the baseline contender.
// Usage: node dist/perf/peers/net-echo.js --addr tcp://127.0.0.1:0
import { addrFromArgv, formatTcpUrl } from '../lib/addr.js';
import { createEchoServer, exitOnSignals } from './echo-server.js';

const addr = addrFromArgv(process.argv.slice(2));
const echo = createEchoServer();
exitOnSignals(echo);
echo.server.on('error', (err: Error) => {
  process.stderr.write(`net-echo: ${err.message}\n`);
  process.exit(1);
});
echo.server.listen(addr.port, addr.host, () => {
  const bound = echo.server.address();
  if (bound === null || typeof bound === 'string') throw new Error('expected a TCP address');
  process.stdout.write(`listening ${formatTcpUrl({ host: addr.host, port: bound.port })}\n`);
});
