// The kernel's count of accepted TCP connections (`Tcp: PassiveOpens` in /proc/net/snmp): how a
// tool-driven run shows how many connections it really opened (wrk prints only requests).
// It is the network namespace's count, so another local server accepting at the same time adds
// to it; it can only overstate the connections of a run, never hide them.
import { readFileSync } from 'node:fs';

/** PassiveOpens from /proc/net/snmp's text (a `Tcp:` header line, then a `Tcp:` values line); null when absent. */
export function parsePassiveOpens(snmp: string): number | null {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  const [head, values] = lines.map((l) => l.trim().split(/\s+/));
  if (!head || !values) return null;
  const i = head.indexOf('PassiveOpens');
  const v = i < 0 ? NaN : Number(values[i]);
  return Number.isFinite(v) ? v : null;
}

/** The count now, or null where /proc/net/snmp cannot be read (not Linux). */
export function passiveOpens(): number | null {
  try {
    return parsePassiveOpens(readFileSync('/proc/net/snmp', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * A run meant to open a connection per request (wrk with `Connection: close`): null when it did
 * (connections at least 90% of requests; wrk also holds up to its -c connections open at the
 * end), else why the figure is not per connection. Null too when the count is unknown.
 */
export function reconnectProblem(requests: number, connections: number | null): string | null {
  if (connections === null || connections >= 0.9 * requests) return null;
  return `expected a new connection per request, but ${requests} requests came over ${connections} accepted connections: the client kept connections open`;
}
