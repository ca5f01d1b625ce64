// The package as users get it: `npm pack`, then `npm install <tarball>` into fresh CommonJS and
// ES module projects (no compiler on PATH, so the prebuild is what loads), each serving real
// connections with handler and pool modules of both formats, in plain JS and in TypeScript
// (strict, module nodenext) compiled by the repository's tsc.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, bareBin, npmCli, pack, packList, run, tempDir, userEnv, writeFiles } from './helpers/pack.mjs';

const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const prebuild = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = fs.existsSync(prebuild) && fs.readdirSync(prebuild).some((f) => f.endsWith('.node'));

// What every test program does: serve each handler module given, with the pool module, and ask
// each one two things over a real connection: an answer from the handler and one from a pool job.
const COMMON = `
function ask(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer to ' + text + ', got ' + JSON.stringify(got))); }, 10000);
    s.on('data', (d) => {
      got += d;
      if (got.endsWith('\\n')) { clearTimeout(timer); s.end(); resolve(got); }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.write(text + '\\n');
  });
}
async function main() {
  const [pool, ...handlers] = process.argv.slice(2);
  for (const h of handlers) {
    const engine = await serve(path.resolve(h), 'tcp://127.0.0.1:0', {
      numEventLoop: 2,
      pool: { filename: path.resolve(pool), minThreads: 1, maxThreads: 1 },
    });
    try {
      const port = Number(new URL(engine.addrs[0]).port);
      console.log(JSON.stringify({ handler: h, hi: await ask(port, 'hi'), up: await ask(port, 'up abc') }));
    } finally {
      await engine.stop();
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

const REACT = (tag) => `
  react(c) {
    const b = c.next();
    if (!b || b.length === 0) return;
    const text = Buffer.from(b).toString().trim();
    if (text.startsWith('up ')) { c.offload(text.slice(3), { name: 'upper' }); return; }
    return '${tag}:' + text + '\\n';
  },`;

const UPPER = `(payload, job) { job.asyncWrite(String(payload).toUpperCase() + '\\n'); }`;

const TS_MAIN = `import { serve, type Engine } from 'ringloop';
import * as net from 'node:net';
import * as path from 'node:path';
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer to ' + text)); }, 10000);
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith('\\n')) { clearTimeout(timer); s.end(); resolve(got); }
    });
    s.on('error', (e: Error) => { clearTimeout(timer); reject(e); });
    s.write(text + '\\n');
  });
}
async function main(): Promise<void> {
  const [pool, ...handlers] = process.argv.slice(2);
  for (const h of handlers) {
    const engine: Engine = await serve(path.resolve(h), 'tcp://127.0.0.1:0', {
      numEventLoop: 2,
      pool: { filename: path.resolve(pool!), minThreads: 1, maxThreads: 1 },
    });
    engine.on('handlerError', (err: Error, event: string) => console.error(event, err));
    try {
      const port = Number(new URL(engine.addrs[0]!).port);
      console.log(JSON.stringify({ handler: h, hi: await ask(port, 'hi'), up: await ask(port, 'up abc') }));
    } finally {
      await engine.stop();
    }
  }
}
main().catch((e: unknown) => { console.error(e); process.exit(1); });
`;

const TS_HANDLER = (tag) => `import { defineHandler, type Conn } from 'ringloop';
export default defineHandler({
  react(c: Conn) {
    const b = c.next();
    if (!b || b.length === 0) return;
    const text = Buffer.from(b).toString().trim();
    if (text.startsWith('up ')) { c.offload(text.slice(3), { name: 'upper' }); return; }
    return '${tag}:' + text + '\\n';
  },
  onClosed(c: Conn, err?: Error & { code?: string }) {
    if (err && err.code !== 'ECONNRESET') console.error(err.code);
  },
});
`;

const TS_POOL = `import type { Job } from 'ringloop';
export function upper(payload: unknown, job: Job): void { job.asyncWrite(String(payload).toUpperCase() + '\\n'); }
`;

const tsconfig = (module) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module,
      moduleResolution: module,
      strict: true,
      outDir: 'out',
      rootDir: 'src',
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
    },
    include: ['src'],
  });

/** A fresh project of `type` with the tarball installed under a compiler-less PATH. */
async function project(t, type, tarball) {
  const dir = tempDir(t, `pkg-${type}`);
  const bin = bareBin(path.join(dir, '.bin-bare'));
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python']) {
    t.notOk(fs.existsSync(path.join(bin, tool)), `no ${tool} on the install's PATH`);
  }
  writeFiles(dir, { 'package.json': JSON.stringify({ name: `ringloop-user-${type}`, version: '1.0.0', private: true, type }) });
  const env = userEnv({ PATH: bin, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });
  const r = await run(process.execPath, [npmCli(), 'install', '--prefer-offline', tarball], { cwd: dir, env, timeoutMs: 180_000 });
  t.equal(r.code, 0, `npm install of the tarball succeeds without a compiler\n${r.stdout}\n${r.stderr}`);
  t.notOk(fs.existsSync(path.join(dir, 'node_modules/ringloop/build')), 'no source build was made: the prebuild serves');
  return dir;
}

