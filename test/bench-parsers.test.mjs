// The benchmark suites read wrk's, redis-benchmark's and their own loadgens' output correctly.
import t from 'tap';
import { wrk, redisBench } from '../dist/perf/suites/proto-configs.js';
import { judgeTargets } from '../dist/perf/suites/tool-suite.js';
import { tlsConfigs } from '../dist/perf/suites/tls-suite.js';
import { parsePassiveOpens, reconnectProblem } from '../dist/perf/lib/tcpstat.js';
import { ensureTlsLoadgen, runLoadgen } from '../dist/perf/lib/loadgen.js';
import { hasOpenssl, makeBenchCerts } from '../dist/perf/lib/tls-certs.js';
import fs from 'node:fs';
import tls from 'node:tls';
import { parseLoadgenResult } from '../dist/perf/lib/loadgen.js';
import { cEscape, floodProbeArgs, parseFloodProbeResult } from '../dist/perf/lib/flood-probe.js';
import { busyShare, usPerMsg } from '../dist/perf/lib/stats.js';
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

t.test('wrk: requests per second and the requests counted', async (t) => {
  t.same(wrk('plain', 1).parse(WRK), { rps: 71874.4, requests: 359372 });
  t.equal(wrk('plain', 1).metric, 'GET /');
  t.equal(wrk('plain', 1).parse('garbage'), null, 'nothing readable gives nothing, not a zero');
  t.throws(() => wrk('plain', 1).parse(WRK.replace('Requests/sec', '  Non-2xx or 3xx responses: 12\nRequests/sec')), /wrk saw errors: Non-2xx/);
  // wrk prints the socket line before the non-2xx one; either is an error, with or without the other.
  const sock = '  Socket errors: connect 0, read 3, write 0, timeout 0\n';
  t.throws(() => wrk('plain', 1).parse(WRK.replace('Requests/sec', `${sock}Requests/sec`)), /wrk saw errors: Socket errors: connect 0, read 3/);
  t.throws(() => wrk('plain', 1).parse(WRK.replace('Requests/sec', `${sock.replace('read 3', 'read 0')}  Non-2xx or 3xx responses: 1\nRequests/sec`)), /Non-2xx/);
  t.same(wrk('plain', 1).parse(WRK.replace('Requests/sec', `${sock.replace('read 3', 'read 0')}Requests/sec`)), { rps: 71874.4, requests: 359372 }, 'all-zero socket errors are fine');
  t.same(wrk('plain', 1).parse(WRK.replace('Requests/sec', `${sock.replace('read 3', 'read 0').replace('timeout 0', 'timeout 2')}Requests/sec`)),
    { rps: 71874.4, requests: 359372, note: 'wrk: 2 requests timed out (no answer within 2 s)' }, 'timeouts are slow, not wrong: a note');
  const [cmd, args] = wrk('pipelined', 16).command(40000, 5);
  t.equal(cmd, 'wrk');
  t.same(args.slice(-3), ['http://127.0.0.1:40000/', '--', '16'], 'pipelining depth passed to the lua script');
  t.equal(wrk('plain', 1).command(40000, 0.5)[1][5], '1s', 'wrk takes whole seconds: --warmup 0.5 runs it for 1 s');
  t.equal(wrk('plain', 1).command(40000, 2.2)[1][5], '3s');
});

t.test('wrk over https: one thread, and Connection: close read errors that are the server\'s unsaid closes', async (t) => {
  const { https } = tlsConfigs({ certPath: '/c.pem', keyPath: '/k.pem' });
  const [keepAlive, closing] = https.workloads;
  t.same(keepAlive.command(40000, 5)[1], ['-c', '100', '-t', '1', '-d', '5s', 'https://127.0.0.1:40000/']);
  t.same(closing.command(40000, 5)[1].slice(4, 8), ['-d', '5s', '-H', 'Connection: close'], 'the header goes to wrk');
  t.equal(closing.connectionPerRequest, true, 'its connections are counted');
  t.notOk(keepAlive.connectionPerRequest);
  const withReads = (n) => WRK.replace('Requests/sec', `  Socket errors: connect 0, read ${n}, write 0, timeout 0\nRequests/sec`);
  t.throws(() => keepAlive.parse(withReads(5)), /wrk saw errors/, 'on keep-alive a read error is an error');
  const ok = closing.parse(withReads(359000));
  t.equal(ok.requests, 359372);
  t.match(ok.note, /359000 read errors on 359372 requests: the server closed after answering without saying `Connection: close`/);
  t.throws(() => closing.parse(withReads(400000)), /wrk saw errors/, 'more read errors than requests are errors still');
  t.throws(() => closing.parse(WRK.replace('Requests/sec', '  Socket errors: connect 3, read 0, write 0, timeout 0\nRequests/sec')), /connect 3/);
  t.same(closing.parse(WRK), { rps: 71874.4, requests: 359372 }, 'no errors, no note');
});

