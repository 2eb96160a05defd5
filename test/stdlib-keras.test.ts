// The Keras losses of stdlib/probabilistic.loss, hinge.loss, segmentation.loss and similarity.loss:
// names, aliases, options and defaults (keras_losses.md §2); every derivative, as the compiler
// builds it (stabilised value, symbolic gradient, simplified), against central finite
// differences in float64; the gradient tfjs trains with against that float64 gradient; option
// combinations against independent float64 implementations of the spec (§3); and the numerics
// §4 insists on (exact BCE from logits, saturating focal losses, the float32 clip bounds).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { answer, type EvalRequest } from '../src/cli/eval.js';
import { derivative } from '../src/pipeline/derivative.js';
import { grad } from '../src/autodiff/grad.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData, type NdArray } from '../src/eval/ndarray.js';
import { Library } from '../src/lower/library.js';
import { evalStatic, Lowerer } from '../src/lower/lower.js';
import { bindSignature } from '../src/lower/signature.js';
import type { Static } from '../src/lower/builtins.js';
import { rewrite } from '../src/rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../src/rewrite/rules.js';
import { expectAllClose, numericGrad, rng } from './helpers/numeric.js';
import { flatten, shapeOf } from './helpers/arrays.js';

type Nested = number | Nested[];

// ---- helpers ----------------------------------------------------------------------------------

const nd = (v: Nested): NdArray => fromData(shapeOf(v), flatten(v));

/** Run a request through `lossc eval`'s handler; fail on an error answer. */
function run(req: EvalRequest): { value: unknown; grad?: unknown } {
  const out = answer(req);
  if ('error' in out) throw new Error(`${out.error.kind}: ${out.error.message}`);
  return out;
}

/** Per-sample values of the bare function (no alignment, no reduction). */
const fn = (loss: string, y_true: Nested, y_pred: Nested, options: Record<string, unknown> = {}) =>
  run({ loss, options, call: 'function', y_true, y_pred }).value;

function close(got: unknown, want: unknown, rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(shapeOf(got), `${what}: shape`).toEqual(shapeOf(want));
  const g = flatten(got);
  const w = flatten(want);
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= atol + rtol * Math.abs(w[i]!))) {
      expect.fail(`${what}[${i}]: got ${g[i]}, want ${w[i]}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`);
    }
  }
}

const T = (m: number[][]): number[][] => m[0]!.map((_, j) => m.map((r) => r[j]!));
const rows = (n: number, m: number, f: (i: number, j: number) => number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => f(i, j)));

/** The compiler's value and gradient (compiled.ts: stabilise, differentiate, simplify), in float64. */
function compiled(name: string, options: Record<string, Static>, y_true: Nested, y_pred: Nested) {
  const lib = Library.stdlib();
  const def = lib.require(name, ['loss']).def;
  const signature = bindSignature(def, { y_true: { shape: shapeOf(y_true) }, y_pred: { shape: shapeOf(y_pred) } });
  const lowered = new Lowerer(lib, false).lowerTop(def, options, signature);
  const [value] = rewrite([lowered.value], STABILIZE_RULES);
  const yp = lowered.inputs[1]!;
  const [g] = rewrite(grad(value!, [yp]), ALL_RULES);
  const inputs = { y_true: nd(y_true), y_pred: nd(y_pred) };
  return { value: value!, g: g!, inputs };
}

// ---- names, aliases, options, defaults (keras_losses.md §2) -----------------------------------

