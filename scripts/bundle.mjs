// The browser bundle: dist/lossc.min.js, one minified ES module of the browser entry
// (src/index.ts) with chevrotain inside and @tensorflow/tfjs left as an import, for a
// `<script type="module">` with an import map, or a CDN. Built by `npm run build`; the same
// options are checked by test/bundle.test.ts.
//
//   node scripts/bundle.mjs   write dist/lossc.min.js (+ .map)

import { build } from 'esbuild';
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await bundle(true);
  const out = r.metafile.outputs['dist/lossc.min.js'];
  console.log(`dist/lossc.min.js: ${(out.bytes / 1024).toFixed(0)} KiB`);
}