t.test('the tls suite: certificate paths reach every peer, each half has its contenders', async (t) => {
  const { https, echo } = tlsConfigs({ certPath: '/c.pem', keyPath: '/k.pem' });
  t.same(https.contenders.map((c) => c.name), ['ringloop', 'node:https', 'uws']);
  t.same(echo.contenders.map((c) => c.name), ['ringloop', 'node:tls']);
  for (const c of [...https.contenders, ...echo.contenders]) {
    t.same(c.argv.slice(-4), ['--cert', '/c.pem', '--key', '/k.pem'], `${c.name} gets the certificate`);
  }
  t.same(echo.workloads.map((w) => w.reconnect ?? null), ['full', 'resume', null, null]);
  t.same(https.targets, [{ peer: 'uws', minRatio: 1 }, { peer: 'node:https', minRatio: 4 }]);
});

t.test('suite targets: each goal judged on the headline ratios, met only when all are', async (t) => {
  const goals = [{ peer: 'uws', minRatio: 1 }, { peer: 'node:https', minRatio: 4 }];
  t.same(judgeTargets(goals, { uws: 1.1, 'node:https': 4.5 }).met, true);
  t.same(judgeTargets(goals, { uws: 0.9, 'node:https': 4.5 }, { uws: 0.8 }).targets[0], { peer: 'uws', minRatio: 1, ratio: 0.9, cpuRatio: 0.8, met: false }, 'the CPU ratio rides along, judging nothing');
  const missed = judgeTargets(goals, { uws: 0.8, 'node:https': 4.5 });
  t.same(missed.targets.map((g) => g.met), [false, true]);
  t.equal(missed.met, false);
  t.equal(judgeTargets(goals, { uws: null, 'node:https': 4.5 }).met, null, 'a missing peer: unknown');
  t.equal(judgeTargets(goals, { uws: null, 'node:https': 2 }).met, false, 'one missed is not met, whatever the other');
});

t.test('accepted connections: /proc/net/snmp PassiveOpens, and a run that did not reconnect', async (t) => {
  const snmp = 'Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails\n' +
    'Tcp: 1 200 120000 -1 5123 4870 12\nUdp: InDatagrams\nUdp: 5\n';
  t.equal(parsePassiveOpens(snmp), 4870);
  t.equal(parsePassiveOpens('Ip: x\nIp: 1\n'), null, 'no Tcp lines');
  t.equal(reconnectProblem(1000, 1100), null, 'a connection per request, and the ones open at the end');
  t.equal(reconnectProblem(1000, null), null, 'unknown: nothing to say');
  t.match(reconnectProblem(1000, 100), /1000 requests came over 100 accepted connections/);
});

// redis-benchmark without -q, one test: \r-separated progress, then the report.
const REDIS_SET = ' SET: rps=0.0 (overall: -nan) avg_msec=-nan (overall: -nan)\r SET: rps=98000.0 (overall: 98000.0)\r' +
  '====== SET ======\n  150000 requests completed in 1.53 seconds\n  50 parallel clients\n  3 bytes payload\n  keep alive: 1\n\n' +
  'Latency by percentile distribution:\n0.000% <= 0.111 milliseconds (cumulative count 1)\n50.000% <= 0.559 milliseconds (cumulative count 75122)\n\n' +
  'Summary:\n  throughput summary: 98039.22 requests per second\n  latency summary (msec):\n          avg       min       p50\n        0.501     0.104     0.495\n';