const SIGNATURES: Record<string, Record<string, Static>> = {
  kl_divergence: {},
  kld: {},
  kullback_leibler_divergence: {},
  poisson: {},
  binary_crossentropy: { from_logits: false, label_smoothing: 0, axis: -1 },
  bce: { from_logits: false, label_smoothing: 0, axis: -1 },
  binary_focal_crossentropy: { apply_class_balancing: false, alpha: 0.25, gamma: 2, from_logits: false, label_smoothing: 0, axis: -1 },
  categorical_crossentropy: { from_logits: false, label_smoothing: 0, axis: -1 },
  categorical_focal_crossentropy: { alpha: 0.25, gamma: 2, from_logits: false, label_smoothing: 0, axis: -1 },
  sparse_categorical_crossentropy: { from_logits: false, ignore_class: null, axis: -1 },
  categorical_generalized_cross_entropy: { q: 0.5 },
  hinge: {},
  squared_hinge: {},
  categorical_hinge: {},
  dice: { axis: null },
  tversky: { alpha: 0.5, beta: 0.5, axis: null },
  cosine_similarity: { axis: -1 },
  circle: { gamma: 80, margin: 0.4, remove_diagonal: true, ref_labels: null, ref_embeddings: null },
};

describe('Keras losses: names, options and defaults', () => {
  const lib = Library.stdlib();
  for (const [name, options] of Object.entries(SIGNATURES)) {
    it(`${name} has Keras's options and defaults, and a doc comment`, () => {
      const def = lib.require(name, ['loss']).def;
      expect(def.params.map((p) => p.name)).toEqual(['y_true', 'y_pred']);
      const got: Record<string, Static> = {};
      for (const o of def.options) got[o.name] = evalStatic(lib, o.default);
      expect(got).toEqual(options);
      expect(def.doc.trim().length).toBeGreaterThan(10);
    });
  }

  it('aliases give the same values as the loss they name', () => {
    const y = [[0, 1, 0.3], [1, 0, 0.8]];
    const p = [[0.2, 0.7, 0.4], [0.9, 0.05, 0.6]];
    for (const [alias, of] of [['kld', 'kl_divergence'], ['kullback_leibler_divergence', 'kl_divergence'], ['bce', 'binary_crossentropy']]) {
      close(fn(alias!, y, p), fn(of!, y, p), 0, 0, alias);
    }
    close(fn('bce', y, p, { from_logits: true, label_smoothing: 0.2, axis: 0 }), fn('binary_crossentropy', y, p, { from_logits: true, label_smoothing: 0.2, axis: 0 }), 0, 0, 'bce options');
  });

  it('rejects unknown options with the known ones named', () => {
    const out = answer({ loss: 'binary_crossentropy', options: { from_logit: true }, y_true: [[1]], y_pred: [[0.5]] });
    expect('error' in out && out.error.message).toMatch(/from_logits/);
  });
});

// ---- derivatives against finite differences (float64) -----------------------------------------

const r = rng(20240601);
const u = (lo: number, hi: number) => lo + (hi - lo) * r();
const mat = (n: number, m: number, lo: number, hi: number) => rows(n, m, () => u(lo, hi));
const bits = (n: number, m: number) => rows(n, m, () => (r() < 0.5 ? 0 : 1));
const oneHot = (labels: number[], c: number) => labels.map((l) => Array.from({ length: c }, (_, j) => (j === l ? 1 : 0)));
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

interface GradCase {
  loss: string;
  options?: Record<string, Static>;
  y_true: Nested;
  y_pred: Nested;
}

