// V8 .cpuprofile (what `node --cpu-prof` writes, one per thread) to folded stacks.
import { readFileSync } from 'node:fs';
import type { Folded } from './flame.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds on the monotonic clock (process.hrtime's, on Linux). */
  startTime: number;
  timeDeltas: number[];
}

function frameName(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/') : '';
  return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
}

/**
 * Adds one profile's samples to `out`, each stack prefixed with `thread`. Samples taken before
 * `sinceUs` (monotonic microseconds, as `process.hrtime.bigint() / 1000n`) are left out: start-up
 * (module loading, compiling) would otherwise fill half of a short session's picture.
 */
export function foldCpuProfile(path: string, thread: string, out: Folded, sinceUs = 0): void {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = new Map<number, string>();
  const stack = (id: number): string => {
    const cached = stackOf.get(id);
    if (cached !== undefined) return cached;
    const names: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (n.callFrame.functionName !== '(root)') names.push(frameName(n));
    }
    const s = [thread, ...names.reverse()].join(';');
    stackOf.set(id, s);
    return s;
  };
  // Idle samples are time a thread waited, not CPU: with them every busy frame would shrink to a
  // sliver (and narrow ones drop out of the picture) next to the threads' waiting.
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    at += p.timeDeltas[i] ?? 0;
    if (at < sinceUs || idle.has(id)) continue;
    const s = stack(id);
    out.set(s, (out.get(s) ?? 0) + 1);
  }
}
