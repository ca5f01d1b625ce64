// Folded stacks ("a;b;c 12" per line, as perf/flamegraph tooling uses) to a self-contained SVG
// flamegraph: width is time, each row a call depth, hover shows the frame and its share.
export type Folded = Map<string, number>;

interface Node {
  name: string;
  value: number;
  children: Map<string, Node>;
}

function tree(folded: Folded): Node {
  const root: Node = { name: 'all', value: 0, children: new Map() };
  for (const [stack, n] of folded) {
    root.value += n;
    let node = root;
    for (const frame of stack.split(';')) {
      let child = node.children.get(frame);
      if (!child) {
        child = { name: frame, value: 0, children: new Map() };
        node.children.set(frame, child);
      }
      child.value += n;
      node = child;
    }
  }
  return root;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// Warm colours for JS, blue for native/kernel, grey for idle: the usual reading of a flamegraph.
function colour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  if (/\(idle\)|\(program\)|epoll_wait|uv__io_poll/.test(name)) return 'rgb(190,190,190)';
  if (/\.m?js|JS:|\(garbage collector\)/.test(name)) return `rgb(${220 + (h % 35)},${90 + (h % 110)},${40 + (h % 40)})`;
  return `rgb(${80 + (h % 40)},${140 + (h % 60)},${200 + (h % 55)})`;
}

export function flamegraphSvg(folded: Folded, title: string): string {
  const root = tree(folded);
  const width = 1200;
  const rowH = 16;
  let depthMax = 0;
  const rects: string[] = [];
  const walk = (node: Node, x: number, depth: number): void => {
    depthMax = Math.max(depthMax, depth);
    const w = (node.value / Math.max(root.value, 1)) * width;
    if (w < 0.3) return;
    const pct = ((node.value / Math.max(root.value, 1)) * 100).toFixed(2);
    const label = w > 40 ? escape(node.name.slice(0, Math.floor(w / 7))) : '';
    rects.push(
      `<g><title>${escape(node.name)} (${node.value} samples, ${pct}%)</title>` +
        `<rect x="${x.toFixed(1)}" y="${depth}" width="${w.toFixed(1)}" height="${rowH - 1}" fill="${colour(node.name)}"/>` +
        (label ? `<text x="${(x + 3).toFixed(1)}" y="${depth + 11}">${label}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      walk(child, cx, depth + 1);
      cx += (child.value / Math.max(root.value, 1)) * width;
    }
  };
  walk(root, 0, 0);
  const height = (depthMax + 3) * rowH;
  // Depth grows upwards: flip with a transform so the root sits at the bottom.
  const body = rects
    .map((r) => r.replace(/y="(\d+)"/, (_, d: string) => `y="${height - (Number(d) + 2) * rowH}"`).replace(/<text x="([\d.]+)" y="(\d+)"/, (_, x: string, d: string) => `<text x="${x}" y="${height - (Number(d) - 11 + 2) * rowH + 11}"`))
    .join('\n');
  return `<?xml version="1.0" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 20}" font-family="monospace" font-size="11">
<text x="4" y="14" font-size="13">${escape(title)} (${root.value} samples)</text>
<g transform="translate(0,20)">
${body}
</g>
</svg>
`;
}