const GRAD_CASES: GradCase[] = [
  { loss: 'binary_crossentropy', y_true: bits(3, 4), y_pred: mat(3, 4, 0.05, 0.95) },
  { loss: 'binary_crossentropy', options: { label_smoothing: 0.1, axis: 0 }, y_true: mat(3, 4, 0, 1), y_pred: mat(3, 4, 0.05, 0.95) },
  { loss: 'binary_crossentropy', options: { from_logits: true }, y_true: bits(3, 4), y_pred: mat(3, 4, -6, 6) },
  { loss: 'bce', options: { from_logits: true, label_smoothing: 0.2 }, y_true: bits(2, 3), y_pred: mat(2, 3, -4, 4) },
  { loss: 'binary_focal_crossentropy', y_true: bits(3, 4), y_pred: mat(3, 4, 0.05, 0.95) },
  { loss: 'binary_focal_crossentropy', options: { gamma: 3, alpha: 0.3, apply_class_balancing: true, label_smoothing: 0.1 }, y_true: bits(3, 4), y_pred: mat(3, 4, 0.05, 0.95) },
  { loss: 'binary_focal_crossentropy', options: { from_logits: true, apply_class_balancing: true, gamma: 1.5 }, y_true: bits(3, 4), y_pred: mat(3, 4, -4, 4) },
  { loss: 'categorical_crossentropy', y_true: oneHot([0, 2, 1], 3), y_pred: mat(3, 3, 0.05, 1) },
  { loss: 'categorical_crossentropy', options: { from_logits: true }, y_true: oneHot([0, 2, 1], 3), y_pred: mat(3, 3, -3, 3) },
  { loss: 'categorical_crossentropy', options: { from_logits: true, label_smoothing: 0.2, axis: 0 }, y_true: mat(3, 4, 0, 1), y_pred: mat(3, 4, -3, 3) },
  { loss: 'categorical_crossentropy', options: { label_smoothing: 0.1 }, y_true: oneHot([1, 0], 4), y_pred: mat(2, 4, 0.05, 1) },
  { loss: 'categorical_focal_crossentropy', y_true: oneHot([0, 2, 1], 3), y_pred: mat(3, 3, 0.05, 1) },
  { loss: 'categorical_focal_crossentropy', options: { from_logits: true, alpha: [0.2, 0.3, 0.5], gamma: 1.5, label_smoothing: 0.1 }, y_true: oneHot([0, 2, 1], 3), y_pred: mat(3, 3, -2, 2) },
  { loss: 'sparse_categorical_crossentropy', y_true: [0, 2, 1], y_pred: mat(3, 3, 0.05, 1) },
  { loss: 'sparse_categorical_crossentropy', options: { from_logits: true }, y_true: [[0], [2], [1]], y_pred: mat(3, 3, -3, 3) },
  { loss: 'sparse_categorical_crossentropy', options: { from_logits: true, ignore_class: -1 }, y_true: [0, -1, 1, 2], y_pred: mat(4, 3, -3, 3) },
  { loss: 'sparse_categorical_crossentropy', options: { ignore_class: 255 }, y_true: [[0, 255], [1, 2]], y_pred: [mat(2, 3, 0.05, 1), mat(2, 3, 0.05, 1)] },
  { loss: 'sparse_categorical_crossentropy', options: { from_logits: true, axis: 1 }, y_true: [[0, 2], [1, 1]], y_pred: [mat(3, 2, -2, 2), mat(3, 2, -2, 2)] },
  { loss: 'categorical_generalized_cross_entropy', y_true: [0, 2, 1], y_pred: mat(3, 3, 0.05, 1) },
  { loss: 'categorical_generalized_cross_entropy', options: { q: 0.8 }, y_true: [[0, 1], [1, 1]], y_pred: [mat(2, 2, 0.05, 1), mat(2, 2, 0.05, 1)] },
  { loss: 'kl_divergence', y_true: mat(3, 4, 0.05, 1), y_pred: mat(3, 4, 0.05, 1) },
  { loss: 'kld', y_true: mat(2, 3, 0.05, 1), y_pred: mat(2, 3, 0.05, 1) },
  { loss: 'poisson', y_true: mat(3, 4, 0, 4), y_pred: mat(3, 4, 0.1, 3) },
  // Hinge margins kept away from the kink at y·ŷ = 1.
  { loss: 'hinge', y_true: [[0, 1, 1], [1, 0, 0]], y_pred: [[0.3, -0.5, 2], [0.7, 1.4, -1.8]] },
  { loss: 'hinge', y_true: [[-1, 1], [0.5, 2]], y_pred: [[0.3, -0.5], [0.7, -0.2]] },
  { loss: 'squared_hinge', y_true: [[0, 1, 1], [1, 0, 0]], y_pred: [[0.3, -0.5, 2], [0.7, 1.4, -1.8]] },
  { loss: 'categorical_hinge', y_true: oneHot([0, 2], 3), y_pred: [[0.2, 0.5, 0.1], [0.9, 0.3, 0.4]] },
  { loss: 'categorical_hinge', y_true: [[0.2, 0.5, 0.3], [1, 0, 1]], y_pred: [[0.2, 0.5, -0.1], [0.9, 0.3, 0.2]] },
  { loss: 'dice', y_true: bits(3, 4), y_pred: mat(3, 4, 0, 1) },
  { loss: 'dice', options: { axis: 1 }, y_true: bits(3, 4), y_pred: mat(3, 4, 0, 1) },
  { loss: 'tversky', options: { alpha: 0.2, beta: 0.8, axis: [1, 2] }, y_true: [bits(2, 2), bits(2, 2)], y_pred: [mat(2, 2, 0, 1), mat(2, 2, 0, 1)] },
  { loss: 'tversky', y_true: bits(3, 4), y_pred: mat(3, 4, 0, 1) },
  { loss: 'cosine_similarity', y_true: mat(3, 4, -2, 2), y_pred: mat(3, 4, -2, 2) },
  { loss: 'cosine_similarity', options: { axis: 0 }, y_true: mat(3, 4, -2, 2), y_pred: mat(3, 4, -2, 2) },
  { loss: 'circle', options: { gamma: 8 }, y_true: [0, 0, 1, 1, 2], y_pred: rows(5, 4, () => u(-1, 1)).map(unit) },
  { loss: 'circle', options: { gamma: 4, margin: 0.25, remove_diagonal: false }, y_true: [0, 0, 1, 1, 2], y_pred: rows(5, 4, () => u(-1, 1)).map(unit) },
];

