// A flood beside an ordinary client: the fairness probe. `flooders` clients pipeline a request
// as fast as the server takes it and never read a reply (so their output backs up on the server
// too); one probe client sends the same request every `everyMs` and times each reply. Used by the
// fairness test and by `perf/` to compare servers under the same flood.
import net from 'node:net';

/**
 * Floods `port` on 127.0.0.1 for `ms` with `flooders` non-reading clients writing `request`
 * repeatedly, while a probe sends `request` every `everyMs` and waits for `reply` before the next.
 * Resolves with `{ latencies, unanswered, floodBytes }`: each probe round trip in ms, whether the
 * last probe was still unanswered when the flood ended, and the bytes the flooders got in.
 */
export async function floodProbe({ port, flooders = 50, ms = 5000, everyMs = 100, request, reply, warmupMs = 300 }) {
  const chunk = Buffer.from(request.repeat(Math.ceil(65536 / request.length)));
  const sockets = [];
  let floodBytes = 0;
  let flooding = true;
  const pump = (s) => {
    // Write until the socket's own buffer is full, then wait for drain: the kernel's flow
    // control decides how fast a flooder goes, never our memory.
    while (flooding && !s.destroyed && s.write(chunk)) floodBytes += chunk.length;
  };
  for (let i = 0; i < flooders; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.pause(); // never read: the replies pile up on the server
    s.on('error', () => {});
    s.on('connect', () => pump(s));
    s.on('drain', () => {
      floodBytes += chunk.length;
      pump(s);
    });
    sockets.push(s);
  }
  const probe = net.connect({ port, host: '127.0.0.1' });
  probe.on('error', () => {});
  await new Promise((resolve, reject) => {
    probe.once('connect', resolve);
    probe.once('error', reject);
  });
  let got = '';
  let waiter = null;
  probe.setEncoding('latin1');
  probe.on('data', (d) => {
    got += d;
    if (waiter && got.includes(reply)) {
      got = got.slice(got.indexOf(reply) + reply.length);
      const w = waiter;
      waiter = null;
      w();
    }
  });
  await new Promise((r) => setTimeout(r, warmupMs)); // the flood gets going first
  const latencies = [];
  const end = Date.now() + ms;
  let unanswered = false;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    const answered = new Promise((resolve) => {
      waiter = resolve;
    });
    probe.write(request);
    // The probe waits for its reply however long it takes, up to the end of the flood plus a
    // grace, so a starved probe shows up as one huge latency, not as a missing sample.
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), end - Date.now() + 2000));
    const r = await Promise.race([answered, timeout]);
    if (r === 'timeout') {
      unanswered = true;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      break;
    }
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((r2) => setTimeout(r2, everyMs));
  }
  flooding = false;
  for (const s of sockets) s.destroy();
  probe.destroy();
  await Promise.all([...sockets, probe].map((s) => (s.closed ? null : new Promise((r) => s.once('close', r)))));
  return { latencies, unanswered, floodBytes };
}

/** The q-quantile (0..1) of `xs` (nearest rank). */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
