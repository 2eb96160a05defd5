// The browser bundle: dist/lossc.min.js, one minified ES module of the browser entry
// (src/index.ts) with chevrotain inside and @tensorflow/tfjs left as an import, for a
// `<script type="module">` with an import map, or a CDN. Built by `npm run build`; the same
// options are checked by test/bundle.test.ts.
// Also the Node entry as two modules, dist/node/index.node.js and dist/node/grammar.js (the parser,
// with chevrotain inside, which the first parse requires: src/node/grammar.ts), and the code they
// share in a chunk beside them: Node's loader took some 40 ms for the 140 modules tsc writes, and
// 250-300 ms for chevrotain's 600. And dist/grammar/chevrotain.js: tsc's re-export of chevrotain
// replaced by one module with chevrotain and lodash-es inside (grammar/chevrotain.ts), for the
// modules tsc writes.
//
//   node scripts/bundle.mjs   write dist/lossc.min.js (+ .map), dist/node/ and dist/grammar/chevrotain.js

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild's options for the bundle (platform browser, nothing shimmed). */
export function bundleOptions(write = true) {
  return {
    absWorkingDir: root,
    entryPoints: ['src/index.ts'],
    outfile: 'dist/lossc.min.js',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: write,
    legalComments: 'none',
    external: ['@tensorflow/tfjs'],
    metafile: true,
    write,
    logLevel: 'silent',
  };
}

export function bundle(write = true) {
  return build(bundleOptions(write));
}

/** esbuild's options for the Node entry's bundle, dist/node/ (package.json's `exports`, `node`). */
export function nodeOptions(write = true) {
  return {
    absWorkingDir: root,
    entryPoints: { 'index.node': 'src/index.node.ts', grammar: 'grammar/index.ts' },
    outdir: 'dist/node',
    chunkNames: 'shared-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['@tensorflow/*', 'd3-scale', 'd3-shape'],
    // src/node/grammar.ts: where the parser lies from the bundle (dist/node/grammar.js).
    define: { LOSSC_GRAMMAR: '"./grammar.js"' },
    metafile: true,
    write,
    logLevel: 'silent',
  };
}

/** esbuild's options for dist/grammar/chevrotain.js (no platform's APIs: it runs in both). */
export function chevrotainOptions(write = true) {
  return {
    absWorkingDir: root,
    entryPoints: ['grammar/chevrotain.ts'],
    outfile: 'dist/grammar/chevrotain.js',
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    format: 'esm',
    target: 'es2020',
    minify: true,
    legalComments: 'eof',
    write,
    logLevel: 'silent',
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await bundle(true);
  const out = r.metafile.outputs['dist/lossc.min.js'];
  console.log(`dist/lossc.min.js: ${(out.bytes / 1024).toFixed(0)} KiB`);
  rmSync(join(root, 'dist/node'), { recursive: true, force: true }); // no stale chunk stays
  await build(nodeOptions(true));
  await build(chevrotainOptions(true));
}