describe('Keras losses: derivatives against finite differences (float64)', () => {
  for (const c of GRAD_CASES) {
    it(`${c.loss} ${JSON.stringify(c.options ?? {})}`, () => {
      const { value, g, inputs } = compiled(c.loss, c.options ?? {}, c.y_true, c.y_pred);
      const symbolic = evaluate([g], inputs)[0]!;
      const numeric = numericGrad(value, 'y_pred', inputs, 1e-6);
      for (const x of symbolic.data) expect(Number.isFinite(x)).toBe(true);
      expectAllClose(symbolic.data, numeric, 2e-5, `${c.loss} d/dy_pred`);
    });
  }
});

describe('Keras losses: the gradient tfjs trains with is lossc\'s symbolic one', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  for (const c of GRAD_CASES) {
    it(`${c.loss} ${JSON.stringify(c.options ?? {})}`, () => {
      const { g, inputs } = compiled(c.loss, c.options ?? {}, c.y_true, c.y_pred);
      const want = evaluate([g], inputs)[0]!;
      // reduction "sum": d sum(values) / d y_pred, as the float64 gradient (masked entries are 0 there too).
      const out = run({ loss: c.loss, options: c.options ?? {}, reduction: 'sum', y_true: c.y_true, y_pred: c.y_pred, grad: true });
      expectAllClose(flatten(out.grad), want.data, 2e-4, `${c.loss} tfjs gradient`);
    });
  }
});

// ---- option combinations against float64 implementations of keras_losses.md §3 ----------------

