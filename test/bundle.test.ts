// The library bundles for a browser with no shims (issue 14): esbuild, platform browser, the
// options `npm run build` uses for dist/lossc.min.js. Nothing Node-only is reached. (The embedded
// stdlib: test/stdlib-parsed.test.ts.)

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs build script, no types
import { bundle } from '../scripts/bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Built {
  outputFiles: Array<{ path: string; text: string }>;
  metafile: { inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>; outputs: Record<string, { bytes: number }> };
}

describe('bundling the browser entry (esbuild, platform browser, no shims)', async () => {
  const built = (await bundle(false)) as Built;
  const text = built.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const inputs = Object.keys(built.metafile.inputs);

  it('succeeds, with @tensorflow/tfjs its only import', () => {
    const imports = new Set(Object.values(built.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external && /^[@a-z]/.test(x.path)).map((x) => x.path)));
    expect([...imports]).toEqual(['@tensorflow/tfjs']);
    expect(text).toMatch(/from"@tensorflow\/tfjs"/);
  });

  it('reaches no Node-only module (files, backends, the command line)', () => {
    for (const i of inputs) expect(i).not.toMatch(/^src\/(node|cli)\/|^src\/backend\.ts|tfjs-backend-wasm|^node:/);
    expect(inputs).toContain('src/lower/stdlib-sources.ts');
  });

  it('lossc\'s own code uses no Buffer, process or file system', () => {
    const own = inputs.filter((i) => /^(src|grammar)\//.test(i));
    for (const i of own) {
      const src = readFileSync(join(ROOT, i), 'utf8').replace(/^\s*\/\/.*$/gm, '');
      expect(src, i).not.toMatch(/\bBuffer\.|\bprocess\.|['"]node:|import\.meta|readFileSync/);
    }
  });

  it('is a reasonable size (minified)', () => {
    const bytes = text.length;
    expect(bytes).toBeGreaterThan(100_000);
    expect(bytes).toBeLessThan(600_000);
  });
});
