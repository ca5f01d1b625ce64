// `perf script` output to folded stacks (one stack per sample, leaf last in each block).
import type { Folded } from './flame.js';

export function foldPerfScript(text: string, out: Folded): void {
  let thread = '';
  let frames: string[] = [];
  const flush = (): void => {
    if (frames.length > 0) {
      const s = [thread, ...frames.reverse()].join(';');
      out.set(s, (out.get(s) ?? 0) + 1);
    }
    frames = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (!line.startsWith('\t') && !line.startsWith(' ')) {
      flush();
      thread = line.trim().split(/\s+/)[0] ?? 'thread'; // comm, e.g. "node" or "ringloop:reac"
      continue;
    }
    // "\t    7f3a... symbol+0x12 (dso)"
    const m = /^\s*[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$/.exec(line);
    if (m) frames.push(m[1]!.replace(/\+0x[0-9a-f]+$/, ''));
  }
  flush();
}
