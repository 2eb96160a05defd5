// lossc in a web page (issue 14): headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; never a downloaded browser) loads a page bundled from the browser entry with
// esbuild (platform browser, no shims) and served on 127.0.0.1, and runs on webgl (SwiftShader),
// wasm and cpu: every stdlib loss's value and gradient, a user's compiled loss, Keras's clipping
// at the ends, a model.fit curve, and the tensor count; all against what Node computes with the
// same code (test/browser/work.ts). Then the same page under a strict content-security policy,
// where the fused path (generated code) must step aside and the numbers must not change. And the
// minified bundle, dist/lossc.min.js, loaded by `<script type="module">` with an import map.
//
// Without a Chromium (LOSSC_CHROMIUM, else /usr/bin/chromium) the browser part is skipped with a
// message; .ci/run installs Debian's chromium.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs build script, no types
import { bundle } from '../scripts/bundle.mjs';
import { seeded, LOSS_INPUTS, logitOptions } from './helpers/loss-inputs.js';
import type { Answer, BackendAnswer, FitSpec, LossCase, Request, ValueGrad } from './browser/protocol.js';
import { specials } from './browser/webgl-fused.js';
import { work } from './browser/work.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.LOSSC_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
const BACKENDS = ['cpu', 'wasm', 'webgl'];
/** Deviation bounds, relative to max(1, |reference|): values, gradients; and the fit curve (absolute). */
const TOL = { value: 1e-5, grad: 1e-4, fit: 1e-3 };
/** The WebGL target against op by op on webgl: value relative, gradient relative to its largest entry. */
const TOL_FUSED = { value: 1e-5, grad: 1e-4 };

if (!HAVE_CHROMIUM) console.warn(`test/browser.test.ts: no Chromium at ${CHROMIUM}: the browser tests are SKIPPED (apt-get install chromium, or set LOSSC_CHROMIUM)`);

function request(): Request {
  const cases: LossCase[] = [];
  for (const name of Object.keys(LOSS_INPUTS)) {
    const entry = LOSS_INPUTS[name]!;
    for (const [options, gen] of [[entry.options[0]!, entry.gen], ...logitOptions(name).slice(0, 1).map((o) => [o, entry.gen2!] as const)] as const) {
      const { yTrue, yPred } = gen(seeded(name.length * 17 + JSON.stringify(options).length));
      cases.push({ name, options, yTrue, yPred });
    }
  }
  const r = seeded(7);
  const u = (n: number, s = 1) => Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const x = Array.from({ length: 8 }, () => u(4));
  const y = x.map((row) => {
    const k = row[0]! + row[1]! > 0 ? 0 : row[2]! > 0 ? 1 : 2;
    return [0, 1, 2].map((j) => (j === k ? 1 : 0));
  });
  const fit: FitSpec = {
    x,
    y,
    weights: [
      { values: u(4 * 6, 0.7), shape: [4, 6] },
      { values: u(6, 0.1), shape: [6] },
      { values: u(6 * 3, 0.7), shape: [6, 3] },
      { values: u(3, 0.1), shape: [3] },
    ],
    epochs: 8,
    learningRate: 0.5,
  };
  const user = {
    source: [
      '# A robust loss of my own: a Cauchy term on the error, plus a small hinge on y_pred.',
      'loss mine(y_true, y_pred; c = 0.8) =',
      '  let e = (y_true - y_pred) / c',
      '  mean(log1p(e^2) + 0.1 * relu(y_pred - 1), axis = -1)',
    ].join('\n'),
    loss: 'mine',
    options: { c: 0.5 },
    yTrue: [u(5), u(5), u(5)],
    yPred: [u(5, 2), u(5, 2), u(5, 2)],
  };
  return { backends: BACKENDS, cases, user, fit };
}

/** |a - b| / max(1, |b|), the largest over entries. */
function deviation(got: number[], want: number[]): number {
  if (got.length !== want.length) return Infinity;
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return Number.isNaN(d) ? Infinity : d;
}

const curveDeviation = (a: number[], b: number[]) => (a.length === b.length ? Math.max(...a.map((l, i) => Math.abs(l - b[i]!))) : Infinity);

const vgDeviation = (got: ValueGrad, want: ValueGrad) => ({ value: deviation([got.value], [want.value]), grad: deviation(got.grad, want.grad) });

