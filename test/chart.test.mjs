// The benchmark chart (perf/lib/chart.ts) and the README tables (perf/lib/readme-table.ts),
// drawn from small results objects shaped as the bench runner writes them.
import t from 'tap';
import { chartModel } from '../dist/perf/lib/chart-model.js';
import { renderChart } from '../dist/perf/lib/chart.js';
import { markdownTables, readingText, readmeBlock, replaceBlock, BLOCK_START, BLOCK_END } from '../dist/perf/lib/readme-table.js';
import { svgToPng } from '../dist/perf/lib/png.js';
import { mergeTlsJson } from '../dist/perf/suites/tls-suite.js';

const machine = { cpus: 2, model: 'AMD EPYC', node: 'v20.20.2', kernel: 'Linux 6.18 x64' };
const tcpRow = (workload, contender, msgsPerSec, failure = null, serverCpuUsPerMsg = null, serverBusy = null) =>
  ({ workload, contender, msgsPerSec, serverCpuUsPerMsg, serverBusy, ok: failure === null, failure, errors: 0, runs: [] });
/** A tool-suite row (tool-suite.ts); null rps with `skipped` for an optional peer that could not run. */
const toolRow = (workload, metric, contender, rps, serverCpuUsPerMsg = null, serverBusy = null, skipped = undefined) =>
  ({ workload, metric, contender, rps, serverCpuUsPerMsg, serverBusy, runs: rps === null ? [] : [rps], ...(skipped ? { skipped } : {}) });

// An echo-shaped suite: two workloads, three contenders, node:net is the baseline (the first
// peer of the subject's ratios); c-epoll failed to start on the second workload. Pinned: server
// on CPU 0, load generator on CPU 1, each row with its CPU per message and server busy share.
const ECHO = {
  suite: 'echo',
  date: '2026-11-27T12:19:24.187Z',
  machine,
  pinning: { server: [0], loadgen: [1] },
  config: { runs: 3, seconds: 4, warmup: 1, only: null },
  results: [
    tcpRow('64B ping-pong', 'ringloop', 120000, null, 7, 0.84),
    tcpRow('64B ping-pong', 'node:net', 60000, null, 14, 0.84),
    tcpRow('64B ping-pong', 'c-epoll', 90000, null, 6.5, 0.585),
    tcpRow('4KiB ping-pong', 'ringloop', 80000, null, 10, 0.8),
    tcpRow('4KiB ping-pong', 'node:net', 50000, null, 20, 1),
    tcpRow('4KiB ping-pong', 'c-epoll', null, 'c-epoll did not print a listening line'),
  ],
  ratiosByWorkload: { '64B ping-pong': { 'node:net': 2, 'c-epoll': 1.33 }, '4KiB ping-pong': { 'node:net': 1.6, 'c-epoll': null } },
};

// A file written before pinned runs: no `pinning` key at all (null would mean --no-pin).
const { pinning: _, ...ECHO_BEFORE_PINNING } = ECHO;

// The whole benchmark: echo, a tool suite reporting two metrics, and a suite skipped for a missing tool.
const ALL = {
  suite: 'all',
  date: '2026-11-28T10:00:00.000Z',
  machine,
  pinning: { server: [0], loadgen: [1] },
  config: { runs: 3, seconds: 5, warmup: 1 },
  suites: {
    echo: ECHO,
    redis: {
      suite: 'redis',
      machine,
      results: [
        { workload: 'no pipelining', metric: 'SET', contender: 'ringloop', rps: 90000, serverCpuUsPerMsg: 9, serverBusy: 0.81, runs: [], cpuSeconds: 1 },
        { workload: 'no pipelining', metric: 'SET', contender: 'redis-server', rps: 100000, serverCpuUsPerMsg: 9.5, serverBusy: 0.95, runs: [], cpuSeconds: 1 },
        { workload: 'no pipelining', metric: 'GET', contender: 'ringloop', rps: 95000, runs: [], cpuSeconds: 1 },
        { workload: 'no pipelining', metric: 'GET', contender: 'redis-server', rps: null, runs: [], cpuSeconds: null },
      ],
      ratiosByWorkload: { 'no pipelining SET': { 'redis-server': 0.9 }, 'no pipelining GET': { 'redis-server': null } },
      failures: ['no pipelining / redis-server: redis-server did not start'],
    },
    http: { suite: 'http', skipped: 'missing wrk: run perf/setup.sh (apt-get install wrk)' },
  },
};

