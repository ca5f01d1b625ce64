// Reading results files into a chart model and writing the chart (SVG, and PNG when a
// converter is installed) next to them.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chartModel, mergeModels, type ChartModel } from './chart-model.js';
import { renderChart } from './chart.js';
import { svgToPng } from './png.js';

/** perf/results/<YYYY-MM-DD>-<suite>.json: dates a file whose JSON has no date. */
const dateInName = (file: string): string | null => /^\d{4}-\d{2}-\d{2}/.exec(basename(file))?.[0] ?? null;

/** Where a results file's chart goes by default: beside it, same name, .svg. */
export const chartPathFor = (jsonFile: string): string => `${jsonFile.replace(/\.json$/, '')}.svg`;

/** The model of one or more results files. */
export function loadModel(files: readonly string[]): ChartModel {
  return mergeModels(files.map((f) => chartModel(JSON.parse(readFileSync(f, 'utf8')), dateInName(f))));
}

/** Writes `svg` (and its .png when possible); returns one line per file or skip, for the user. */
export function writeChart(model: ChartModel, svg: string): string[] {
  // Through a .tmp rename, as the results: a reader never sees half a chart.
  writeFileSync(`${svg}.tmp`, renderChart(model));
  renameSync(`${svg}.tmp`, svg);
  return [`chart written to ${svg}`, svgToPng(svg, svg.replace(/\.svg$/, '') + '.png').message];
}

/** The chart of a results file just saved by the bench runner: same path, .svg. */
export function chartSavedResults(jsonFile: string, data: unknown): string[] {
  return writeChart(chartModel(data, dateInName(jsonFile)), chartPathFor(jsonFile));
}
