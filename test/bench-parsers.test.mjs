// The benchmark suites read wrk's, redis-benchmark's and their own loadgens' output correctly.
import t from 'tap';
import { wrk, redisBench } from '../dist/perf/suites/proto-configs.js';
import { parseLoadgenResult } from '../dist/perf/lib/loadgen.js';
import { parseListeningLine, parseListenUrl, portOf } from '../dist/perf/lib/addr.js';
import { UNIX_SOCKET, withFreshSocket } from '../dist/perf/lib/sockpath.js';

const WRK = `Running 5s test @ http://127.0.0.1:40000/
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.38ms  512.10us  12.00ms   88.12%
    Req/Sec    36.12k     2.10k   40.00k    70.00%
  359372 requests in 5.00s, 38.04MB read
Requests/sec:  71874.40
Transfer/sec:      7.61MB
`;

t.test('wrk: requests per second', async (t) => {
  t.same(wrk('plain', 1).parse(WRK), { 'GET /': 71874.4 });
  t.same(wrk('plain', 1).parse('garbage'), {}, 'nothing readable gives nothing, not a zero');
  t.throws(() => wrk('plain', 1).parse(WRK.replace('Requests/sec', '  Non-2xx or 3xx responses: 12\nRequests/sec')), /wrk saw errors/);
  const [cmd, args] = wrk('pipelined', 16).command(40000, 5);
  t.equal(cmd, 'wrk');
  t.same(args.slice(-3), ['http://127.0.0.1:40000/', '--', '16'], 'pipelining depth passed to the lua script');
});

t.test('redis-benchmark -q: every test line, progress noise ignored', async (t) => {
  const out = 'PING_INLINE: 12345.67\rPING_INLINE: 99009.90 requests per second, p50=0.255 msec\n' +
    'PING_MBULK: 100000.00 requests per second, p50=0.247 msec\nSET: 98039.22 requests per second, p50=0.263 msec\n' +
    'GET: 97087.38 requests per second, p50=0.255 msec\n';
  t.same(redisBench('x', 1).parse(out), { PING_INLINE: 99009.9, PING_MBULK: 100000, SET: 98039.22, GET: 97087.38 });
  t.ok(redisBench('p', 16).command(6379, 2)[1].includes('-P'), '-P for the pipelined workload');
});

// The loadgens' JSON line (perf/loadgen/echo_load.c, udp_load.c) and the servers' `listening` line.

const ECHO_LINE = '{"msgs":61961,"seconds":1.000232,"msgsPerSec":61946.7,"bytes":3965504,"errors":0,"conns":100,"size":64,' +
  '"depth":1,"connected":100,"mismatches":0,"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,' +
  '"p50Us":1631,"p99Us":1855,"p999Us":4031,"maxUs":4759}';
const UDP_LINE = '{"msgs":97201,"seconds":1.999497,"msgsPerSec":48612.7,"bytes":6220864,"errors":0,"conns":50,"size":64,' +
  '"depth":16,"connected":50,"mismatches":0,"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,' +
  '"lost":6060,"lostWarmup":2427,"late":3,"timeoutMs":200,"p50Us":3935,"p99Us":5823,"p999Us":8319,"maxUs":8766}';

t.test('loadgen JSON line: echo_load (no loss keys) and udp_load (loss counted)', async (t) => {
  const echo = parseLoadgenResult(`echo_load: noise on stdout\n${ECHO_LINE}\n`);
  t.equal(echo.msgsPerSec, 61946.7, 'the last line is the result');
  t.equal(echo.p99Us, 1855);
  t.same([echo.lost, echo.lostWarmup, echo.late], [null, null, null], 'a stream loadgen has no loss');
  const udp = parseLoadgenResult(UDP_LINE);
  t.same([udp.lost, udp.lostWarmup, udp.late], [6060, 2427, 3]);
  t.equal(udp.depth, 16);
  const noSamples = parseLoadgenResult(UDP_LINE.replace('"p50Us":3935', '"p50Us":null'));
  t.equal(noSamples.p50Us, null, 'null latency (no sample after warmup) stays null');
});

t.test('loadgen JSON line: anything incomplete is no result, never zeros', async (t) => {
  t.equal(parseLoadgenResult(''), null);
  t.equal(parseLoadgenResult('udp_load: bad value'), null, 'not JSON');
  t.equal(parseLoadgenResult(ECHO_LINE.replace('"msgsPerSec":61946.7,', '')), null, 'a required key missing');
  t.equal(parseLoadgenResult(UDP_LINE.replace('"lost":6060', '"lost":"6060"')), null, 'a loss count that is not a number');
  t.equal(parseLoadgenResult(`${ECHO_LINE}\n{"msgs":1}`), null, 'only the last line counts');
});

t.test('listening lines: tcp, udp and unix addresses', async (t) => {
  t.same(parseListeningLine('listening tcp://127.0.0.1:9000'), { scheme: 'tcp', host: '127.0.0.1', port: 9000 });
  t.same(parseListeningLine('listening udp://[::1]:5353 '), { scheme: 'udp', host: '::1', port: 5353 });
  t.same(parseListeningLine('listening unix:///tmp/ringloop-bench-1-1.sock'), { scheme: 'unix', path: '/tmp/ringloop-bench-1-1.sock' });
  t.equal(parseListeningLine('reactor 0 ready'), null, 'other lines are skipped');
  t.equal(parseListeningLine('listening http://127.0.0.1:80'), null, 'unknown scheme');
  t.throws(() => parseListeningLine('listening udp://127.0.0.1:99999'), /bad port/);
  t.throws(() => parseListenUrl('unix://relative.sock'), /absolute/);
  t.equal(portOf(parseListenUrl('udp://127.0.0.1:7')), 7);
  t.throws(() => portOf(parseListenUrl('unix:///tmp/x.sock')), /host:port/);
});

t.test('unix contenders get a fresh socket path per trial', async (t) => {
  const argv = ['node', 'x.js', '--addr', `unix://${UNIX_SOCKET}`];
  const a = withFreshSocket(argv);
  const b = withFreshSocket(argv);
  t.match(a.argv[3], /^unix:\/\/\/.+\.sock$/);
  t.equal(a.argv[3], `unix://${a.socketPath}`);
  t.not(a.socketPath, b.socketPath, 'never the same path twice');
  t.same(withFreshSocket(['c_echo', '--addr', 'tcp://127.0.0.1:0']), { argv: ['c_echo', '--addr', 'tcp://127.0.0.1:0'], socketPath: null });
});