t.test('redis-benchmark: one workload per test, each reporting its requests and throughput', async (t) => {
  const tests = redisBench('x', 1);
  t.same(tests.map((w) => w.metric), ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'MSET']);
  t.same(tests[2].parse(REDIS_SET), { rps: 98039.22, requests: 150000 });
  t.equal(tests[2].parse('SET: rps=0.0\r'), null, 'progress alone is no result');
  const legacy = '====== SET ======\n  150000 requests completed in 1.53 seconds\n\n98039.22 requests per second\n';
  t.same(tests[2].parse(legacy), { rps: 98039.22, requests: 150000 }, 'redis 6 wording');
  const [cmd, args] = tests[2].command(6379, 2);
  t.equal(cmd, 'redis-benchmark');
  t.same(args.slice(0, 4), ['-p', '6379', '-t', 'set'], 'one test per invocation, so its CPU is its own');
  t.notOk(args.includes('-q'), 'the full report: it says how many requests completed');
  t.ok(redisBench('p', 16)[0].command(6379, 2)[1].includes('-P'), '-P for the pipelined workload');
});

// The loadgens' JSON line (perf/loadgen/echo_load.c, udp_load.c) and the servers' `listening` line.

const ECHO_LINE = '{"msgs":61961,"seconds":1.000232,"msgsPerSec":61946.7,"bytes":3965504,"errors":0,"conns":100,"size":64,' +
  '"depth":1,"connected":100,"mismatches":0,"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,' +
  '"p50Us":1631,"p99Us":1855,"p999Us":4031,"maxUs":4759}';
const UDP_LINE = '{"msgs":97201,"seconds":1.999497,"msgsPerSec":48612.7,"bytes":6220864,"errors":0,"conns":50,"size":64,' +
  '"depth":16,"connected":50,"mismatches":0,"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,' +
  '"lost":6060,"lostWarmup":2427,"late":3,"timeoutMs":200,"p50Us":3935,"p99Us":5823,"p999Us":8319,"maxUs":8766}';

t.test('loadgen JSON line: echo_load (no loss keys) and udp_load (loss counted)', async (t) => {
  const echo = parseLoadgenResult(`measure start\nmeasure end\n${ECHO_LINE}\n`);
  t.equal(echo.msgsPerSec, 61946.7, 'the last line is the result, after the window lines');
  t.equal(echo.p99Us, 1855);
  t.same([echo.lost, echo.lostWarmup, echo.late], [null, null, null], 'a stream loadgen has no loss');
  const udp = parseLoadgenResult(UDP_LINE);
  t.same([udp.lost, udp.lostWarmup, udp.late], [6060, 2427, 3]);
  t.equal(udp.depth, 16);
  const noSamples = parseLoadgenResult(UDP_LINE.replace('"p50Us":3935', '"p50Us":null'));
  t.equal(noSamples.p50Us, null, 'null latency (no sample after warmup) stays null');
});

// echo_load_tls --tls --reconnect: the TLS keys after the common ones.
const TLS_LINE = '{"msgs":1880,"seconds":2.006818,"msgsPerSec":936.8,"bytes":120320,"errors":0,"conns":100,"size":64,' +
  '"depth":1,"connected":100,"mismatches":0,"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,' +
  '"tlsProtocol":"TLSv1.3","tlsCipher":"TLS_AES_256_GCM_SHA384","tlsHandshakes":1901,"tlsResumed":0,' +
  '"p50Us":83967,"p99Us":237567,"p999Us":241663,"maxUs":253047}';

t.test('loadgen JSON line: echo_load_tls adds what the handshakes negotiated and how many were resumed', async (t) => {
  const tls = parseLoadgenResult(`measure start\nmeasure end\n${TLS_LINE}\n`);
  t.same([tls.tlsProtocol, tls.tlsCipher, tls.tlsHandshakes, tls.tlsResumed], ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 1901, 0]);
  t.equal(tls.msgsPerSec, 936.8);
  const plain = parseLoadgenResult(ECHO_LINE);
  t.same([plain.tlsProtocol, plain.tlsCipher, plain.tlsHandshakes, plain.tlsResumed], [null, null, null, null], 'plain echo_load: no TLS keys');
  t.equal(parseLoadgenResult(TLS_LINE.replace('"tlsProtocol":"TLSv1.3"', '"tlsProtocol":null')).tlsProtocol, null, 'no handshake done: null');
  t.equal(parseLoadgenResult(TLS_LINE.replace('"tlsCipher":"TLS_AES_256_GCM_SHA384"', '"tlsCipher":7')), null, 'a cipher that is not a string');
  t.equal(parseLoadgenResult(TLS_LINE.replace('"tlsResumed":0', '"tlsResumed":"0"')), null, 'a count that is not a number');
});

