/**
 * The CommonJS entry: `require('ringloop')` (and TypeScript compiled to CommonJS).
 *
 * There is one implementation, the ES module next to this file: this entry requires it, so a
 * program that mixes `require` and `import` (or whose handler module is the other format) shares
 * one copy of ringloop's state, and the reactor and pool workers load the same files either way.
 * `require()` of an ES module is built into Node >= 20.19 and >= 22.12; on older Node this entry
 * says so instead of failing with ERR_REQUIRE_ESM alone.
 */
import type * as Ringloop from './index.js';

function load(): typeof Ringloop {
  try {
    return require('./index.js') as typeof Ringloop;
  } catch (e) {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (code === 'ERR_REQUIRE_ESM') {
      throw new Error(
        `require('ringloop') needs Node >= 20.19 or >= 22.12 (require() of ES modules); this is Node ${process.versions.node}: ` +
          `upgrade Node, or load it with import('ringloop')`,
        { cause: e },
      );
    }
    throw e;
  }
}

export = load();
