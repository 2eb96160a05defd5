// The package as users get it (issue 14): `npm pack`'s tarball, installed next to an app's own
// @tensorflow/tfjs, gives one tfjs and no warnings; the Vite and esbuild apps of examples/web
// import `lossc` with no shims or config and build.
//
// Layout (under .tmp/pack/, git-ignored): the tarball and @tensorflow/tfjs (the apps'
// dependencies, tfjs pinned to the repo's version) are installed by npm from its cache into
// .tmp/pack/node_modules; copies of the two apps sit beside it and resolve their dependencies
// there. Their build tools (vite, esbuild) are the repo's devDependencies, found further up, so
// nothing is fetched that `npm ci` did not already put in the cache. tfjs is installed once and
// kept between runs; only the tarball is reinstalled.

import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDist, ROOT, sh } from './helpers/dist.js';

const WORK = join(ROOT, '.tmp', 'pack');
const APPS = ['vite-app', 'esbuild-app'] as const;
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];
type Manifest = Record<string, Record<string, string>>;
const TFJS = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')) as { version: string }).version;

let tarball = '';

beforeAll(async () => {
  await freshDist();
  mkdirSync(WORK, { recursive: true });
  for (const f of readdirSync(WORK)) if (f.endsWith('.tgz')) rmSync(join(WORK, f));
  const { stdout } = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', WORK, '--loglevel=error'], ROOT);
  tarball = stdout.trim().split('\n').pop()!;
  // The apps' dependencies, once: theirs, with lossc from the tarball and tfjs the repo's version.
  const deps: Record<string, string> = {};
  for (const app of APPS) {
    const p = JSON.parse(readFileSync(join(ROOT, 'examples/web', app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    Object.assign(deps, p.dependencies);
  }
  expect(Object.keys(deps).sort()).toEqual(['@tensorflow/tfjs', 'lossc']);
  const manifest = { name: 'lossc-pack-test', private: true, type: 'module', dependencies: { ...deps, '@tensorflow/tfjs': TFJS, lossc: `file:./${tarball}` } };
  writeFileSync(join(WORK, 'package.json'), JSON.stringify(manifest, null, 2));
  rmSync(join(WORK, 'node_modules', 'lossc'), { recursive: true, force: true });
  // A lock file from an earlier run pins the earlier tarball's integrity: npm would install that one.
  rmSync(join(WORK, 'package-lock.json'), { force: true });
  rmSync(join(WORK, 'node_modules', '.package-lock.json'), { force: true });
  await sh('npm', ['install', ...NPM_FLAGS], WORK);
  for (const app of APPS) {
    rmSync(join(WORK, app), { recursive: true, force: true });
    cpSync(join(ROOT, 'examples/web', app), join(WORK, app), { recursive: true, filter: (s) => !/node_modules|dist$/.test(s) });
  }
}, 240_000);

describe('the packed package', () => {
  it('declares tfjs a peer (wasm an optional one), ESM with types through exports, and its side effects', () => {
    const packed = JSON.parse(readFileSync(join(WORK, 'node_modules/lossc/package.json'), 'utf8')) as Manifest & { exports: Record<string, Record<string, Record<string, string>>> };
    expect(packed.type).toBe('module');
    expect(packed.peerDependencies).toEqual({ '@tensorflow/tfjs': '^4.22.0', '@tensorflow/tfjs-backend-wasm': '^4.22.0' });
    expect(packed.peerDependenciesMeta).toEqual({ '@tensorflow/tfjs-backend-wasm': { optional: true } });
    expect(Object.keys(packed.dependencies ?? {})).toEqual(['chevrotain', 'd3-scale', 'd3-shape']);
    const dot = packed.exports['.']!;
    expect(Object.keys(dot)).toEqual(['node', 'browser', 'default']);
    for (const cond of Object.values(dot)) {
      for (const f of [cond.types!, cond.default!]) expect(existsSync(join(WORK, 'node_modules/lossc', f)), f).toBe(true);
    }
    expect(existsSync(join(WORK, 'node_modules/lossc/dist/lossc.min.js'))).toBe(true);
    // The entries, and what lossc installs into tfjs at import (serialisable classes, compile/fit integration).
    expect(packed.sideEffects).toEqual(['./dist/node/*.js', './dist/src/index.node.js', './dist/src/node/*.js', './dist/src/cli/*.js', './dist/src/index.js', './dist/src/api/fit.js', './dist/src/api/regularizers.js', './dist/src/api/layers.js',
      // the same modules as sources, for what bundles them (the tests, the examples, the playground)
      './src/index.ts', './src/index.node.ts', './src/node/*.ts', './src/api/fit.ts', './src/api/regularizers.ts', './src/api/layers.ts']);
    expect(existsSync(join(WORK, 'node_modules/lossc/dist/test'))).toBe(false);
  });

  it('installed next to the app\'s own tfjs: one tfjs, and lossc uses it without a warning', async () => {
    const { stdout } = await sh('npm', ['ls', '--all', '--parseable', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs'], WORK);
    const paths = stdout.trim().split('\n').filter(Boolean).map((p) => p.slice(WORK.length));
    expect(paths.sort()).toEqual(['/node_modules/@tensorflow/tfjs', '/node_modules/@tensorflow/tfjs-core', '/node_modules/@tensorflow/tfjs-layers']);
    const script = `
      const warnings = [];
      for (const k of ['warn', 'error', 'log']) { const f = console[k]; console[k] = (...a) => { warnings.push(a.join(' ')); }; }
      const tf = await import('@tensorflow/tfjs');
      const { losses, regularizers } = await import('lossc');
      tf.backend().firstUse = false; // tfjs's own advice to Node users to install tfjs-node
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, kernelRegularizer: regularizers.l2({ l2: 0.01 }) })] });
      model.compile({ optimizer: 'sgd', loss: losses.mean_squared_error() });
      const h = await model.fit(tf.ones([4, 3]), tf.zeros([4, 2]), { epochs: 2, verbose: 0 });
      const reg = JSON.parse(JSON.stringify(model.toJSON(null, false))).config.layers[0].config.kernel_regularizer;
      process.stdout.write(JSON.stringify({ warnings, reg, loss: h.history.loss, same: losses.mse()(tf.ones([2]), tf.zeros([2])) instanceof tf.Tensor }));`;
    const out = await sh(process.execPath, ['--input-type=module', '-e', script], WORK);
    const r = JSON.parse(out.stdout) as { warnings: string[]; reg: unknown; loss: number[]; same: boolean };
    expect(r.warnings).toEqual([]);
    expect(out.stderr).toBe('');
    expect(r.same).toBe(true);
    expect(r.reg).toEqual({ class_name: 'LosscRegularizer', config: { name: 'l2', options: { l2: 0.01 } } });
    expect(r.loss).toHaveLength(2);
  }, 60_000);
});

describe.each(APPS)('examples/web/%s builds with lossc from the tarball, no shims', (app) => {
  it('npm run build', async () => {
    const dir = join(WORK, app);
    const { stdout, stderr } = await sh('npm', ['run', 'build', '--silent'], dir);
    const log = stdout + stderr;
    expect(log).not.toMatch(/externalized for browser compatibility|Could not resolve|node:fs|\berror\b/i);
    const outDir = app === 'vite-app' ? join(dir, 'dist/assets') : join(dir, 'dist');
    const js = readdirSync(outDir).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    const text = js.map((f) => readFileSync(join(outDir, f), 'utf8')).join('\n');
    expect(text).toContain('binary_crossentropy'); // the embedded stdlib
    expect(text).not.toMatch(/from\s*["']node:|require\(["']node:/);
  }, 120_000);
});
