// The playground page: site/ bundled into a static folder (default site/dist): main.js (lossc,
// tfjs, KaTeX, one ES module), index.html, style.css and KaTeX's stylesheet and fonts. Nothing
// in it needs a server beyond static files (`npx lossc playground` serves it on 127.0.0.1).
//
//   node scripts/site.mjs [OUT]     (npm run site)

import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildSite(out = join(root, 'site', 'dist')) {
  mkdirSync(out, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: ['site/main.ts'],
    outfile: join(out, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'site', f), join(out, f));
  const katex = join(root, 'node_modules', 'katex', 'dist');
  mkdirSync(join(out, 'katex'), { recursive: true });
  copyFileSync(join(katex, 'katex.min.css'), join(out, 'katex', 'katex.min.css'));
  cpSync(join(katex, 'fonts'), join(out, 'katex', 'fonts'), { recursive: true });
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildSite(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`site built in ${out}`);
}
