// Reads a results file (one suite, or the whole benchmark's `{suite: 'all', suites}`) into
// the one shape the chart and the README table are drawn from. The files are plain JSON
// written by different suite runners (tcp-report.ts, tool-suite.ts, flood-report.ts), so nothing is assumed
// about a field until it has been checked.

/** One contender on one panel: its median, or why there is none. */
export interface Bar {
  contender: string;
  value: number | null;
  /** Set when the contender produced no trustworthy figure: draw "failed", never a bar. */
  failure: string | null;
  /** The contender did not run at all (an optional peer that could not be installed). */
  skipped: boolean;
  /** Server CPU µs per message (or request) over the measured window; null when not measured. */
  cpuUsPerMsg: number | null;
  /** Pinned runs: share of the server's cores it kept busy; null otherwise. */
  busy: number | null;
}

/** One suite + workload (+ metric, for suites whose tool reports several). */
export interface Panel {
  suite: string;
  workload: string;
  metric: string | null;
  unit: string;
  /** The bars are a latency (the flood suite's probe p99): shorter is better. */
  lowerIsBetter: boolean;
  subject: string | null;
  baseline: string | null;
  bars: Bar[];
}

export interface Machine {
  cpus: number | null;
  model: string | null;
  node: string | null;
  kernel: string | null;
}

/** The options a run was made with, to print the command that reproduces it. */
export interface RunConfig {
  runs: number | null;
  seconds: number | null;
  warmup: number | null;
  only: string[] | null;
}

/** The cores each side ran on; null: not pinned (--no-pin); undefined: the file predates pinning. */
export type PinningInfo = { server: number[]; loadgen: number[] } | null | undefined;

export interface SuiteInfo {
  name: string;
  /** Why the suite has no panels (e.g. its tool is not installed); null when it ran. */
  skipped: string | null;
  config: RunConfig | null;
  pinning: PinningInfo;
}