// An http run whose optional peer could not be installed: it has a row, marked skipped.
const HTTP = {
  suite: 'http',
  machine,
  pinning: { server: [0], loadgen: [1] },
  config: { runs: 1, seconds: 2, warmup: 1, only: null },
  results: [
    toolRow('plain', 'GET /', 'ringloop', 110000, 8.8, 0.97),
    toolRow('plain', 'GET /', 'uws', null, null, null, 'npm install failed'),
  ],
  ratiosByWorkload: { 'plain GET /': { uws: null } },
  failures: [],
};

// The tls suite's two halves as their runners write them (tool-suite.ts, tcp-report.ts), merged.
const TLS_HTTPS = {
  ...HTTP,
  suite: 'tls/https',
  results: [
    toolRow('HTTPS keep-alive', 'GET /', 'ringloop', 18000, 11, 0.5),
    toolRow('HTTPS keep-alive', 'GET /', 'node:https', 15000, 30, 0.9),
    toolRow('HTTPS keep-alive', 'GET /', 'uws', null, null, null, 'npm install failed'),
  ],
  ratios: { 'node:https': 1.2, uws: null },
  ratiosByWorkload: { 'HTTPS keep-alive GET /': { 'node:https': 1.2, uws: null } },
  cpuRatiosByWorkload: { 'HTTPS keep-alive GET /': { 'node:https': 0.37, uws: null } },
  targets: [{ peer: 'uws', minRatio: 1, ratio: null, cpuRatio: null, met: null }, { peer: 'node:https', minRatio: 4, ratio: 1.2, cpuRatio: 0.37, met: false }],
  targetsMet: false,
  failures: [],
  warnings: ['uws skipped: npm install failed'],
};
const TLS_ECHO = {
  suite: 'tls/echo',
  machine: { ...machine, busyBefore: 0.1, busyAfter: 0.1 },
  pinning: { server: [0], loadgen: [1] },
  baseline: 'node:tls',
  config: { runs: 1, seconds: 3, warmup: 1, only: null, headline: 'TLS 64B ping-pong', workloads: [] },
  results: [
    { ...tcpRow('TLS full handshake', 'ringloop', 700, null, 360, 0.3), tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', handshakes: 2100, resumed: 0, resumedShare: 0 } },
    { ...tcpRow('TLS full handshake', 'node:tls', 450, null, 620, 0.3), tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', handshakes: 1350, resumed: 0, resumedShare: 0 } },
  ],
  ratiosByWorkload: { 'TLS full handshake': { 'node:tls': 1.56 } },
  cpuRatiosByWorkload: { 'TLS full handshake': { 'node:tls': 0.58 } },
  latencyRatiosByWorkload: { 'TLS full handshake': { 'node:tls': 0.6 } },
  failures: [],
  warnings: [],
};

// A flood run: no rate, the probe's p99 under the flood is the figure, lower is better.
const floodRow = (workload, contender, p99Us, serverBusy) =>
  ({ workload, contender, flooders: 50, p50Us: p99Us / 2, p99Us, maxUs: p99Us, samples: 40, unanswered: 0, cpuSeconds: 4.9, serverBusy, ok: true, failure: null, runs: [] });
const FLOOD = {
  suite: 'flood',
  machine,
  pinning: { server: [0], loadgen: [1] },
  baseline: 'redis-server',
  config: { runs: 3, seconds: 5, warmup: 1, only: null },
  results: [
    floodRow('PING flood', 'ringloop', 40000, 0.98),
    floodRow('PING flood', 'redis-server', 80000, 0.99),
    { ...floodRow('SET flood', 'ringloop', null, null), ok: false, failure: 'ringloop did not print a listening line' },
    floodRow('SET flood', 'redis-server', 20000, 0.97),
  ],
  latencyRatiosByWorkload: { 'PING flood': { 'redis-server': 0.5 }, 'SET flood': { 'redis-server': null } },
  failures: ['ringloop / SET flood: ringloop did not print a listening line'],
};

/** Bar groups of the chart: [{ attrs: {suite, workload, contender, class}, body }]. */
function bars(svg) {
  return [...svg.matchAll(/<g class="(bar [^"]*)" data-suite="([^"]*)" data-workload="([^"]*)" data-contender="([^"]*)">(.*?)<\/g>/g)]
    .map(([, cls, suite, workload, contender, body]) => ({ cls, suite, workload, contender, body }));
}

/** A parse-level XML check: one root, every tag closed in order, no stray '<' or '&' in text. */
function xmlProblems(doc) {
  const problems = [];
  const stack = [];
  let roots = 0;
  const body = doc.replace(/^<\?xml[^>]*\?>\s*/, '');
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (const m of body.matchAll(tag)) {
    const between = body.slice(at, m.index);
    if (/[<>]|&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between)) problems.push(`bad text before offset ${m.index}: ${between.slice(0, 40)}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[3])) problems.push(`unescaped & in attributes of <${m[2]}>`);
    at = m.index + m[0].length;
    if (m[1]) {
      if (stack.pop() !== m[2]) problems.push(`</${m[2]}> closes the wrong element`);
    } else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) roots++;
  }
  if (body.slice(at).trim() !== '') problems.push('text after the root element');
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

t.test('the chart is a standalone, well-formed SVG document', async (t) => {
  const svg = renderChart(chartModel(ALL));
  t.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*viewBox="0 0 \d+ \d+"/);
  t.same(xmlProblems(svg), []);
});

t.test('the checker used above rejects what is not well-formed', async (t) => {
  t.not(xmlProblems('<svg><g></svg>').length, 0, 'unclosed element');
  t.not(xmlProblems('<svg><text>a & b</text></svg>').length, 0, 'raw ampersand');
  t.not(xmlProblems('<svg/><svg/>').length, 0, 'two roots');
});

t.test('one bar per contender per workload, labelled with the contender', async (t) => {
  const drawn = bars(renderChart(chartModel(ECHO)));
  const expected = ECHO.results.map((r) => `${r.workload}|${r.contender}`);
  t.same(drawn.map((b) => `${b.workload}|${b.contender}`), expected);
  for (const b of drawn) t.match(b.body, `>${b.contender}</text>`, `${b.workload} / ${b.contender} has its label`);
});

t.test('a bar shows its median and its ratio to the baseline; the baseline says so', async (t) => {
  const drawn = bars(renderChart(chartModel(ECHO)));
  const bar = (w, c) => drawn.find((b) => b.workload === w && b.contender === c).body;
  t.match(bar('64B ping-pong', 'ringloop'), /120,000 <tspan[^>]*>2\.00x<\/tspan>/);
  t.match(bar('64B ping-pong', 'c-epoll'), /90,000 <tspan[^>]*>1\.50x<\/tspan>/);
  t.match(bar('64B ping-pong', 'node:net'), /60,000 <tspan[^>]*>baseline<\/tspan>/);
});

t.test('next to each value: the server\'s CPU per message, when the results have it', async (t) => {
  const drawn = bars(renderChart(chartModel(ECHO)));
  t.match(drawn[0].body, /<tspan class="cpu"[^>]*>· 7\.00 µs cpu<\/tspan>/);
  const old = bars(renderChart(chartModel({ ...ECHO, results: [tcpRow('64B ping-pong', 'ringloop', 1000)] })));
  t.notMatch(old[0].body, /class="cpu"/, 'older results without it: no CPU label');
});

t.test('a skipped optional peer is drawn as "skipped" with its reason, not as failed', async (t) => {
  const uws = bars(renderChart(chartModel(HTTP))).find((b) => b.contender === 'uws');
  t.match(uws.cls, /\bskipped\b/);
  t.notMatch(uws.cls, /\bfailed\b/);
  t.match(uws.body, /skipped: npm install failed/);
});

t.test('a contender that failed is drawn as "failed" with its reason, never as a bar', async (t) => {
  const failed = bars(renderChart(chartModel(ECHO))).find((b) => b.workload === '4KiB ping-pong' && b.contender === 'c-epoll');
  t.match(failed.cls, /\bfailed\b/);
  t.match(failed.body, /failed: c-epoll did not print a listening line/);
  t.notMatch(failed.body, /<rect/, 'no bar');
});

t.test('the subject (ringloop) is highlighted, the others are not', async (t) => {
  const drawn = bars(renderChart(chartModel(ECHO)));
  t.same(drawn.filter((b) => /\bsubject\b/.test(b.cls)).map((b) => b.contender), ['ringloop', 'ringloop']);
});

t.test('tool suites get one panel per workload and metric; a failure reason comes from the suite\'s failures', async (t) => {
  const redis = bars(renderChart(chartModel(ALL))).filter((b) => b.suite === 'redis');
  t.same(redis.map((b) => `${b.workload}|${b.contender}`), [
    'no pipelining · SET|ringloop', 'no pipelining · SET|redis-server', 'no pipelining · GET|ringloop', 'no pipelining · GET|redis-server',
  ]);
  t.match(redis[3].body, /failed: redis-server did not start/);
});

t.test('the flood suite: a bar per contender of the probe\'s p99, lower is better, with its ratio to the baseline', async (t) => {
  const svg = renderChart(chartModel(FLOOD));
  const drawn = bars(svg);
  t.same(drawn.map((b) => `${b.workload}|${b.contender}`), ['PING flood|ringloop', 'PING flood|redis-server', 'SET flood|ringloop', 'SET flood|redis-server']);
  t.match(drawn[0].body, /40,000 <tspan[^>]*>0\.50x<\/tspan>/, 'ringloop\'s p99 over redis-server\'s');
  t.match(drawn[1].body, /80,000 <tspan[^>]*>baseline<\/tspan>/);
  t.match(drawn[2].body, /failed: ringloop did not print a listening line/, 'a failed cell is no bar');
  t.match(svg, />probe p99 µs, lower is better</);
  t.match(svg, /higher is better; for latency panels, lower is/);
  t.notMatch(renderChart(chartModel(ECHO)), /latency panels/, 'said only where there are such panels');
  t.same(xmlProblems(svg), []);
});

t.test('a skipped suite is named with its reason instead of panels', async (t) => {
  t.match(renderChart(chartModel(ALL)), /<text class="skipped"[^>]*>no results: missing wrk: run perf\/setup.sh \(apt-get install wrk\)<\/text>/);
});

t.test('the title carries the date and the machine', async (t) => {
  const svg = renderChart(chartModel(ALL));
  t.match(svg, />ringloop benchmarks, 2026-11-28</);
  t.match(svg, />2 cores \(AMD EPYC\) · Node v20.20.2 · Linux 6.18 x64 · server pinned to CPU 0, load generator to CPU 1</);
  t.match(renderChart(chartModel({ ...ECHO, pinning: null })), /· not pinned: server and load generator shared every core</);
  t.match(renderChart(chartModel(ECHO_BEFORE_PINNING)), /· cores of server and load generator not recorded/);
});

t.test('names are escaped as XML text', async (t) => {
  const odd = { ...ECHO, results: [tcpRow('a<b & "c"', 'x&y', 1000)] };
  const svg = renderChart(chartModel(odd));
  t.match(svg, />x&amp;y<\/text>/);
  t.match(svg, /data-workload="a&lt;b &amp; &quot;c&quot;"/);
  t.same(xmlProblems(svg), []);
});

t.test('README table: a row per workload and contender, rate and CPU per message side by side, each with ringloop over it', async (t) => {
  t.equal(markdownTables(chartModel(ECHO)), [
    '**echo**: msgs/s and the server\'s CPU µs per message, median of 3 runs; "ringloop ÷ it": ringloop\'s figure over the row\'s, same run (above 1 is better for the rate, below 1 for the CPU)',
    '',
    '| workload | contender | msgs/s | ringloop ÷ it | CPU µs/msg | ringloop ÷ it | server busy |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    '| 64B ping-pong | **ringloop** | 120,000 |  | 7.00 |  | 84% |',
    '|  | node:net | 60,000 | 2.00x | 14.00 | 0.50x | 84% |',
    '|  | c-epoll | 90,000 | 1.33x | 6.50 | 1.08x | 59% |',
    '| 4KiB ping-pong | **ringloop** | 80,000 |  | 10.00 |  | 80% |',
    '|  | node:net | 50,000 | 1.60x | 20.00 | 0.50x | 100% |',
    '|  | c-epoll | failed | | | | |',
  ].join('\n'));
});

t.test('README table: without pinning there is no server busy column; older results show "-" for CPU', async (t) => {
  const unpinned = markdownTables(chartModel({ ...ECHO, pinning: null }));
  t.match(unpinned, '| workload | contender | msgs/s | ringloop ÷ it | CPU µs/msg | ringloop ÷ it |\n');
  t.match(unpinned, '|  | node:net | 60,000 | 2.00x | 14.00 | 0.50x |\n');
  const old = markdownTables(chartModel({ ...ECHO_BEFORE_PINNING, results: [tcpRow('64B ping-pong', 'ringloop', 2000), tcpRow('64B ping-pong', 'node:net', 1000)] }));
  t.match(old, '|  | node:net | 1,000 | 2.00x | - | - |');
});

t.test('README table: a skipped optional peer says so in its row', async (t) => {
  t.match(markdownTables(chartModel(HTTP)), '|  | uws | skipped | | | | |');
});

t.test('README table of the flood suite: the probe\'s p99 with ringloop over it, below 1 is better', async (t) => {
  t.equal(markdownTables(chartModel(FLOOD)), [
    '**flood**: probe p99 µs, median of 3 runs; "ringloop ÷ it": ringloop\'s figure over the row\'s, same run (below 1 is better)',
    '',
    '| workload | contender | probe p99 µs | ringloop ÷ it | server busy |',
    '| --- | --- | ---: | ---: | ---: |',
    '| PING flood | **ringloop** | 40,000 |  | 98% |',
    '|  | redis-server | 80,000 | 0.50x | 99% |',
    '| SET flood | **ringloop** | failed | | |',
    '|  | redis-server | 20,000 | - | 97% |',
  ].join('\n'));
});

t.test('README reading: which figure to compare, the pinned cores, and what 2 cores cannot show', async (t) => {
  const text = readingText(chartModel(ALL));
  t.match(text, 'divided by the messages (requests) completed in that window');
  t.match(text, 'Pinned: every thread and process of the server on CPU 0, the load generator (and the bench runner) on CPU 1');
  t.match(text, /server busy near 100%.*the rate; where the load generator is .*the CPU per message/);
  t.match(text, 'cannot show: scaling across reactors');
  t.match(readingText(chartModel({ ...ECHO, pinning: null })), 'Not pinned (`--no-pin`)');
  t.match(readingText(chartModel({ ...ECHO, pinning: { server: [0, 1], loadgen: [2, 3] } })), 'The server had 2 cores');
});

t.test('README block: the whole benchmark is reproduced by one bench command', async (t) => {
  const block = readmeBlock(chartModel(ALL), 'perf/results/2026-11-28-all.svg', ['perf/results/2026-11-28-all.json'], 'npm run chart -- perf/results/2026-11-28-all.json --readme');
  t.match(block, '![Benchmark chart: every contender per workload, 2026-11-28](perf/results/2026-11-28-all.svg)');
  t.match(block, '- **Machine**: 2 cores, AMD EPYC, Node v20.20.2, Linux 6.18 x64\n');
  t.match(block, '- **Cores**: server pinned to CPU 0, load generator to CPU 1\n');
  t.match(block, '**Reading the tables.**');
  t.match(block, '`npm run bench -- --runs 3 --seconds 5`');
  t.match(block, '**http**: no results (missing wrk');
});

t.test('README block replaces only what lies between its markers', async (t) => {
  const readme = `# x\n\nbefore\n${BLOCK_START}\nold table\n${BLOCK_END}\nafter\n`;
  t.equal(replaceBlock(readme, `${BLOCK_START}\nnew\n${BLOCK_END}`), `# x\n\nbefore\n${BLOCK_START}\nnew\n${BLOCK_END}\nafter\n`);
  t.throws(() => replaceBlock('# no markers\n', 'x'), /no generated block/);
});

t.test('without a converter on PATH the PNG is skipped, saying why', async (t) => {
  const r = svgToPng('/nonexistent.svg', '/nonexistent.png', { PATH: '/nonexistent' });
  t.equal(r.ok, false);
  t.match(r.message, /^PNG skipped: neither rsvg-convert .* nor ImageMagick is on PATH$/);
});

t.test('tls suite: both halves in one JSON object, each panel with its own unit and baseline', async (t) => {
  const merged = mergeTlsJson(TLS_HTTPS, TLS_ECHO, { runs: 1, seconds: 3, warmup: 1, only: null });
  t.equal(merged.suite, 'tls');
  t.same(merged.ratios, { 'node:https': 1.2, uws: null }, 'the headline is HTTPS keep-alive');
  t.same(Object.keys(merged.ratiosByWorkload), ['HTTPS keep-alive GET /', 'TLS full handshake']);
  t.same(Object.keys(merged.cpuRatiosByWorkload), ['HTTPS keep-alive GET /', 'TLS full handshake']);
  t.equal(merged.targetsMet, false);
  t.same(merged.tls, { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, 'what the loadgen negotiated');
  t.same(merged.warnings, ['uws skipped: npm install failed']);
  t.equal(merged.ok, true);
  const model = chartModel(JSON.parse(JSON.stringify(merged)));
  t.same(model.panels.map((p) => [p.workload, p.unit, p.baseline]), [
    ['HTTPS keep-alive', 'requests/s', 'node:https'],
    ['TLS full handshake', 'msgs/s', 'node:tls'],
  ]);
  t.same(model.panels[0].bars.map((b) => [b.contender, b.skipped]), [['ringloop', false], ['node:https', false], ['uws', true]]);
  const svg = renderChart(model);
  t.same(xmlProblems(svg), []);
  t.match(svg, />tls: ratios vs node:https, node:tls</, 'the heading names both baselines');
  const onlyEcho = mergeTlsJson(null, TLS_ECHO, { runs: 1, seconds: 3, warmup: 1, only: ['node:tls'] });
  t.same(onlyEcho.ratios, {}, '--only without an HTTPS contender: no headline');
  t.equal(onlyEcho.config.https, null);
  t.equal(onlyEcho.results.length, 2);
});
