import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { resultsDir } from './paths.js';

export interface MachineInfo {
  cpus: number;
  model: string;
  node: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function localDate(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Writes perf/results/<YYYY-MM-DD>-<suite>.json via a .tmp rename, so an
 * interrupted run never leaves a truncated file where a good one was.
 */
export function saveResults(suite: string, data: unknown, when: Date = new Date()): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${localDate(when)}-${suite}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}