export interface ChartModel {
  /** YYYY-MM-DD of the run, or null when the file does not say. */
  date: string | null;
  machine: Machine | null;
  /** The whole benchmark (one command for every suite) or separate suite runs. */
  whole: boolean;
  config: RunConfig | null;
  /** The whole file's pinning (the first suite's when the file has none of its own). */
  pinning: PinningInfo;
  suites: SuiteInfo[];
  panels: Panel[];
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function machineOf(v: unknown): Machine | null {
  if (!isRecord(v)) return null;
  return { cpus: num(v['cpus']), model: str(v['model']), node: str(v['node']), kernel: str(v['kernel']) };
}

function configOf(v: unknown): RunConfig | null {
  if (!isRecord(v)) return null;
  const only = Array.isArray(v['only']) ? v['only'].filter((s): s is string => typeof s === 'string') : null;
  return { runs: num(v['runs']), seconds: num(v['seconds']), warmup: num(v['warmup']), only };
}

const cpus = (v: unknown): number[] | null => (Array.isArray(v) && v.every((c) => typeof c === 'number') ? v : null);

function pinningOf(v: Json): PinningInfo {
  if (!('pinning' in v)) return undefined;
  const p = v['pinning'];
  if (!isRecord(p)) return null;
  const server = cpus(p['server']);
  const loadgen = cpus(p['loadgen']);
  return server && loadgen ? { server, loadgen } : null;
}

/**
 * A TCP-suite row (msgsPerSec), a tool-suite row (rps + metric) or a flood-suite row (the
 * probe's p99Us and samples, no rate), reduced to what is drawn.
 */
interface Row extends Omit<Bar, 'contender'> {
  workload: string;
  metric: string | null;
  contender: string;
  unit: string;
  lowerIsBetter: boolean;
}

/** What a row's bar shows: its rate, or for the flood suite the probe's p99 (lower is better). */
function figureOf(r: Json): { key: string; unit: string; lowerIsBetter: boolean } {
  if ('msgsPerSec' in r) return { key: 'msgsPerSec', unit: 'msgs/s', lowerIsBetter: false };
  if (!('rps' in r) && 'p99Us' in r && 'samples' in r) return { key: 'p99Us', unit: 'probe p99 µs', lowerIsBetter: true };
  return { key: 'rps', unit: 'requests/s', lowerIsBetter: false };
}

function rowOf(r: Json, suiteFailures: readonly string[]): Row | null {
  const workload = str(r['workload']);
  const contender = str(r['contender']);
  if (workload === null || contender === null) return null;
  const figure = figureOf(r);
  const value = num(r[figure.key]);
  // A TCP cell with loadgen errors has a figure, but not one to put next to the others.
  const skipped = str(r['skipped']);
  let failure = skipped ?? str(r['failure']);
  if (failure === null && r['ok'] === false) failure = `${num(r['errors']) ?? '?'} loadgen errors`;
  if (failure === null && value === null) {
    // Tool suites list their failures as "workload / contender: why".
    const prefix = `${workload} / ${contender}: `;
    failure = suiteFailures.find((f) => f.startsWith(prefix))?.slice(prefix.length) ?? 'no result';
  }
  const ok = failure === null;
  return {
    workload, metric: str(r['metric']), contender, failure, skipped: skipped !== null, unit: figure.unit, lowerIsBetter: figure.lowerIsBetter,
    value: ok ? value : null,
    cpuUsPerMsg: ok ? num(r['serverCpuUsPerMsg']) : null,
    busy: ok ? num(r['serverBusy']) : null,
  };
}

/** The table's baseline: named by the file, else the first peer the subject's ratios were taken against. */
function baselineOf(suite: Json, panelKey: string): string | null {
  const named = str(suite['baseline']);
  if (named !== null) return named;
  const byWorkload = suite['ratiosByWorkload'];
  const ratios = isRecord(byWorkload) && isRecord(byWorkload[panelKey]) ? byWorkload[panelKey] : suite['ratios'];
  return isRecord(ratios) ? (Object.keys(ratios)[0] ?? null) : null;
}

function suitePanels(name: string, suite: Json): Panel[] {
  if (!Array.isArray(suite['results'])) {
    // A suite made of parts with results of their own (pubsub: redis, chat): a panel per part's workload.
    const parts = Object.values(suite).filter((v): v is Json => isRecord(v) && Array.isArray(v['results']));
    if (parts.length > 0) return parts.flatMap((part) => suitePanels(name, part));
  }
  const failures = Array.isArray(suite['failures']) ? suite['failures'].filter((f): f is string => typeof f === 'string') : [];
  const results = Array.isArray(suite['results']) ? suite['results'] : [];
  const panels = new Map<string, Panel>();
  for (const raw of results) {
    const row = isRecord(raw) ? rowOf(raw, failures) : null;
    if (row === null) continue;
    // The same key the runners use for ratiosByWorkload.
    const key = row.metric === null ? row.workload : `${row.workload} ${row.metric}`;
    let panel = panels.get(key);
    if (!panel) {
      panel = { suite: name, workload: row.workload, metric: row.metric, unit: row.unit, lowerIsBetter: row.lowerIsBetter, subject: null, baseline: baselineOf(suite, key), bars: [] };
      panels.set(key, panel);
    }
    const { contender, value, failure, skipped, cpuUsPerMsg, busy } = row;
    panel.bars.push({ contender, value, failure, skipped, cpuUsPerMsg, busy });
  }
  const subject = str(suite['subject']);
  for (const p of panels.values()) {
    const names = p.bars.map((b) => b.contender);
    p.subject = subject ?? (names.includes('ringloop') ? 'ringloop' : null);
    if (p.baseline !== null && !names.includes(p.baseline)) p.baseline = null;
  }
  return [...panels.values()];
}

function dateOf(v: unknown): string | null {
  const s = str(v);
  return s !== null && /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : null;
}

/**
 * The chart model of one results file. `fallbackDate` (e.g. from the file name) is used when
 * the file itself carries no date.
 */
export function chartModel(data: unknown, fallbackDate: string | null = null): ChartModel {
  if (!isRecord(data)) throw new Error('results file: expected a JSON object');
  const whole = data['suite'] === 'all' && isRecord(data['suites']);
  const entries: [string, Json][] = whole
    ? Object.entries(data['suites'] as Json).flatMap(([k, v]): [string, Json][] => (isRecord(v) ? [[k, v]] : []))
    : [[str(data['suite']) ?? 'bench', data]];
  const first = entries.map(([, s]) => s);
  const pick = <T>(f: (s: Json) => T | null): T | null => f(data) ?? first.map(f).find((x) => x !== null) ?? null;
  return {
    date: pick((s) => dateOf(s['date'])) ?? fallbackDate,
    machine: pick((s) => machineOf(s['machine'])),
    whole,
    config: pick((s) => configOf(s['config'])),
    pinning: 'pinning' in data ? pinningOf(data) : first.map(pinningOf).find((p) => p !== undefined),
    suites: entries.map(([name, s]) => ({ name, skipped: str(s['skipped']), config: configOf(s['config']), pinning: pinningOf(s) })),
    panels: entries.flatMap(([name, s]) => suitePanels(name, s)),
  };
}

/** Several separately saved suite runs drawn as one chart (date and machine from the first). */
export function mergeModels(models: readonly ChartModel[]): ChartModel {
  const [head] = models;
  if (!head) throw new Error('no results to draw');
  if (models.length === 1) return head;
  return {
    ...head,
    whole: false,
    suites: models.flatMap((m) => m.suites.map((s) => ({ ...s, config: s.config ?? m.config }))),
    panels: models.flatMap((m) => m.panels),
  };
}

/** A bar's value over the panel's baseline's, both medians of the same run; null when either is missing. */
export function ratioToBaseline(panel: Panel, bar: Bar): number | null {
  const base = panel.bars.find((b) => b.contender === panel.baseline)?.value ?? null;
  return bar.value === null || base === null || base === 0 ? null : bar.value / base;
}

export function panelTitle(p: Panel): string {
  return p.metric === null ? p.workload : `${p.workload} · ${p.metric}`;
}
