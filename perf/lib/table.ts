export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align: Align;
}

/** Plain-text table that reads well in a terminal and pastes into Markdown. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number): string => {
    const w = widths[i] ?? 0;
    return columns[i]?.align === 'right' ? text.padStart(w) : text.padEnd(w);
  };
  const line = (cells: readonly string[]): string =>
    `| ${columns.map((_, i) => cell(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `|${columns.map((c, i) => {
    const dashes = '-'.repeat((widths[i] ?? 0) + 2);
    return c.align === 'right' ? `${dashes.slice(1)}:` : dashes;
  }).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n');
}

export function fmtInt(n: number | null): string {
  return n === null ? '-' : Math.round(n).toLocaleString('en-US');
}

export function fmtFixed(n: number | null, digits: number): string {
  return n === null ? '-' : n.toFixed(digits);
}

/** "1.53x", or `missing` when there is no ratio. */
export function fmtRatio(r: number | null | undefined, missing = 'n/a'): string {
  return r === null || r === undefined ? missing : `${r.toFixed(2)}x`;
}

/** A share of the server's cores kept busy, as "97%", or '-'. */
export function fmtBusy(share: number | null): string {
  return share === null ? '-' : `${Math.round(share * 100)}%`;
}