const EPS = Math.fround(1e-7);
const ONE_MINUS_EPS = Math.fround(1 - EPS);
const clipP = (p: number) => Math.min(Math.max(p, EPS), ONE_MINUS_EPS);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('Keras losses: options against the spec', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('binary_crossentropy: label smoothing, axis, logits and probabilities', () => {
    const y = [[1, 0, 1], [0, 0, 1]];
    const x = [[2.5, -1, 0.3], [-3, 4, 12]];
    const p = [[0.9, 0.2, 0.6], [0.1, 0.7, 1]];
    const ls = 0.2;
    const sm = (v: number) => v * (1 - ls) + 0.5 * ls;
    const logit = (t: number, z: number) => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
    const prob = (t: number, q: number) => -(t * Math.log(clipP(q)) + (1 - t) * Math.log(1 - clipP(q)));
    close(fn('binary_crossentropy', y, x, { from_logits: true, label_smoothing: ls }), y.map((row, i) => mean(row.map((t, j) => logit(sm(t), x[i]![j]!)))));
    close(fn('binary_crossentropy', y, p, { label_smoothing: ls, axis: 0 }), [0, 1, 2].map((j) => mean([0, 1].map((i) => prob(sm(y[i]![j]!), p[i]![j]!)))));
    close(fn('binary_crossentropy', y, p), y.map((row, i) => mean(row.map((t, j) => prob(t, p[i]![j]!)))));
  });

  it('binary_crossentropy from logits is exact, never clipped (grows like |x|)', () => {
    close(fn('binary_crossentropy', [[0, 1, 1, 0]], [[100, -100, 30, -30]], { from_logits: true }), [(100 + 100 + 30 * 0 + 0) / 4], 1e-6, 1e-5);
    close(fn('binary_crossentropy', [[1]], [[10]], { from_logits: true }), [Math.log1p(Math.exp(-10))], 2e-2, 1e-6);
  });

  it('probabilities are clipped to the float32 bounds [1e-7, 0.99999988]', () => {
    close(fn('binary_crossentropy', [[0], [1]], [[1], [0]]), [15.942385, 16.118095], 1e-6);
    close(fn('kl_divergence', [[0, 1]], [[1, 0]]), [EPS * Math.log(EPS / 1) + 1 * Math.log(1 / EPS)], 1e-6);
  });

  it('binary_focal_crossentropy from logits saturates like Keras (sigmoid, then clipped BCE)', () => {
    // gamma = 0, no balancing: the clipped probability BCE of sigmoid(x).
    close(fn('binary_focal_crossentropy', [[0, 1]], [[100, -100]], { from_logits: true, gamma: 0 }), [(15.942385 + 16.118095) / 2], 1e-6);
    const y = [[1, 0, 1, 0]];
    const x = [[0.5, -2, 3, 1.5]];
    const alpha = 0.35;
    const gamma = 2.5;
    const ls = 0.1;
    const want = mean(
      y[0]!.map((t0, j) => {
        const t = t0 * (1 - ls) + 0.5 * ls;
        const q = sigmoid(x[0]![j]!);
        const bce = -(t * Math.log(clipP(q)) + (1 - t) * Math.log(1 - clipP(q)));
        const pt = t * q + (1 - t) * (1 - q);
        return (t * alpha + (1 - t) * (1 - alpha)) * (1 - pt) ** gamma * bce;
      }),
    );
    close(fn('binary_focal_crossentropy', y, x, { from_logits: true, apply_class_balancing: true, alpha, gamma, label_smoothing: ls }), [want]);
  });

  it('categorical_crossentropy: any axis is the same as moving that axis last', () => {
    const y = [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]];
    const x = [[2, -1, 0.5, 1], [0.3, 2, -2, 0], [-1, 0.1, 3, 0.7]];
    const p = [[0.7, 0.1, 0.2, 0.5], [0.2, 0.8, 0.1, 0.3], [0.1, 0.1, 0.7, 0.2]];
    for (const options of [{ from_logits: true }, {}, { label_smoothing: 0.3 }, { from_logits: true, label_smoothing: 0.3 }]) {
      const pred = 'from_logits' in options ? x : p;
      close(fn('categorical_crossentropy', y, pred, { ...options, axis: 0 }), fn('categorical_crossentropy', T(y), T(pred), options), 1e-6, 1e-6, JSON.stringify(options));
    }
    // Label smoothing divides by the size of the class axis (master), here 3, not the last dim 4.
    const ls = 0.3;
    const want = [0, 1, 2, 3].map((j) => {
      const col = [0, 1, 2].map((i) => p[i]![j]!);
      const s = sum(col);
      return -sum(col.map((q, i) => (y[i]![j]! * (1 - ls) + ls / 3) * Math.log(clipP(q / s))));
    });
    close(fn('categorical_crossentropy', y, p, { label_smoothing: ls, axis: 0 }), want);
  });

  it('categorical_focal_crossentropy: a per-class alpha list, any axis', () => {
    const y = [[1, 0, 0], [0, 0.5, 0.5]];
    const p = [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]];
    const alpha = [0.5, 1, 2];
    const gamma = 1.5;
    const want = p.map((row, i) => {
      const s = sum(row);
      return sum(row.map((q0, j) => {
        const q = clipP(q0 / s);
        return alpha[j]! * (1 - q) ** gamma * -y[i]![j]! * Math.log(q);
      }));
    });
    close(fn('categorical_focal_crossentropy', y, p, { alpha, gamma }), want);
    close(fn('categorical_focal_crossentropy', y, p, { alpha: [0.25, 0.25, 0.25] }), fn('categorical_focal_crossentropy', y, p), 0, 0);
    close(fn('categorical_focal_crossentropy', T(y), T(p), { axis: 0, from_logits: true }), fn('categorical_focal_crossentropy', y, p, { from_logits: true }), 1e-6);
  });

  it('sparse_categorical_crossentropy equals categorical_crossentropy on one-hot labels; (B,1) labels are squeezed', () => {
    const labels = [2, 0, 1];
    const p = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]];
    for (const options of [{}, { from_logits: true }]) {
      const want = fn('categorical_crossentropy', oneHot(labels, 3), p, options);
      close(fn('sparse_categorical_crossentropy', labels, p, options), want, 0, 0);
      close(fn('sparse_categorical_crossentropy', labels.map((l) => [l]), p, options), want, 0, 0);
      // Labels arrive as floats: they are truncated, as Keras casts them.
      close(fn('sparse_categorical_crossentropy', labels.map((l) => l + 0.7), p, options), want, 0, 0);
    }
  });

  it('sparse_categorical_crossentropy: a class axis other than the last', () => {
    const labels = [[0, 2], [1, 1]];
    const x = [[[2, -1], [0.5, 1], [0.3, 2]], [[-2, 0], [-1, 0.1], [3, 0.7]]]; // (B=2, C=3, T=2)
    const moved = x.map((m) => T(m)); // (B, T, C)
    close(fn('sparse_categorical_crossentropy', labels, x, { from_logits: true, axis: 1 }), fn('sparse_categorical_crossentropy', labels, moved, { from_logits: true }), 1e-6);
    close(fn('sparse_categorical_crossentropy', labels.map((r) => [r]), x, { axis: 1 }), fn('sparse_categorical_crossentropy', labels, moved), 1e-6);
  });

  it('sparse_categorical_crossentropy ignore_class: 0 there, left out of the mean, finite gradient even for a zero row', () => {
    const labels = [[1], [-1], [0], [-1]];
    const p = [[0.2, 0.8], [0, 0], [0.6, 0.4], [0.5, 0.5]];
    const none = run({ loss: 'sparse_categorical_crossentropy', options: { ignore_class: -1 }, reduction: 'none', y_true: labels, y_pred: p });
    close(none.value, [-Math.log(0.8), 0, -Math.log(0.6), 0]);
    const avg = run({ loss: 'sparse_categorical_crossentropy', options: { ignore_class: -1 }, y_true: labels, y_pred: p, grad: true });
    close(avg.value, (-Math.log(0.8) - Math.log(0.6)) / 2);
    const g = flatten(avg.grad);
    for (const v of g) expect(Number.isFinite(v)).toBe(true);
    expect(g.slice(2, 4)).toEqual([0, 0]);
    expect(g.slice(6, 8)).toEqual([0, 0]);
    // Everything ignored: 0, not NaN.
    close(run({ loss: 'sparse_categorical_crossentropy', options: { ignore_class: 3, from_logits: true }, y_true: [3, 3], y_pred: [[1, 2], [3, 4]] }).value, 0);
  });

  it('categorical_generalized_cross_entropy: (1 - p^q) / q of the target probability', () => {
    const p = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]];
    close(fn('categorical_generalized_cross_entropy', [0, 2], p, { q: 0.8 }), [(1 - 0.7 ** 0.8) / 0.8, (1 - 0.6 ** 0.8) / 0.8]);
  });

  it('hinge: {0,1} labels become {-1,1} only when the whole tensor is binary', () => {
    const p = [[0.3, -0.5, 2], [0.7, 1.4, -1.8]];
    const h = (y: number[][]) => y.map((row, i) => mean(row.map((t, j) => Math.max(1 - t * p[i]![j]!, 0))));
    close(fn('hinge', [[0, 1, 1], [1, 0, 0]], p), h([[-1, 1, 1], [1, -1, -1]]));
    close(fn('hinge', [[1, 1, 1], [1, 1, 1]], p), h([[1, 1, 1], [1, 1, 1]]));
    close(fn('hinge', [[0, 0, 0], [0, 0, 0]], p), h([[-1, -1, -1], [-1, -1, -1]]));
    close(fn('hinge', [[-1, 1, 1], [1, -1, -1]], p), h([[-1, 1, 1], [1, -1, -1]]));
    close(fn('hinge', [[0, 1, 1], [1, 0, 0.5]], p), h([[0, 1, 1], [1, 0, 0.5]]));
    close(fn('squared_hinge', [[0, 1, 1], [1, 0, 0]], p), [[-1, 1, 1], [1, -1, -1]].map((row, i) => mean(row.map((t, j) => Math.max(1 - t * p[i]![j]!, 0) ** 2))));
  });

  it('dice and tversky: axis none, an int, a list; tversky(0.5, 0.5) is dice', () => {
    const y = [[1, 0, 1, 1], [0, 0, 1, 0]];
    const p = [[0.9, 0.2, 0.6, 0.4], [0.1, 0.3, 0.8, 0.2]];
    const dice = (ys: number[], ps: number[]) => 1 - (2 * sum(ys.map((t, i) => t * ps[i]!))) / (sum(ys) + sum(ps) + EPS);
    close(fn('dice', y, p), dice(y.flat(), p.flat()));
    close(fn('dice', y, p, { axis: 1 }), [dice(y[0]!, p[0]!), dice(y[1]!, p[1]!)]);
    close(fn('dice', y, p, { axis: [0] }), [0, 1, 2, 3].map((j) => dice([y[0]![j]!, y[1]![j]!], [p[0]![j]!, p[1]![j]!])));
    close(fn('tversky', y, p, { axis: -1 }), fn('dice', y, p, { axis: -1 }), 1e-6);
    const tv = (ys: number[], ps: number[], a: number, b: number) => {
      const tp = sum(ys.map((t, i) => t * ps[i]!));
      const fp = sum(ys.map((t, i) => (1 - t) * ps[i]!));
      const fn_ = sum(ys.map((t, i) => t * (1 - ps[i]!)));
      return 1 - tp / (tp + a * fp + b * fn_ + EPS);
    };
    close(fn('tversky', y, p, { alpha: 0.2, beta: 0.8, axis: 1 }), [tv(y[0]!, p[0]!, 0.2, 0.8), tv(y[1]!, p[1]!, 0.2, 0.8)]);
  });

  it('cosine_similarity: negative cosine along axis; a zero vector gives 0', () => {
    const y = [[1, 2, 0], [0, 0, 0]];
    const p = [[2, 4, 0], [1, 1, 1]];
    close(fn('cosine_similarity', y, p), [-1, 0]);
    close(fn('cosine_similarity', T(y), T(p), { axis: 0 }), [-1, 0]);
  });

  it('circle: remove_diagonal and a separate reference set, against the spec', () => {
    const labels = [0, 0, 1, 1, 2];
    const emb = rows(5, 3, () => u(-1, 1)).map(unit);
    const circle = (q: number[], e: number[][], rl: number[], re: number[][], gamma: number, margin: number, removeDiagonal: boolean) =>
      q.map((li, i) => {
        let pos = -Infinity;
        let neg = -Infinity;
        const lse = (a: number, b: number) => (a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))));
        re.forEach((rj, j) => {
          const d = Math.max(1 - sum(e[i]!.map((v, k) => v * rj[k]!)), 0);
          if (li === rl[j] && !(removeDiagonal && i === j)) pos = lse(pos, -gamma * Math.max(margin + d, 0) * (margin - d));
          if (li !== rl[j]) neg = lse(neg, gamma * Math.max(1 + margin - d, 0) * (1 - margin - d));
        });
        return pos === -Infinity || neg === -Infinity ? 0 : softplus(pos + neg);
      });
    close(fn('circle', labels, emb, { gamma: 10, margin: 0.3, remove_diagonal: false }), circle(labels, emb, labels, emb, 10, 0.3, false), 1e-5);
    close(fn('circle', labels, emb, { gamma: 10 }), circle(labels, emb, labels, emb, 10, 0.4, true), 1e-5);
    const refs = rows(4, 3, () => u(-1, 1)).map(unit);
    const refLabels = [0, 1, 1, 3];
    close(
      fn('circle', labels, emb, { gamma: 10, ref_labels: refLabels, ref_embeddings: refs }),
      circle(labels, emb, refLabels, refs, 10, 0.4, true),
      1e-5,
    );
    // Sample 4 (label 2) has no positive: loss 0, and the default reduction leaves it out of the mean.
    const values = flatten(fn('circle', labels, emb, { gamma: 10 }));
    expect(values[4]).toBe(0);
    close(run({ loss: 'circle', options: { gamma: 10 }, y_true: labels, y_pred: emb }).value, mean(values.slice(0, 4)), 1e-5);
  });
});

