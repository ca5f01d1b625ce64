// SVG -> PNG with whatever converter the machine has; PNG is a convenience, never a dependency.
import { spawnSync } from 'node:child_process';

interface Converter {
  name: string;
  args(svg: string, png: string): string[];
}

// rsvg-convert (librsvg2-bin) first: it renders text and fonts as browsers do. ImageMagick's
// convert is checked by its version banner, because a `convert` on PATH may be something else.
const CONVERTERS: readonly (Converter & { probe: string[]; banner: RegExp })[] = [
  { name: 'rsvg-convert', probe: ['--version'], banner: /rsvg-convert/, args: (svg, png) => ['-b', 'white', '-o', png, svg] },
  { name: 'magick', probe: ['-version'], banner: /^Version: ImageMagick/m, args: (svg, png) => [svg, png] },
  { name: 'convert', probe: ['-version'], banner: /^Version: ImageMagick/m, args: (svg, png) => [svg, png] },
];

function findConverter(env: NodeJS.ProcessEnv): Converter | null {
  for (const c of CONVERTERS) {
    const r = spawnSync(c.name, c.probe, { env, encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0 && c.banner.test(r.stdout)) return c;
  }
  return null;
}

/** Writes `png` from `svg`; returns one line saying what happened (written, or skipped and why). */
export function svgToPng(svg: string, png: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; message: string } {
  const c = findConverter(env);
  if (c === null) {
    return { ok: false, message: 'PNG skipped: neither rsvg-convert (apt-get install librsvg2-bin) nor ImageMagick is on PATH' };
  }
  const r = spawnSync(c.name, c.args(svg, png), { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim().split('\n')[0];
    return { ok: false, message: `PNG skipped: ${c.name} failed: ${why}` };
  }
  return { ok: true, message: `PNG written to ${png} (${c.name})` };
}