function answers(t, stdout, expected) {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  t.same(
    lines.map((l) => [l.handler, l.hi, l.up]),
    expected.map(([h, tag]) => [h, `${tag}:hi\n`, 'ABC\n']),
    'every handler answers, and its pool job does',
  );
}

t.test('npm pack lists what users need and nothing else', async (t) => {
  const info = packList();
  const files = info.files.map((f) => f.path);
  const has = (p) => files.includes(p);
  for (const p of [
    'package.json',
    'README.md',
    'LICENSE',
    'binding.gyp',
    'dist/lib/index.js',
    'dist/lib/index.cjs',
    'dist/lib/index.d.ts',
    'dist/workers/reactor.js',
    'dist/workers/pool.js',
    'native/reactor.cc',
  ]) {
    t.ok(has(p), `ships ${p}`);
  }
  t.ok(hasPrebuild ? files.some((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`) && f.endsWith('.node')) : true, 'ships the prebuild of this platform');
  for (const bad of ['dist/perf/', 'dist/examples/', 'test/', 'perf/', 'examples/', 'build/', 'node_modules/', '.ci/']) {
    t.notOk(files.some((f) => f.startsWith(bad)), `ships nothing under ${bad}`);
  }
  // Source maps ship with their sources: every source a shipped map names is shipped too.
  const maps = files.filter((f) => f.endsWith('.map'));
  t.ok(maps.length > 0, 'ships source maps');
  const unshipped = [];
  for (const m of maps) {
    const map = JSON.parse(fs.readFileSync(path.join(ROOT, m), 'utf8'));
    for (const src of map.sources) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(m), map.sourceRoot ?? '', src));
      if (!has(target)) unshipped.push(`${m} -> ${target}`);
    }
  }
  t.same(unshipped, [], 'and the sources they point to');
  // Every relative import of the shipped JS resolves to a shipped file.
  const missing = [];
  for (const f of files.filter((p) => /\.(c?js|d\.c?ts)$/.test(p))) {
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, ''); // not the examples in TSDoc
    for (const m of text.matchAll(/(?:from\s+|import\(|require\()['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
      const candidates = [target, target.replace(/\.js$/, '.d.ts'), target.replace(/\.cjs$/, '.d.cts')];
      if (!candidates.some(has)) missing.push(`${f} -> ${m[1]}`);
    }
  }
  t.same(missing, [], 'no shipped file imports an unshipped one');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const installTime = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => pkg.scripts[s] !== undefined);
  t.same(installTime, ['install'], 'the only install-time script is the native build fallback');
  t.equal(pkg.scripts.install, 'node-gyp-build', 'which builds from source only when no prebuild matches');
  t.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /MIT License/, 'LICENSE is the MIT license package.json names');
  t.equal(pkg.license, 'MIT');
});

t.test('installed from the tarball into fresh projects', { skip: hasPrebuild ? false : 'no prebuild: run npm run build:native first', timeout: 600_000 }, async (t) => {
  const tarball = pack(tempDir(t, 'tarball'));

  t.test('CommonJS project: require() in JS, handler and pool modules of both formats, and TypeScript', async (t) => {
    const dir = await project(t, 'commonjs', tarball);
    writeFiles(dir, {
      'main.js': `'use strict';\nconst { serve } = require('ringloop');\nconst net = require('node:net');\nconst path = require('node:path');\n${COMMON}`,
      'handler.js': `const { defineHandler } = require('ringloop');\nmodule.exports = defineHandler({${REACT('cjs')}\n});\n`,
      'handler.mjs': `import { defineHandler } from 'ringloop';\nexport default defineHandler({${REACT('mjs')}\n});\n`,
      'pool.js': `exports.upper = function ${UPPER};\n`,
      'tsconfig.json': tsconfig('nodenext'),
      'src/main.ts': TS_MAIN,
      'src/handler.ts': TS_HANDLER('ts-cjs'),
      'src/pool.ts': TS_POOL,
    });
    const js = await run(process.execPath, ['main.js', 'pool.js', 'handler.js', 'handler.mjs'], { cwd: dir, timeoutMs: 60_000 });
    t.equal(js.code, 0, `the CommonJS program runs\n${js.stderr}`);
    answers(t, js.stdout, [['handler.js', 'cjs'], ['handler.mjs', 'mjs']]);
    const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, timeoutMs: 120_000 });
    t.equal(tsc.code, 0, `tsc (strict, nodenext, CommonJS) compiles it\n${tsc.stdout}`);
    t.match(fs.readFileSync(path.join(dir, 'out/main.js'), 'utf8'), /require\("ringloop"\)/, 'and it is CommonJS');
    const ts = await run(process.execPath, ['out/main.js', 'out/pool.js', 'out/handler.js', 'handler.js'], { cwd: dir, timeoutMs: 60_000 });
    t.equal(ts.code, 0, `the compiled program runs\n${ts.stderr}`);
    answers(t, ts.stdout, [['out/handler.js', 'ts-cjs'], ['handler.js', 'cjs']]);
  });

  t.test('ES module project: import in JS, handler and pool modules of both formats, and TypeScript', async (t) => {
    const dir = await project(t, 'module', tarball);
    writeFiles(dir, {
      'main.js': `import { serve } from 'ringloop';\nimport net from 'node:net';\nimport path from 'node:path';\n${COMMON}`,
      'handler.js': `import { defineHandler } from 'ringloop';\nexport default defineHandler({${REACT('esm')}\n});\n`,
      'handler.cjs': `const { defineHandler } = require('ringloop');\nmodule.exports = defineHandler({${REACT('cjs')}\n});\n`,
      'pool.cjs': `module.exports = { upper: function ${UPPER} };\n`,
      'pool.js': `export function upper${UPPER}\n`,
      'tsconfig.json': tsconfig('nodenext'),
      'src/main.ts': TS_MAIN,
      'src/handler.ts': TS_HANDLER('ts-esm'),
      'src/pool.ts': TS_POOL,
    });
    const js = await run(process.execPath, ['main.js', 'pool.cjs', 'handler.js', 'handler.cjs'], { cwd: dir, timeoutMs: 60_000 });
    t.equal(js.code, 0, `the ES module program runs\n${js.stderr}`);
    answers(t, js.stdout, [['handler.js', 'esm'], ['handler.cjs', 'cjs']]);
    const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, timeoutMs: 120_000 });
    t.equal(tsc.code, 0, `tsc (strict, nodenext, ES modules) compiles it\n${tsc.stdout}`);
    t.match(fs.readFileSync(path.join(dir, 'out/main.js'), 'utf8'), /from 'ringloop'/, 'and it is an ES module');
    const ts = await run(process.execPath, ['out/main.js', 'pool.js', 'out/handler.js', 'handler.cjs'], { cwd: dir, timeoutMs: 60_000 });
    t.equal(ts.code, 0, `the compiled program runs\n${ts.stderr}`);
    answers(t, ts.stdout, [['out/handler.js', 'ts-esm'], ['handler.cjs', 'cjs']]);

    // A platform without a matching prebuild (here: musl) gets a source build at install, or,
    // without one, an error that says what is missing.
    const musl = await run(process.execPath, ['-e', "import('ringloop').then(() => console.log('loaded'), (e) => { console.error(e.message); process.exit(3); })"], {
      cwd: dir,
      env: userEnv({ LIBC: 'musl' }),
      timeoutMs: 30_000,
    });
    t.equal(musl.code, 3, 'a glibc prebuild is not loaded for musl');
    t.match(musl.stderr, /no prebuild matches and no source build was made/, 'and the error says why');
  });
});
