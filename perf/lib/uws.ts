// uWebSockets.js, an optional peer of the http suite: installed on demand into perf/.peers
// (gitignored), never one of the project's dependencies, at one pinned version so every run
// measures the same build.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The npm package: uWebSockets.js with its prebuilt binaries inside the package. */
export const UWS_PACKAGE = '@trufflesuite/uws-js-unofficial';
/** Pinned: has binaries for Node 20 (ABI 115) on linux x64 and arm64. */
export const UWS_VERSION = '20.30.0-unofficial.0';
/** Where optional peers are installed, outside the project's node_modules. */
export const PEERS_DIR = join(repoRoot, 'perf', '.peers');

const packageDir = join(PEERS_DIR, 'node_modules', ...UWS_PACKAGE.split('/'));

/**
 * The prebuilt binary for this platform, CPU and Node ABI. Loaded directly, not through the
 * package's entry point: that one falls back to a pure-Node implementation when the binary does
 * not load, which would put a different server under uWebSockets.js's name.
 */
export function uwsBinary(): string {
  return join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

function installedVersion(): string | null {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

/**
 * Installs the pinned version when it is not there yet; null when the binary for this Node is
 * ready, else why it is not (the suite then skips the contender and says so).
 */
export function ensureUws(log: (msg: string) => void): string | null {
  const spec = `${UWS_PACKAGE}@${UWS_VERSION}`;
  if (installedVersion() !== UWS_VERSION) {
    log(`installing ${spec} into perf/.peers (outside the project's dependencies)`);
    // --ignore-scripts: the only install scripts are of ws's optional native helpers, unused here.
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', PEERS_DIR, spec], {
      cwd: repoRoot, encoding: 'utf8', timeout: 300_000,
    });
    if (r.status !== 0) {
      const why = r.error ? r.error.message : (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
      return `npm install ${spec} failed: ${why}`;
    }
  }
  if (!existsSync(uwsBinary())) {
    return `${spec} has no prebuilt binary for ${process.platform}-${process.arch} with Node ${process.version} (ABI ${process.versions.modules})`;
  }
  return null;
}
