// Package helpers: pack this repository as npm would publish it, and install the tarball into
// fresh projects in temp dirs the way a user would (npm install <tarball>).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** npm's own CLI script, so it can run under a PATH that holds nothing but `node` and `sh`. */
export function npmCli() {
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const cli = path.join(globalRoot, 'npm', 'bin', 'npm-cli.js');
  if (!fs.existsSync(cli)) throw new Error(`npm-cli.js not found at ${cli}`);
  return cli;
}

/** `npm pack --dry-run --json` of the repository: the files npm would publish. */
export function packList() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  return info;
}

/**
 * Packs the repository into `dir` (scripts off: CI has built dist/ and the prebuild already; a
 * publish runs `prepack`, which builds both). Returns the tarball's path.
 */
export function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  return path.join(dir, JSON.parse(out)[0].filename);
}

/**
 * A directory for PATH holding only `node` and `sh`: no compiler, make or python, so an install
 * that needed a source build fails there.
 */
export function bareBin(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync(fs.realpathSync('/bin/sh'), path.join(dir, 'sh'));
  return dir;
}

/**
 * The environment of a user's process: without the suite's RINGLOOP_* overrides (test:kqueue and
 * test:asan point RINGLOOP_ADDON at their own build), so an installed package loads its own addon.
 */
export function userEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('RINGLOOP_')) delete env[k];
  return env;
}

/** Runs a command (in `userEnv()` unless `env` is given); resolves with {code, stdout, stderr}; kills it after `timeoutMs`. */
export function run(cmd, args, { cwd, env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temp dir, removed in `t.teardown`. */
export function tempDir(t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ringloop-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` ({relative path: text}) under `dir`. */
export function writeFiles(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}
