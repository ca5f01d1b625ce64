// Hand-written SVG for the benchmark results: small multiples, one panel per suite + workload,
// one horizontal bar per contender. Each panel has its own scale (workloads differ by 10x and
// more), starting at zero; what compares across contenders is the ratio printed by each bar.
import { panelTitle, ratioToBaseline, type Bar, type ChartModel, type Machine, type Panel, type PinningInfo } from './chart-model.js';

const WIDTH = 960;
const MARGIN = 16;
const GAP = 24;
const ROW = 20;
const BAR = 14;
const PANEL_HEAD = 22;
const AXIS = 26;
// Room right of the longest bar for its label: value, ratio and CPU per message.
const VALUE_W = 190;
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
// Rough advance of a 12px sans-serif character, to size the contender-name column.
const CHAR_W = 6.6;

const COLOR = {
  subject: '#e8590c',
  variant: '#ffa94d', // ringloop in another mode (e.g. ringloop:reuseport)
  baseline: '#495057',
  other: '#adb5bd',
  failed: '#c92a2a',
  grid: '#e9ecef',
  muted: '#6c757d',
  text: '#212529',
} as const;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

type Attrs = Record<string, string | number>;

function el(name: string, attrs: Attrs, body?: string): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  return body === undefined ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`;
}

const text = (attrs: Attrs, s: string): string => el('text', attrs, escapeXml(s));

/** 0, 250k, 1.5M: short labels for axis ticks. */
export function fmtShort(n: number): string {
  const trim = (x: number): string => String(Number(x.toFixed(2)));
  if (n >= 1e6) return `${trim(n / 1e6)}M`;
  if (n >= 1e3) return `${trim(n / 1e3)}k`;
  return trim(n);
}

/** Round tick positions from 0 to at least `max` (steps of 1, 2, 2.5 or 5 x 10^k). */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((f) => f * pow >= raw) ?? 10) * pow;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if ((ticks.at(-1) ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

function role(panel: Panel, bar: Bar): 'subject' | 'variant' | 'baseline' | 'other' {
  if (bar.contender === panel.subject) return 'subject';
  if (panel.subject !== null && bar.contender.startsWith(`${panel.subject}:`)) return 'variant';
  return bar.contender === panel.baseline ? 'baseline' : 'other';
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function panelHeight(p: Panel): number {
  return PANEL_HEAD + p.bars.length * ROW + AXIS;
}

/** One panel at (x, y), `w` wide; `labelW` is shared so bars line up across panels. */
function drawPanel(p: Panel, x: number, y: number, w: number, labelW: number): string {
  const plotX = x + labelW;
  const plotW = w - labelW - VALUE_W;
  const values = p.bars.map((b) => b.value).filter((v): v is number => v !== null);
  const ticks = values.length > 0 ? niceTicks(Math.max(...values)) : [];
  const top = ticks.at(-1) ?? 1;
  const barsTop = y + PANEL_HEAD;
  const out: string[] = [
    text({ x, y: y + 14, 'font-size': 12, 'font-weight': 'bold', fill: COLOR.text }, panelTitle(p)),
    text({ x: x + w, y: y + 14, 'font-size': 10, fill: COLOR.muted, 'text-anchor': 'end' }, p.lowerIsBetter ? `${p.unit}, lower is better` : p.unit),
  ];
  const axisY = barsTop + p.bars.length * ROW;
  for (const t of ticks) {
    const tx = plotX + (t / top) * plotW;
    out.push(el('line', { x1: tx, x2: tx, y1: barsTop - 2, y2: axisY, stroke: COLOR.grid }));
    out.push(text({ x: tx, y: axisY + 12, 'font-size': 10, fill: COLOR.muted, 'text-anchor': 'middle' }, fmtShort(t)));
  }
  out.push(el('line', { x1: plotX, x2: plotX, y1: barsTop - 2, y2: axisY, stroke: COLOR.muted }));
  p.bars.forEach((b, i) => {
    const kind = role(p, b);
    const rowY = barsTop + i * ROW;
    const mid = rowY + ROW / 2 + 4;
    const bold: Attrs = kind === 'subject' ? { 'font-weight': 'bold' } : {};
    const parts: string[] = [text({ x: plotX - 6, y: mid, 'font-size': 12, 'text-anchor': 'end', fill: COLOR.text, ...bold }, b.contender)];
    if (b.value === null) {
      // Never a bar for a missing figure: the word, and the reason on hover.
      const why = b.failure ?? 'no result';
      const what = b.skipped ? 'skipped' : 'failed';
      parts.push(el('text', { class: what, x: plotX + 6, y: mid, 'font-size': 12, 'font-style': 'italic', fill: b.skipped ? COLOR.muted : COLOR.failed },
        `${escapeXml(`${what}: ${shorten(why, 48)}`)}${el('title', {}, escapeXml(why))}`));
    } else {
      const bw = Math.max(1, (b.value / top) * plotW);
      const r = ratioToBaseline(p, b);
      const ratioText = kind === 'baseline' ? 'baseline' : r === null ? '' : `${r.toFixed(2)}x`;
      parts.push(el('rect', { class: 'fill', x: plotX, y: rowY + (ROW - BAR) / 2, width: bw.toFixed(1), height: BAR, fill: COLOR[kind] }));
      const cpu = b.cpuUsPerMsg === null ? '' : ` ${el('tspan', { class: 'cpu', fill: COLOR.muted }, escapeXml(`· ${b.cpuUsPerMsg.toFixed(2)} µs cpu`))}`;
      parts.push(el('text', { class: 'value', x: plotX + bw + 6, y: mid, 'font-size': 11, fill: COLOR.text },
        `${escapeXml(Math.round(b.value).toLocaleString('en-US'))}${ratioText ? ` ${el('tspan', { 'font-weight': 'bold', fill: kind === 'baseline' ? COLOR.muted : COLOR.text }, escapeXml(ratioText))}` : ''}${cpu}`));
    }
    const attrs: Attrs = { class: `bar ${kind}${b.value === null ? (b.skipped ? ' skipped' : ' failed') : ''}`, 'data-suite': p.suite, 'data-workload': panelTitle(p), 'data-contender': b.contender };
    out.push(el('g', attrs, parts.join('')));
  });
  return el('g', { class: 'panel', 'data-suite': p.suite, 'data-workload': panelTitle(p) }, out.join(''));
}

/** The subtitle's note on where the servers and the load generator ran. */
export function pinningLine(p: PinningInfo): string {
  if (p === undefined) return 'cores of server and load generator not recorded (results from before pinned runs)';
  if (p === null) return 'not pinned: server and load generator shared every core';
  return `server pinned to CPU ${p.server.join(',')}, load generator to CPU ${p.loadgen.join(',')}`;
}

function machineLine(m: Machine | null): string {
  if (m === null) return 'machine: unknown';
  const cpu = `${m.cpus ?? '?'} cores${m.model ? ` (${m.model})` : ''}`;
  return [cpu, m.node ? `Node ${m.node}` : null, m.kernel].filter((s) => s !== null).join(' · ');
}

const LEGEND = { subject: 'ringloop (subject)', variant: 'ringloop, other mode', baseline: 'baseline (ratios are to it)', other: 'other contenders' } as const;

/** Swatches for the roles that appear in the chart, in a fixed order. */
function legend(panels: readonly Panel[], x: number, y: number): string {
  const present = new Set(panels.flatMap((p) => p.bars.map((b) => role(p, b))));
  const items = (Object.keys(LEGEND) as (keyof typeof LEGEND)[]).filter((k) => present.has(k)).map((k) => [COLOR[k], LEGEND[k]] as const);
  let at = x;
  return items.map(([fill, label]) => {
    const s = el('rect', { x: at, y: y - 9, width: 10, height: 10, fill }) + text({ x: at + 14, y, 'font-size': 11, fill: COLOR.text }, label);
    at += 28 + label.length * 6;
    return s;
  }).join('');
}

export interface ChartOptions {
  /** Panels per row (default 2). */
  columns?: number;
}

/** A standalone SVG document of every suite, workload and contender in the model. */
export function renderChart(model: ChartModel, opts: ChartOptions = {}): string {
  const columns = Math.max(1, opts.columns ?? 2);
  const panelW = (WIDTH - 2 * MARGIN - (columns - 1) * GAP) / columns;
  const longest = Math.max(8, ...model.panels.flatMap((p) => p.bars.map((b) => b.contender.length)));
  const labelW = Math.min(panelW / 2.5, longest * CHAR_W + 12);
  const title = `ringloop benchmarks${model.date ? `, ${model.date}` : ''}`;
  const runs = model.config?.runs;
  const secs = model.config?.seconds;
  const over = runs ? ` of ${runs} runs${secs ? ` x ${secs} s` : ''}` : '';
  const better = model.panels.some((p) => p.lowerIsBetter) ? 'higher is better; for latency panels, lower is' : 'higher is better';
  const how = `bars: median${over} (${better}); next to each: the value, its ratio to the suite's baseline in the same run, and the server's CPU µs per message`;
  const body: string[] = [
    text({ x: MARGIN, y: 28, 'font-size': 18, 'font-weight': 'bold', fill: COLOR.text }, title),
    text({ x: MARGIN, y: 48, 'font-size': 12, fill: COLOR.text }, `${machineLine(model.machine)} · ${pinningLine(model.pinning)}`),
    text({ x: MARGIN, y: 66, 'font-size': 11, fill: COLOR.muted }, how),
    legend(model.panels, MARGIN, 86),
  ];
  let y = 100;
  for (const suite of model.suites) {
    y += 14;
    const panels = model.panels.filter((p) => p.suite === suite.name);
    // Every baseline the suite's panels use (the tls suite has one per half).
    const baselines = [...new Set(panels.flatMap((p) => (p.baseline ? [p.baseline] : [])))];
    const heading = baselines.length > 0 ? `${suite.name}: ratios vs ${baselines.join(', ')}` : suite.name;
    body.push(text({ x: MARGIN, y, 'font-size': 14, 'font-weight': 'bold', fill: COLOR.text }, heading));
    y += 10;
    if (panels.length === 0) {
      y += 16;
      body.push(text({ class: 'skipped', x: MARGIN, y, 'font-size': 12, 'font-style': 'italic', fill: COLOR.failed }, `no results: ${suite.skipped ?? 'the suite produced none'}`));
      y += 8;
      continue;
    }
    for (let i = 0; i < panels.length; i += columns) {
      const row = panels.slice(i, i + columns);
      row.forEach((p, j) => body.push(drawPanel(p, MARGIN + j * (panelW + GAP), y, panelW, labelW)));
      y += Math.max(...row.map(panelHeight)) + 8;
    }
  }
  const height = Math.ceil(y + MARGIN);
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" role="img">`;
  // An opaque background: dark-mode viewers would otherwise draw the dark text on dark.
  return `${head}\n${el('title', {}, escapeXml(`${title}: ${machineLine(model.machine)}`))}\n${el('rect', { width: '100%', height: '100%', fill: '#ffffff' })}\n${body.join('\n')}\n</svg>\n`;
}