t.test('loadgen JSON line: anything incomplete is no result, never zeros', async (t) => {
  t.equal(parseLoadgenResult(''), null);
  t.equal(parseLoadgenResult('udp_load: bad value'), null, 'not JSON');
  t.equal(parseLoadgenResult(ECHO_LINE.replace('"msgsPerSec":61946.7,', '')), null, 'a required key missing');
  t.equal(parseLoadgenResult(UDP_LINE.replace('"lost":6060', '"lost":"6060"')), null, 'a loss count that is not a number');
  t.equal(parseLoadgenResult(`${ECHO_LINE}\n{"msgs":1}`), null, 'only the last line counts');
});

// perf/loadgen/flood_probe.c's line: the probe's round trips beside the flood, and the flood's bytes.
const FLOOD_LINE = '{"seconds":2.999847,"flooders":50,"connected":50,"everyMs":100,"samples":11,"answered":10,"unanswered":1,' +
  '"floodBytes":28569600,"floodBytesPerSec":9523684.9,"floodQueuedBytes":157210824,"floodRequestBytes":6,"errors":0,"mismatches":0,' +
  '"earlyCloses":0,"connectErrors":0,"ioErrors":0,"interrupted":false,"unansweredUs":41234,"p50Us":137215,"p99Us":456272,"p999Us":456272,"maxUs":456272}';

t.test('flood_probe JSON line: probe latency, samples (the unanswered one counted) and flood bytes', async (t) => {
  const r = parseFloodProbeResult(`measure start\nmeasure end\n${FLOOD_LINE}\n`);
  t.same([r.p50Us, r.p99Us, r.maxUs], [137215, 456272, 456272], 'µs, after the window lines');
  t.same([r.samples, r.answered, r.unanswered, r.unansweredUs], [11, 10, 1, 41234], 'an unanswered probe is a sample, not a gap');
  t.equal(parseFloodProbeResult(FLOOD_LINE.replace('"unansweredUs":41234', '"unansweredUs":null')).unansweredUs, null, 'every probe answered');
  t.same([r.floodBytes, r.floodBytesPerSec, r.floodQueuedBytes], [28569600, 9523684.9, 157210824]);
  t.same([r.flooders, r.connected, r.everyMs, r.errors], [50, 50, 100, 0]);
  const none = parseFloodProbeResult(FLOOD_LINE.replace('"p50Us":137215,"p99Us":456272,"p999Us":456272,"maxUs":456272', '"p50Us":null,"p99Us":null,"p999Us":null,"maxUs":null'));
  t.same([none.p50Us, none.p99Us, none.maxUs], [null, null, null], 'no samples: null latency, never zero');
  t.equal(parseFloodProbeResult(FLOOD_LINE.replace('"unanswered":1,', '')), null, 'a required key missing');
  t.equal(parseFloodProbeResult(FLOOD_LINE.replace('"floodBytes":28569600', '"floodBytes":"28569600"')), null, 'a count that is not a number');
  t.equal(parseFloodProbeResult('flood_probe: bad value'), null, 'not JSON');
  t.equal(parseLoadgenResult(FLOOD_LINE), null, 'not an echo_load line');
});

