// The benchmark suites read wrk's and redis-benchmark's output correctly.
import t from 'tap';
import { wrk, redisBench } from '../dist/perf/suites/proto-configs.js';

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