// ---- printed derivatives ---------------------------------------------------------------------

describe('Keras losses: printed derivatives read like the textbook ones', () => {
  it('binary_crossentropy from logits: (sigmoid(x) - y) / n', () => {
    expect(derivative('binary_crossentropy', 'y_pred', { options: { from_logits: true } }).toString()).toBe('(sigmoid(y_pred) - y_true) / size(y_pred, axis = -1)');
  });
  it('categorical_crossentropy from logits: softmax(x) sum(y) - y', () => {
    const d = derivative('categorical_crossentropy', 'y_pred', { options: { from_logits: true } }).toString();
    expect(d).toContain('exp(y_pred - logsumexp(y_pred, axis = -1, keepdims = true))');
    expect(d).toContain('- y_true');
    expect(d).not.toContain('let');
  });
  it('every loss of these files has a derivative that prints', () => {
    for (const name of Object.keys(SIGNATURES)) {
      const d = derivative(name, 'y_pred');
      expect(d.toString().length, name).toBeGreaterThan(0);
      expect(d.size, name).toBeLessThan(120);
    }
  });
});

describe('Keras losses: option checks', () => {
  it('categorical_generalized_cross_entropy needs 0 < q < 1, as the Keras class', () => {
    for (const q of [0, 1, 1.5, -0.2]) {
      const out = answer({ loss: 'categorical_generalized_cross_entropy', options: { q }, y_true: [0], y_pred: [[0.5, 0.5]] });
      expect('error' in out && out.error.kind, String(q)).toBe('option');
      expect('error' in out && out.error.message).toMatch(/q must be strictly between 0 and 1/);
    }
  });
});

describe('Keras losses: shape checks', () => {
  it('the cross-entropies need y_true shaped like y_pred (Keras raises rather than broadcasts)', () => {
    for (const loss of ['binary_crossentropy', 'binary_focal_crossentropy', 'categorical_crossentropy', 'categorical_focal_crossentropy']) {
      const out = answer({ loss, call: 'function', y_true: [1, 0, 1], y_pred: [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]] });
      expect('error' in out && out.error.kind, loss).toBe('shape');
      expect('error' in out && out.error.message, loss).toMatch(/y_true and y_pred must have the same shape/);
    }
  });
  it('a per-class alpha of categorical_focal_crossentropy needs one value per class', () => {
    const out = answer({ loss: 'categorical_focal_crossentropy', options: { alpha: [0.2, 0.8] }, y_true: [[1, 0, 0]], y_pred: [[0.2, 0.3, 0.5]] });
    expect('error' in out && out.error.message).toMatch(/alpha/);
  });
});