t.test('flood_probe command line: requests as C escapes, a tcp target', async (t) => {
  t.equal(cEscape('PING\r\n'), 'PING\\r\\n');
  t.equal(cEscape('*3\r\n$3\r\nSET\r\n'), '*3\\r\\n$3\\r\\nSET\\r\\n');
  t.equal(cEscape('a\\b\t\x00\x7f'), 'a\\\\b\\t\\x00\\x7f', 'backslash, tab and other controls');
  const args = floodProbeArgs({
    target: parseListenUrl('tcp://127.0.0.1:6400'), flooders: 50, flood: 'PING\r\n', probe: 'PING\r\n', reply: '+PONG\r\n',
    everyMs: 100, seconds: 5, warmup: 1,
  });
  t.same(args, ['--host', '127.0.0.1', '--port', '6400', '--flooders', '50', '--flood', 'PING\\r\\n', '--probe', 'PING\\r\\n',
    '--reply', '+PONG\\r\\n', '--every-ms', '100', '--seconds', '5', '--warmup', '1']);
  t.throws(() => floodProbeArgs({ target: parseListenUrl('unix:///tmp/x.sock'), flooders: 1, flood: 'x', probe: 'x', reply: 'x', everyMs: 1, seconds: 1, warmup: 0 }), /tcp/);
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

t.test('CPU per message: the window\'s CPU over the window\'s messages; server busy: that CPU over the window and its cores', async (t) => {
  t.equal(usPerMsg(0.7, 100000), 7);
  t.equal(usPerMsg(0.7, 0), null, 'no messages: no figure');
  t.equal(usPerMsg(null, 100), null, 'no window: no figure');
  t.equal(busyShare(1.5, 2, 1), 0.75);
  t.equal(busyShare(1.5, 2, 2), 0.375);
  t.equal(busyShare(1, null, 1), null);
});

// echo_load_tls against a node:tls echo in this process: every byte checked through TLS, a
// corrupted byte caught, and --reconnect doing one full (or resumed) handshake per message.
t.test('echo_load_tls: real TLS echo, corruption caught, a handshake per message with --reconnect', async (t) => {
  if (!hasOpenssl() || !fs.existsSync('/usr/include/openssl/ssl.h')) {
    t.skip('needs the openssl CLI and libssl-dev (perf/setup.sh)');
    return;
  }
  const bin = ensureTlsLoadgen(() => {});
  const certs = makeBenchCerts();
  t.teardown(() => certs.remove());
  const serve = (corrupt) => new Promise((resolve) => {
    const server = tls.createServer({ cert: fs.readFileSync(certs.certPath), key: fs.readFileSync(certs.keyPath) }, (s) => {
      s.on('data', (d) => {
        if (corrupt) d[d.length - 1] ^= 1;
        s.write(d);
      });
      s.on('error', () => s.destroy());
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const load = async (server, flags, shape = {}) => {
    const target = { scheme: 'tcp', host: '127.0.0.1', port: server.address().port };
    return runLoadgen(bin, { target, conns: 4, size: 200, depth: 1, seconds: 0.5, warmup: 0.1, flags, ...shape });
  };
  const good = await serve(false);
  t.teardown(() => good.close());
  const echo = await load(good, ['--tls'], { depth: 4, size: 5000 });
  t.equal(echo.exitCode, 0, echo.stderr);
  t.ok(echo.result.msgs > 0, 'messages echoed');
  t.equal(echo.result.errors, 0);
  t.equal(echo.result.tlsProtocol, 'TLSv1.3');
  t.equal(echo.result.tlsHandshakes, 0, 'kept connections shook hands before the clock');
  const full = await load(good, ['--tls', '--reconnect']);
  t.equal(full.result.errors, 0, full.stderr);
  t.ok(full.result.msgs > 0);
  t.ok(Math.abs(full.result.tlsHandshakes - full.result.msgs) <= 4, 'a handshake per message');
  t.equal(full.result.tlsResumed, 0, 'no session offered: every handshake full');
  const resumed = await load(good, ['--tls', '--reconnect', '--resume']);
  t.equal(resumed.result.errors, 0, resumed.stderr);
  t.ok(resumed.result.tlsResumed > 0.9 * resumed.result.tlsHandshakes, 'the previous ticket offered, and node resumes it');
  const bad = await serve(true);
  t.teardown(() => bad.close());
  const caught = await load(bad, ['--tls']);
  t.equal(caught.exitCode, 1);
  t.ok(caught.result.mismatches > 0, 'the flipped byte is a mismatch');
  t.match(caught.stderr, /expected 0x[0-9a-f]{2} got 0x/);
});