function serve(files: Record<string, { type: string; body: string | Buffer }>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const csp = path.startsWith('/csp/');
    const f = files[csp ? path.slice(4) : path];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store', ...(csp ? { 'content-security-policy': CSP } : {}) });
    res.end(f.body);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describe.skipIf(!HAVE_CHROMIUM)('lossc in headless Chromium: webgl, wasm and cpu', () => {
  // Long: one suite, since its tests all read the one browser run made in beforeAll.
  const req = request();
  let reference: BackendAnswer;
  let specialsReference: Record<string, string[]>;
  let server: Server;
  let close: () => Promise<void> = async () => {};
  let plain: Answer;
  let strict: Answer;
  let minResult: { huber: number; compiled: number; backend: string };
  const consoleLines: string[] = [];
  const t0 = Date.now();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
    reference = await work(req);
    specialsReference = specials();
    const page = await build({
      entryPoints: [join(ROOT, 'test/browser/page.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2020',
      write: false,
      logLevel: 'silent',
    });
    const min = (await bundle(false)) as { outputFiles: Array<{ path: string; text: string }> };
    const wasmDir = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
    const html = (src: string, head = '') => `<!doctype html><meta charset="utf-8"><title>lossc browser test</title>${head}<script type="module" src="${src}"></script>`;
    const files: Record<string, { type: string; body: string | Buffer }> = {
      '/': { type: 'text/html', body: html('page.js') },
      '/page.js': { type: 'text/javascript', body: page.outputFiles[0]!.text },
      '/request.json': { type: 'application/json', body: JSON.stringify(req) },
      '/favicon.ico': { type: 'image/x-icon', body: '' },
      '/min/': { type: 'text/html', body: html('min-page.js', '<script type="importmap">{"imports":{"@tensorflow/tfjs":"/tfjs.fesm.js"}}</script>') },
      '/min/min-page.js': {
        type: 'text/javascript',
        body: [
          "import * as tf from '@tensorflow/tfjs';",
          "import { losses, compile } from '/lossc.min.js';",
          "await tf.setBackend('cpu');",
          'const yt = tf.tensor2d([[0, 1.5], [2, -1]]), yp = tf.tensor2d([[0.5, 0.5], [-1, 1]]);',
          'const huber = losses.huber()(yt, yp).dataSync()[0];',
          "const { sq } = compile`loss sq(y_true, y_pred) = mean((y_true - y_pred)^2, axis = -1)`;",
          'const compiled = sq()(yt, yp).dataSync()[0];',
          'window.minResult = { huber, compiled, backend: tf.getBackend() };',
        ].join('\n'),
      },
      '/lossc.min.js': { type: 'text/javascript', body: min.outputFiles.find((f) => f.path.endsWith('.js'))!.text },
      '/tfjs.fesm.js': { type: 'text/javascript', body: readFileSync(join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.fesm.js')) },
    };
    for (const w of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      files[`/wasm/${w}`] = { type: 'application/wasm', body: readFileSync(join(wasmDir, w)) };
    }
    server = await serve(files);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    const args = ['--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist'];
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args });
    close = async () => {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    };
    const open = async (url: string) => {
      const p = await browser.newPage();
      p.on('console', (m) => consoleLines.push(`${url} ${m.type()}: ${m.text()}`));
      p.on('pageerror', (e) => consoleLines.push(`${url} pageerror: ${e.message}`));
      await p.goto(url);
      return p;
    };
    const run = async (url: string) => {
      const p = await open(url);
      await p.waitForFunction(() => 'losscAnswer' in window, null, { timeout: 120_000, polling: 200 });
      const answer = (await p.evaluate(() => (window as unknown as { losscAnswer: unknown }).losscAnswer)) as Answer | { error: string };
      await p.close();
      if ('error' in answer) throw new Error(`the page failed: ${answer.error}`);
      return answer;
    };
    [plain, strict] = await Promise.all([run(`${base}/`), run(`${base}/csp/`)]);
    const m = await open(`${base}/min/`);
    await m.waitForFunction(() => 'minResult' in window, null, { timeout: 30_000 });
    minResult = (await m.evaluate(() => (window as unknown as { minResult: typeof minResult }).minResult)) as typeof minResult;
  }, 150_000);

  afterAll(async () => {
    await close();
  });

  it('ran every backend on both pages, with no error or warning on the console', () => {
    expect(plain.backends.map((b) => b.backend)).toEqual(BACKENDS);
    expect(strict.backends.map((b) => b.backend)).toEqual(BACKENDS);
    expect(consoleLines.filter((l) => /error|warn|already registered/i.test(l))).toEqual([]);
  });

  for (const [page, get] of [['no CSP', () => plain], ['strict CSP', () => strict]] as const) {
    for (const backend of BACKENDS) {
      describe(`${backend}, ${page}`, () => {
        const answer = () => get().backends.find((b) => b.backend === backend)!;

        it('every stdlib loss: value and gradient as Node computes them', () => {
          const bad: string[] = [];
          answer().cases.forEach((got, i) => {
            const d = vgDeviation(got, reference.cases[i]!);
            const c = req.cases[i]!;
            if (!(d.value <= TOL.value && d.grad <= TOL.grad)) bad.push(`${c.name} ${JSON.stringify(c.options)}: value ${d.value.toExponential(2)}, grad ${d.grad.toExponential(2)}`);
          });
          expect(bad).toEqual([]);
          expect(answer().cases).toHaveLength(req.cases.length);
        });

        it("a user's compiled loss", () => {
          const d = vgDeviation(answer().user, reference.user);
          expect(d.value).toBeLessThanOrEqual(TOL.value);
          expect(d.grad).toBeLessThanOrEqual(TOL.grad);
        });

        it("clipping stays at Keras's epsilon 1e-7, whatever tfjs's backend epsilon is", () => {
          const { bce, clipped } = answer().clipping;
          expect(deviation(bce, reference.clipping.bce)).toBeLessThanOrEqual(TOL.value);
          // Keras: -log(1e-7) for y = 1, p = 0; -log(1 - float32(1 - 1e-7)) for y = 0, p = 1.
          expect(bce[0]).toBeCloseTo(16.118095, 5);
          expect(bce[1]).toBeCloseTo(15.942385, 5);
          expect(Math.abs(clipped[0]! - 1e-7)).toBeLessThan(1e-12);
          expect(clipped[1]).toBe(Math.fround(1 - 1e-7));
        });

        it('model.fit (softmax layer, lossc categorical_crossentropy): the same curve as Node', () => {
          const fit = answer().fit['lossc-softmax'];
          expect(fit).toHaveLength(req.fit.epochs);
          expect(curveDeviation(fit, reference.fit['lossc-softmax'])).toBeLessThanOrEqual(TOL.fit);
          expect(fit[fit.length - 1]!).toBeLessThan(fit[0]!);
        });

        it("model.fit, like with like: lossc's curves are tfjs's own loss's on this backend (softmax layer; from logits, but on webgl), and Node's from logits", () => {
          const { fit } = answer();
          expect(curveDeviation(fit['lossc-softmax'], fit['tfjs-softmax'])).toBeLessThanOrEqual(TOL.fit);
          // From logits, tfjs's webgl kernels op by op drift from cpu after two steps on SwiftShader
          // (tfjs's own loss, and lossc's with its WebGL target off); the WebGL target does not (README).
          if (backend !== 'webgl') expect(curveDeviation(fit['lossc-logits'], fit['tfjs-logits'])).toBeLessThanOrEqual(TOL.fit);
          expect(curveDeviation(fit['lossc-logits'], reference.fit['lossc-logits'])).toBeLessThanOrEqual(TOL.fit);
        });

        it('no tensor leaks', () => {
          expect(answer().leaked).toBe(0);
        });

        it(page === 'no CSP' ? 'the fused path may generate code' : 'the fused path steps aside (no new Function) and nothing else changes', () => {
          const a = answer();
          expect(a.fusedAvailable).toBe(page === 'no CSP');
          if (page !== 'no CSP') expect(a.fusedRefusal).toContain('not allowed');
        });
      });
    }
  }

  describe('webgl: the WebGL target (an elementwise chain one program) against op by op, at [256, 16]', () => {
    const cases = () => plain.backends.find((b) => b.backend === 'webgl')!.webglFused!.cases;
    /** max |got - want| over max |want|: gradients of a mean are small everywhere. */
    const scaled = (got: number[], want: number[]) => (got.length === want.length ? Math.max(...got.map((g, i) => Math.abs(g - want[i]!))) / Math.max(...want.map(Math.abs)) : Infinity);

    it('the same values and gradients with the target as op by op (MSE, BCE, CCE, focal, a formula, weighted calls)', () => {
      const bad = cases()
        .map((c) => ({ c, value: deviation([c.fused.value], [c.opByOp.value]), grad: scaled(c.fused.grad, c.opByOp.grad) }))
        .filter((d) => !(d.value <= TOL_FUSED.value && d.grad <= TOL_FUSED.grad))
        .map((d) => `${d.c.name}: value ${d.value.toExponential(2)}, grad ${d.grad.toExponential(2)}`);
      expect(bad).toEqual([]);
      expect(cases().length).toBeGreaterThanOrEqual(10);
    });

    it('special values as on cpu: overflow, log of 0 and of negatives, NaN through max and min, infinities', () => {
      const got = plain.backends.find((b) => b.backend === 'webgl')!.webglFused!.specials;
      const bad: string[] = [];
      for (const [k, want] of Object.entries(specialsReference)) {
        want.forEach((w, i) => {
          const [g, v] = [Number(got[k]![i]), Number(w)];
          const same = Number.isFinite(v) ? Math.abs(g - v) <= 1e-5 * Math.abs(v) + 1e-37 : Object.is(g, v);
          if (!same) bad.push(`${k} #${i}: ${got[k]![i]} (cpu ${w})`);
        });
      }
      expect(bad).toEqual([]);
      expect(Object.keys(got).length).toBeGreaterThanOrEqual(15);
    });

    it('fewer kernels with the target, lossc programs among them', () => {
      for (const c of cases()) {
        expect(c.counts.fused.fused, c.name).toBeGreaterThan(0);
        expect(c.counts.fused.kernels, c.name).toBeLessThan(c.counts.opByOp.kernels);
        expect(c.counts.opByOp.fused, c.name).toBe(0);
      }
    });

    it('summary (printed): kernels, GPU programs and ms per value+gradient call, against the tfjs built-in', () => {
      const n = (x: { kernels: number; programs: number } | undefined) => (x ? `${x.kernels}/${x.programs}` : '-');
      const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
      const rows = cases().map(
        (c) =>
          `${c.name.padEnd(13)} ${n(c.counts.fused).padStart(7)} ${n(c.counts.opByOp).padStart(7)} ${n(c.counts.builtin).padStart(7)}   ` +
          `${ms(c.millis.fused).padStart(6)} ${ms(c.millis.opByOp).padStart(6)} ${ms(c.millis.builtin).padStart(6)}`,
      );
      console.info(`webgl (SwiftShader), value + gradient, [256, 16]: kernels/GPU programs, then ms per call\n  ${'loss'.padEnd(13)} ${'target'.padStart(7)} ${'op-by-op'.padStart(7)} ${'tfjs'.padStart(7)}   ${'target'.padStart(6)} ${'op-by-op'.padStart(6)} ${'tfjs'.padStart(6)}\n  ${rows.join('\n  ')}`);
      expect(rows.length).toBe(cases().length);
    });
  });

  it('imports in a browser: through a resolver, else a located LosscError; files are for Node', () => {
    for (const a of [plain, strict]) {
      expect(a.imports.resolved).toBe(10);
      expect(a.imports.unresolved).toMatchObject({ kind: 'import', line: 1 });
      expect(a.imports.unresolved.message).toContain('may import only the stdlib');
      expect(a.imports.files.kind).toBe('usage');
      expect(a.imports.files.message).toContain("only lossc's Node entry reads");
      expect(a.imports.root.kind).toBe('usage');
    }
  });

  it('dist/lossc.min.js in a <script type="module"> with an import map for tfjs', async () => {
    const yt = tf.tensor2d([[0, 1.5], [2, -1]]);
    const yp = tf.tensor2d([[0.5, 0.5], [-1, 1]]);
    const { losses } = await import('../src/index.js');
    const want = losses.huber!()(yt, yp).dataSync()[0]!;
    tf.dispose([yt, yp]);
    expect(minResult.backend).toBe('cpu');
    expect(minResult.huber).toBeCloseTo(want, 6);
    expect(minResult.compiled).toBeCloseTo((0.25 + 1 + 9 + 4) / 4, 6);
  });

  it('summary (printed): time, epsilon, deviations per backend', () => {
    const rows = [...plain.backends.map((b) => ['no CSP', b] as const), ...strict.backends.map((b) => ['CSP', b] as const)].map(([p, b]) => {
      const dv = Math.max(...b.cases.map((c, i) => vgDeviation(c, reference.cases[i]!).value));
      const dg = Math.max(...b.cases.map((c, i) => vgDeviation(c, reference.cases[i]!).grad));
      const dev = (x: number[], y: number[]) => curveDeviation(x, y).toExponential(1);
      const f = b.fit;
      const r = reference.fit;
      return (
        `${b.backend.padEnd(6)} ${p.padEnd(7)} eps ${b.epsilon} fp${b.floatPrecision} values ${dv.toExponential(1)} grads ${dg.toExponential(1)} ` +
        `fit vs Node: softmax layer lossc ${dev(f['lossc-softmax'], r['lossc-softmax'])} tfjs ${dev(f['tfjs-softmax'], r['tfjs-softmax'])}, ` +
        `logits lossc ${dev(f['lossc-logits'], r['lossc-logits'])} tfjs ${dev(f['tfjs-logits'], r['tfjs-logits'])}; ` +
        `lossc vs tfjs here ${dev(f['lossc-softmax'], f['tfjs-softmax'])} / ${dev(f['lossc-logits'], f['tfjs-logits'])}; ${b.millis.toFixed(0)} ms`
      );
    });
    console.info(`browser tests: ${((Date.now() - t0) / 1000).toFixed(1)} s\n  ${rows.join('\n  ')}`);
    expect(rows).toHaveLength(6);
  });
});
