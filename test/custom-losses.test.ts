// The custom losses (stdlib/custom.loss) and the regularizers (stdlib/regularizers.loss) through
// the JavaScript API: values against the papers' formulas computed here in plain JS (never via
// lossc), every option; regularizers inside a tfjs-layers model; composition of losses in a
// user's source and across imported files; golden printed derivatives; and the errors for bad
// input, which name the loss, the option or input, and the sizes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf as errorOfShared } from './helpers/source.js';
import { compile, derivative, Library, LosscError, losses, makeLoss, regularizers, type LossFactory, type RegularizerFactory } from '../src/index.node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---- plain-JS arithmetic ------------------------------------------------------------------------

const EPS = 1e-7;
const clipP = (p: number) => Math.min(Math.max(p, EPS), 1 - EPS);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const relu = (x: number) => Math.max(x, 0);
const sqDist = (a: number[], b: number[]) => sum(a.map((x, i) => (x - b[i]!) ** 2));
const softmax = (row: number[]) => {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  return e.map((x) => x / sum(e));
};
const transpose = (m: number[][]) => m[0]!.map((_, j) => m.map((r) => r[j]!));

/** Lin et al. 2017, binary: sum over the last axis of -alpha_t (1 - p_t)^gamma log(p_t). */
function focalHand(y: number[][], q: number[][], o: { gamma?: number; alpha?: number; fromLogits?: boolean } = {}): number[] {
  const { gamma = 2, alpha = 0.25, fromLogits = false } = o;
  return y.map((row, i) =>
    sum(
      row.map((yi, j) => {
        const p = fromLogits ? sigmoid(q[i]![j]!) : clipP(q[i]![j]!);
        const pt = yi * p + (1 - yi) * (1 - p);
        const at = yi * alpha + (1 - yi) * (1 - alpha);
        return -at * (1 - pt) ** gamma * Math.log(pt);
      }),
    ),
  );
}

/** Lin et al. 2017, multi-class: sum over classes of -alpha_c y_c (1 - p_c)^gamma log(p_c). */
function categoricalFocalHand(y: number[][], q: number[][], o: { gamma?: number; alpha?: number | number[]; fromLogits?: boolean } = {}): number[] {
  const { gamma = 2, alpha = 0.25, fromLogits = false } = o;
  return y.map((row, i) => {
    const p = (fromLogits ? softmax(q[i]!) : q[i]!).map(clipP);
    return sum(row.map((yc, c) => -(typeof alpha === 'number' ? alpha : alpha[c]!) * yc * (1 - p[c]!) ** gamma * Math.log(p[c]!)));
  });
}

/** 1 - F_beta of the soft counts over the whole batch. */
function fbetaHand(y: number[][], q: number[][], beta = 1): number {
  const ys = y.flat();
  const ps = q.flat();
  const tp = sum(ys.map((t, i) => t * ps[i]!));
  const fp = sum(ys.map((t, i) => (1 - t) * ps[i]!));
  const fn = sum(ys.map((t, i) => t * (1 - ps[i]!)));
  const precision = tp / (tp + fp + EPS);
  const recall = tp / (tp + fn + EPS);
  return 1 - ((1 + beta ** 2) * precision * recall) / (beta ** 2 * precision + recall + EPS);
}

const parts = (row: number[], k: number) => Array.from({ length: k }, (_, i) => row.slice((i * row.length) / k, ((i + 1) * row.length) / k));

/** FaceNet: max(|a - p|^2 - |a - n|^2 + margin, 0). */
function tripletHand(q: number[][], margin = 0.2): number[] {
  return q.map((row) => {
    const [a, p, n] = parts(row, 3) as [number[], number[], number[]];
    return relu(sqDist(a, p) - sqDist(a, n) + margin);
  });
}

/** Chen et al. 2017: max(|a-p|^2 - |a-n1|^2 + m1, 0) + max(|a-p|^2 - |n1-n2|^2 + m2, 0). */
function quadrupletHand(q: number[][], m1 = 1, m2 = 0.5): number[] {
  return q.map((row) => {
    const [a, p, n1, n2] = parts(row, 4) as [number[], number[], number[], number[]];
    return relu(sqDist(a, p) - sqDist(a, n1) + m1) + relu(sqDist(a, p) - sqDist(n1, n2) + m2);
  });
}

/** Hadsell et al. 2006: mean over the last axis of y d^2 + (1 - y) max(margin - d, 0)^2. */
function contrastiveHand(y: number[][], d: number[][], margin = 1): number[] {
  return y.map((row, i) => mean(row.map((t, j) => t * d[i]![j]! ** 2 + (1 - t) * relu(margin - d[i]![j]!) ** 2)));
}

/** Hermans et al. 2017: hardest positive (another sample, same label) and hardest negative. */
function batchHardHand(labels: number[], e: number[][], margin = 0.2): number[] {
  return e.map((a, i) => {
    let pos = 0;
    let neg = Infinity;
    e.forEach((b, j) => {
      const d = sqDist(a, b);
      if (labels[j] === labels[i] && j !== i) pos = Math.max(pos, d);
      if (labels[j] !== labels[i]) neg = Math.min(neg, d);
    });
    return relu(pos - neg + margin);
  });
}

/** Keras 3 OrthogonalRegularizer, line by line: factor * 0.5 * sum|offdiag(G)| / (n (n - 1) / 2). */
function orthogonalHand(w: number[][], factor: number, mode: 'rows' | 'columns'): number {
  const vs = (mode === 'rows' ? w : transpose(w)).map((v) => {
    const norm = Math.sqrt(sum(v.map((x) => x * x)));
    return v.map((x) => x / Math.max(norm, 1e-7));
  });
  const n = vs.length;
  let off = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += Math.abs(sum(vs[i]!.map((x, k) => x * vs[j]![k]!)));
  return (factor * 0.5 * off) / ((n * (n - 1)) / 2);
}

// ---- tensor helpers -----------------------------------------------------------------------------

function values(t: tf.Tensor): number[] {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got.length, `got ${got.join(', ')}, want ${want.join(', ')}`).toBe(want.length);
  got.forEach((g, i) => expect(g, `[${i}]: got ${got.join(', ')}, want ${want.join(', ')}`).toBeCloseTo(want[i]!, digits));
}

/** `losses.name(options)` on plain arrays: per-sample values with reduction 'none', and the default (mean). */
function run(name: string, options: Record<string, unknown>, yTrue: number[][] | number[], yPred: number[][], dtype: 'float32' | 'int32' = 'float32'): { none: number[]; mean: number } {
  return tf.tidy(() => {
    const yt = tf.tensor(yTrue, undefined, dtype);
    const yp = tf.tensor2d(yPred);
    // The bare function's values (per sample, or one number for a loss of the whole batch, which
    // reduction 'none' refuses).
    const none = values((losses as unknown as Record<string, LossFactory>)[name]!({ ...options, call: 'function' })(yt, yp));
    const mean = values((losses as unknown as Record<string, LossFactory>)[name]!(options)(yt, yp))[0]!;
    return { none, mean };
  });
}

/** The LosscError `f` throws, inside a tidy scope (tensors made before the throw are freed). */
const errorOf = (f: () => unknown): LosscError => errorOfShared(() => tf.tidy(() => void f()));

// ---- values -------------------------------------------------------------------------------------

describe('focal_loss: values', () => {
  const y = [[1, 0, 1], [0, 0, 1], [1, 1, 0]];
  const p = [[0.9, 0.2, 0.4], [0.7, 0.1, 0.6], [0.05, 0.999, 0.5]];

  it('defaults (gamma 2, alpha 0.25), probabilities: per sample, and their mean', () => {
    const want = focalHand(y, p);
    // The first sample term by term: 0.25 * 0.1^2 * -ln 0.9 + 0.75 * 0.2^2 * -ln 0.8 + 0.25 * 0.6^2 * -ln 0.4.
    expect(want[0]).toBeCloseTo(0.25 * 0.01 * 0.1053605 + 0.75 * 0.04 * 0.2231436 + 0.25 * 0.36 * 0.9162907, 6);
    const got = run('focal_loss', {}, y, p);
    expectClose(got.none, want);
    expect(got.mean).toBeCloseTo(mean(want), 5);
  });

  it('gamma and alpha', () => {
    for (const [gamma, alpha] of [[0, 0.5], [1, 0.9], [3.5, 0.1]] as const) {
      const got = run('focal_loss', { gamma, alpha }, y, p);
      expectClose(got.none, focalHand(y, p, { gamma, alpha }));
    }
  });

  it('gamma 0, alpha 0.5 is half the summed binary cross-entropy', () => {
    const bce = y.map((row, i) => sum(row.map((t, j) => -(t * Math.log(p[i]![j]!) + (1 - t) * Math.log(1 - p[i]![j]!)))));
    expectClose(run('focal_loss', { gamma: 0, alpha: 0.5 }, y, p).none, bce.map((v) => v / 2));
  });

  it('from_logits: the paper formula with p = sigmoid(x), including large logits', () => {
    const x = [[2, -1, 0.5], [1, -3, 0], [-4, 6, 0.3]];
    for (const gamma of [0, 2, 4]) {
      const got = run('focal_loss', { from_logits: true, gamma }, y, x);
      expectClose(got.none, focalHand(y, x, { gamma, fromLogits: true }));
      expect(got.mean).toBeCloseTo(mean(focalHand(y, x, { gamma, fromLogits: true })), 5);
    }
    // Far out, where sigmoid rounds to 0 or 1 in float32: finite, and the right size.
    const big = run('focal_loss', { from_logits: true, gamma: 2, alpha: 0.5 }, [[1, 0]], [[-40, 40]]).none;
    // Each term is alpha_t * ~1 * softplus(40) = 0.5 * 40.
    expect(big[0]).toBeCloseTo(40, 3);
  });

  it('sample weights scale each sample (Keras sum_over_batch_size)', () => {
    const want = focalHand(y, p);
    const w = [1, 0, 3];
    const got = tf.tidy(() => values(losses.focal_loss!()(tf.tensor2d(y), tf.tensor2d(p), tf.tensor1d(w))))[0]!;
    expect(got).toBeCloseTo(sum(want.map((v, i) => v * w[i]!)) / 3, 5);
  });
});

describe('categorical_focal_loss: values', () => {
  const y = [[0, 0, 1], [1, 0, 0], [0, 1, 0]];
  const p = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.05, 0.9, 0.05]];

  it('defaults, probabilities', () => {
    const want = categoricalFocalHand(y, p);
    expect(want[0]).toBeCloseTo(0.25 * 0.5 ** 2 * -Math.log(0.5), 7);
    const got = run('categorical_focal_loss', {}, y, p);
    expectClose(got.none, want);
    expect(got.mean).toBeCloseTo(mean(want), 5);
  });

  it('a per-class alpha vector weights each class', () => {
    const alpha = [0.1, 0.2, 0.7];
    const want = categoricalFocalHand(y, p, { alpha });
    expect(want).not.toEqual(categoricalFocalHand(y, p, { alpha: 0.25 }));
    expectClose(run('categorical_focal_loss', { alpha }, y, p).none, want);
    // Soft labels use every class's weight.
    const soft = [[0.2, 0.3, 0.5]];
    expectClose(run('categorical_focal_loss', { alpha, gamma: 1 }, soft, [p[0]!]).none, categoricalFocalHand(soft, [p[0]!], { alpha, gamma: 1 }));
  });

  it('from_logits: softmax first; gamma 0 and alpha 1 is categorical cross-entropy', () => {
    const x = [[1, 2, 3], [0.5, -1, 2], [3, -2, 0]];
    for (const opts of [{}, { gamma: 1, alpha: [0.3, 0.3, 0.4] }]) {
      const got = run('categorical_focal_loss', { from_logits: true, ...opts }, y, x);
      expectClose(got.none, categoricalFocalHand(y, x, { fromLogits: true, ...opts }));
    }
    const cce = y.map((row, i) => -sum(row.map((t, c) => t * Math.log(softmax(x[i]!)[c]!))));
    expectClose(run('categorical_focal_loss', { from_logits: true, gamma: 0, alpha: 1 }, y, x).none, cce);
  });
});

describe('fbeta_loss: values', () => {
  const y = [[1], [0], [1], [0], [0], [1]];
  const p = [[0.9], [0.2], [0.4], [0.7], [0.1], [0.6]];

  it('one number for the whole batch: tp 1.9, fp 1.0, fn 1.1', () => {
    // beta = 1: F1 = 2 tp / (2 tp + fp + fn) = 3.8 / 5.9.
    expect(fbetaHand(y, p, 1)).toBeCloseTo(1 - 3.8 / 5.9, 6);
    const got = run('fbeta_loss', {}, y, p);
    expectClose(got.none, [fbetaHand(y, p, 1)]);
    expect(got.mean).toBeCloseTo(fbetaHand(y, p, 1), 5);
  });

  it('beta 2 weights recall, beta 0.5 precision', () => {
    // P = 1.9 / 2.9, R = 1.9 / 3: F2 = 5 P R / (4 P + R).
    const P = 1.9 / 2.9;
    const R = 1.9 / 3;
    expect(fbetaHand(y, p, 2)).toBeCloseTo(1 - (5 * P * R) / (4 * P + R), 6);
    for (const beta of [2, 0.5, 3]) expectClose(run('fbeta_loss', { beta }, y, p).none, [fbetaHand(y, p, beta)]);
    // Recall-heavy predictions: F2 rewards them more than F0.5 does.
    const allPositive = y.map(() => [0.95]);
    expect(run('fbeta_loss', { beta: 2 }, y, allPositive).mean).toBeLessThan(run('fbeta_loss', { beta: 0.5 }, y, allPositive).mean);
  });

  it('perfect predictions give 0, all wrong give 1', () => {
    expect(run('fbeta_loss', { beta: 2 }, y, y).mean).toBeCloseTo(0, 5);
    expect(run('fbeta_loss', { beta: 2 }, y, y.map(([t]) => [1 - t!])).mean).toBeCloseTo(1, 5);
  });
});

describe('triplet, quadruplet, batch-hard triplet and contrastive: values', () => {
  it('triplet_loss: anchor, positive and negative side by side along axis 1', () => {
    const q = [
      [0, 0, 1, 0, 0, 1], // |a-p|^2 = |a-n|^2 = 1: the margin
      [1, 1, 1, 2, 0, 0], // 1 - 2 + 0.2 < 0
      [0.5, -1, 0.3, 0.2, 1.5, -0.7],
    ];
    const got = run('triplet_loss', {}, [[0], [0], [0]], q);
    expectClose(got.none, tripletHand(q));
    expectClose(got.none.slice(0, 2), [0.2, 0]);
    expect(got.mean).toBeCloseTo(mean(tripletHand(q)), 5);
    expectClose(run('triplet_loss', { margin: 1.5 }, [[0], [0], [0]], q).none, tripletHand(q, 1.5));
    // Wider embeddings: 3 parts of 3.
    const wide = [[1, 2, 3, 1, 2, 4, 0, 0, 0], [0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0.2, 0.2, 0.2]];
    expectClose(run('triplet_loss', { margin: 0.5 }, [[0], [0]], wide).none, tripletHand(wide, 0.5));
  });

  it('quadruplet_loss: two margins', () => {
    const q = [
      [0, 0, 1, 0, 0, 1, 0, 2], // ap 1, an1 1, n1n2 1: 1 + 0.5
      [1, 1, 1, 2, 0, 0, 3, 3],
      [0.2, 0.1, 0.4, -0.3, 1, 1, -1, 0.5],
    ];
    const got = run('quadruplet_loss', {}, [[0], [0], [0]], q);
    expectClose(got.none, quadrupletHand(q));
    expect(got.none[0]).toBeCloseTo(1.5, 6);
    expect(got.mean).toBeCloseTo(mean(quadrupletHand(q)), 5);
    expectClose(run('quadruplet_loss', { margin1: 0.3, margin2: 2 }, [[0], [0], [0]], q).none, quadrupletHand(q, 0.3, 2));
  });

  it('contrastive_loss: y d^2 for similar pairs, max(margin - d, 0)^2 for dissimilar ones', () => {
    const y = [[1], [0], [0], [1]];
    const d = [[0.5], [0.3], [1.5], [0]];
    const got = run('contrastive_loss', {}, y, d);
    expectClose(got.none, [0.25, 0.49, 0, 0]);
    expectClose(got.none, contrastiveHand(y, d));
    expect(got.mean).toBeCloseTo(mean(contrastiveHand(y, d)), 5);
    expectClose(run('contrastive_loss', { margin: 2 }, y, d).none, contrastiveHand(y, d, 2));
    // Several distances per sample: the mean over the last axis.
    const y2 = [[1, 0], [0, 1]];
    const d2 = [[0.2, 0.4], [0.9, 1.2]];
    expectClose(run('contrastive_loss', { margin: 1 }, y2, d2).none, contrastiveHand(y2, d2));
  });

  it('batch_hard_triplet_loss: hardest positive and negative per anchor, from integer labels', () => {
    const labels = [0, 0, 1, 1];
    const e = [[0, 0], [1, 0], [0, 1], [2, 2]];
    const got = run('batch_hard_triplet_loss', {}, labels, e, 'int32');
    // d01 = 1, d02 = 1, d03 = 8, d12 = 2, d13 = 5, d23 = 5.
    expectClose(got.none, [0.2, 0, 4.2, 0.2]);
    expectClose(got.none, batchHardHand(labels, e));
    expect(got.mean).toBeCloseTo(1.15, 5);
    const labels2 = [2, 0, 2, 1, 0, 1];
    const e2 = [[0.1, 0.5, -0.2], [1, 0.3, 0.4], [0.2, 0.4, 0], [-0.5, 1, 1], [0.9, 0.1, 0.2], [-0.3, 1.2, 0.8]];
    expectClose(run('batch_hard_triplet_loss', { margin: 0.7 }, labels2, e2, 'int32').none, batchHardHand(labels2, e2, 0.7));
    // An anchor alone in its class has no positive: its hardest positive is 0.
    expectClose(run('batch_hard_triplet_loss', {}, [0, 1, 1], [[0, 0], [3, 0], [0, 1]], 'int32').none, batchHardHand([0, 1, 1], [[0, 0], [3, 0], [0, 1]]));
  });
});

// ---- regularizers -------------------------------------------------------------------------------

describe('regularizers: values', () => {
  const w = [[0.5, -1, 0.2, 0], [1.5, 0.3, -0.4, 0.8], [-0.6, 0.1, 0.9, -1.2]];
  const penalty = (r: { apply(x: tf.Tensor): tf.Scalar }, m: number[][] = w) =>
    tf.tidy(() => r.apply(tf.tensor2d(m)).dataSync()[0]!);
  const absSum = sum(w.flat().map(Math.abs));
  const sqSum = sum(w.flat().map((x) => x * x));

  it('l1, l2 and l1_l2, with their defaults (0.01) and given factors', () => {
    expect(penalty(regularizers.l1!())).toBeCloseTo(0.01 * absSum, 6);
    expect(penalty(regularizers.l1!({ l1: 0.3 }))).toBeCloseTo(0.3 * absSum, 5);
    expect(penalty(regularizers.l2!())).toBeCloseTo(0.01 * sqSum, 6);
    expect(penalty(regularizers.l2!({ l2: 0.3 }))).toBeCloseTo(0.3 * sqSum, 5);
    expect(penalty(regularizers.l1_l2!())).toBeCloseTo(0.01 * absSum + 0.01 * sqSum, 6);
    expect(penalty(regularizers.l1_l2!({ l1: 0.2, l2: 0 }))).toBeCloseTo(0.2 * absSum, 5);
    expect(penalty(regularizers.l1L2!({ l1: 0.1, l2: 0.4 }))).toBeCloseTo(0.1 * absSum + 0.4 * sqSum, 5);
    // Any rank: a bias vector, a conv kernel.
    expect(tf.tidy(() => regularizers.l2!({ l2: 0.5 }).apply(tf.tensor1d([1, -2, 3])).dataSync()[0])).toBeCloseTo(7, 6);
    expect(tf.tidy(() => regularizers.l1!({ l1: 1 }).apply(tf.ones([2, 2, 3, 4])).dataSync()[0])).toBeCloseTo(48, 5);
  });

  it('orthogonal, rows and columns mode, as Keras 3 computes it', () => {
    for (const mode of ['rows', 'columns'] as const) {
      expect(penalty(regularizers.orthogonal!({ factor: 1, mode }))).toBeCloseTo(orthogonalHand(w, 1, mode), 5);
      expect(penalty(regularizers.orthogonal!({ factor: 0.01, mode }))).toBeCloseTo(orthogonalHand(w, 0.01, mode), 7);
    }
    expect(orthogonalHand(w, 1, 'rows')).not.toBeCloseTo(orthogonalHand(w, 1, 'columns'), 3);
    // The default is rows mode, factor 0.01.
    expect(penalty(regularizers.orthogonal!())).toBeCloseTo(orthogonalHand(w, 0.01, 'rows'), 7);
    // By hand for a 2 x 3 matrix: the rows [1, 2, 0] / sqrt 5 and [0, 1, 1] / sqrt 2 have cosine 2 / sqrt 10.
    expect(penalty(regularizers.orthogonal!({ factor: 1 }), [[1, 2, 0], [0, 1, 1]])).toBeCloseTo(2 / Math.sqrt(10), 6);
    // Orthogonal rows cost nothing; equal rows cost the whole factor.
    expect(penalty(regularizers.orthogonal!({ factor: 1 }), [[3, 0, 0], [0, 0, -2], [0, 0.5, 0]])).toBeCloseTo(0, 7);
    expect(penalty(regularizers.orthogonal!({ factor: 0.5 }), [[1, 2], [1, 2], [2, 4]])).toBeCloseTo(0.5, 6);
    // A single row has no pairs: 0 (Keras divides 0 by 0 there).
    expect(penalty(regularizers.orthogonal!({ factor: 1 }), [[1, 2, 3]])).toBe(0);
  });
});

describe('regularizers in a tfjs-layers model', () => {
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
  const x = () => tf.tensor2d([[0.1, -0.2, 0.3, 0.5], [1, 0, -1, 0.2], [0.4, 0.4, -0.3, 0.9], [-0.7, 0.2, 0.1, 0]]);
  const y = () => tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]);

  it('kernelRegularizer and biasRegularizer: tfjs adds lossc\'s penalties to the loss it trains on', async () => {
    const layer = tf.layers.dense({
      units: 3,
      inputShape: [4],
      kernelInitializer: seeded(1),
      biasInitializer: tf.initializers.constant({ value: -0.5 }),
      kernelRegularizer: regularizers.l2!({ l2: 0.1 }),
      biasRegularizer: regularizers.l1!({ l1: 0.2 }),
    });
    const model = tf.sequential({ layers: [layer] });
    const [kernel] = layer.getWeights().map((v) => v.arraySync() as number[] | number[][]) as [number[][], number[]];
    const want = [0.1 * sum(kernel.flat().map((v) => v * v)), 0.2 * 3 * 0.5];
    const got = tf.tidy(() => layer.calculateLosses().map((t) => t.dataSync()[0]!));
    expectClose(got, want, 6);

    // One full-batch step with a zero learning rate: the reported loss is mse + both penalties.
    const xs = x();
    const ys = y();
    const optimizer = tf.train.sgd(0);
    model.compile({ optimizer, loss: losses.mean_squared_error!() });
    const out = (model.predict(xs) as tf.Tensor).arraySync() as number[][];
    const target = ys.arraySync() as number[][];
    const mse = mean(out.map((row, i) => mean(row.map((v, j) => (v - target[i]![j]!) ** 2))));
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    expect((h.history.loss as number[])[0]).toBeCloseTo(mse + want[0]! + want[1]!, 5);
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it("training follows lossc's gradient of the penalty: 2 * l2 * w for the kernel, l1 * sign(b) for the bias", async () => {
    const layer = tf.layers.dense({
      units: 2,
      inputShape: [4],
      kernelInitializer: seeded(2),
      biasInitializer: tf.initializers.constant({ value: 0.5 }),
      kernelRegularizer: regularizers.l2!({ l2: 0.25 }),
      biasRegularizer: regularizers.l1!({ l1: 0.2 }),
    });
    const model = tf.sequential({ layers: [layer] });
    const [k0, b0] = layer.getWeights().map((v) => Array.from(v.dataSync())) as [number[], number[]];
    // A data loss with zero gradient: only the penalties move the weights.
    model.compile({ optimizer: tf.train.sgd(0.1), loss: (_yt: tf.Tensor, yp: tf.Tensor) => tf.mul(tf.sum(yp), 0) });
    const xs = x();
    const ys = tf.zeros([4, 2]);
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    const [k1, b1] = layer.getWeights().map((v) => Array.from(v.dataSync())) as [number[], number[]];
    expectClose(k1, k0.map((v) => v - 0.1 * 2 * 0.25 * v), 6);
    expectClose(b1, b0.map((v) => v - 0.1 * 0.2 * Math.sign(v)), 6);
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it('orthogonal as a kernel regularizer (rows and columns of a [4, 3] kernel)', () => {
    for (const mode of ['rows', 'columns'] as const) {
      const layer = tf.layers.dense({ units: 3, inputShape: [4], kernelInitializer: seeded(3), kernelRegularizer: regularizers.orthogonal!({ factor: 0.1, mode }) });
      const model = tf.sequential({ layers: [layer] });
      const kernel = layer.getWeights()[0]!.arraySync() as number[][];
      const got = tf.tidy(() => layer.calculateLosses()[0]!.dataSync()[0]!);
      expect(got).toBeCloseTo(orthogonalHand(kernel, 0.1, mode), 6);
      model.dispose();
    }
  });

  it('activityRegularizer: accepted and computes the penalty of activations, but tfjs-layers 4.22 cannot yet invoke a layer that has one (its own regularizers alike)', () => {
    const reg = regularizers.l1!({ l1: 0.1 });
    const layer = tf.layers.dense({ units: 2, inputShape: [3], activityRegularizer: reg });
    expect(layer.activityRegularizer).toBe(reg);
    const activations = [[0.5, -1], [2, 0]];
    expect(tf.tidy(() => layer.activityRegularizer!.apply(tf.tensor2d(activations)).dataSync()[0])).toBeCloseTo(0.1 * 3.5, 6);
    const limitation = /activity regularizer\(s\) is not supported yet/;
    expect(() => tf.sequential({ layers: [layer] })).toThrow(limitation);
    expect(() => tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], activityRegularizer: tf.regularizers.l1({ l1: 0.1 }) })] })).toThrow(limitation);
  });

  it('a regularizer is a tfjs Serializable with its options as config', () => {
    const reg = regularizers.orthogonal!({ factor: 0.2, mode: 'columns' });
    expect(reg.getClassName()).toBe('LosscRegularizer');
    // A string option is written as hex of its bytes: tfjs-layers rewrites strings in layer configs.
    expect(reg.getConfig()).toEqual({ name: 'orthogonal', options: { factor: 0.2, mode: { hex: Buffer.from('columns').toString('hex') } } });
  });
});

// ---- composition --------------------------------------------------------------------------------

describe('composition', () => {
  const yTrue = [[1, 0, 1], [0, 0, 1], [1, 1, 0]];
  const yPred = [[0.9, 0.2, 0.4], [0.7, 0.1, 0.6], [0.3, 0.8, 0.2]];

  it('a weighted sum of stdlib losses in a user source: 0.5 * dice + binary_crossentropy', () => {
    const { combo } = compile(`
      # Dice (whole batch) plus cross-entropy (per sample).
      loss combo(y_true, y_pred) = 0.5 * dice(y_true, y_pred) + binary_crossentropy(y_true, y_pred)`);
    const make = combo as LossFactory;
    tf.tidy(() => {
      const yt = tf.tensor2d(yTrue);
      const yp = tf.tensor2d(yPred);
      const dice = values(losses.dice!()(yt, yp))[0]!;
      const bce = values(losses.binary_crossentropy!({ reduction: 'none' })(yt, yp));
      // By hand: dice = 1 - 2 sum(y p) / (sum y + sum p + eps); bce = mean over the last axis.
      const ys = yTrue.flat();
      const ps = yPred.flat();
      expect(dice).toBeCloseTo(1 - (2 * sum(ys.map((t, i) => t * ps[i]!))) / (sum(ys) + sum(ps) + EPS), 5);
      expectClose(bce, yTrue.map((row, i) => mean(row.map((t, j) => -(t * Math.log(yPred[i]![j]!) + (1 - t) * Math.log(1 - yPred[i]![j]!))))));
      expectClose(values(make({ reduction: 'none' })(yt, yp)), bce.map((v) => 0.5 * dice + v));
      expect(values(make()(yt, yp))[0]).toBeCloseTo(0.5 * dice + mean(bce), 5);
      // The gradient is the same weighted sum of the parts' gradients (per-sample values, then tf.mean).
      const g = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => values(tf.grad((p: tf.Tensor) => f(yt, p))(yp));
      const gDice = g(losses.dice!());
      const gBce = g(losses.binary_crossentropy!());
      expectClose(g((a, b) => tf.mean(make({ reduction: 'none' })(a, b))), gDice.map((v, i) => 0.5 * v + gBce[i]!));
      // With a sample weight (the general path) too.
      expectClose(g((a, b) => make()(a, b, tf.ones([3]))), gDice.map((v, i) => 0.5 * v + gBce[i]!));
    });
  });

  // A batch-level term (dice: one number for the whole batch) added to per-sample values is
  // broadcast over the N samples, so its gradient must be counted N times (grad.ts
  // widenForBroadcast); the default reduction's fast path seeds the sum with a scalar 1.
  it('the gradient of a scalar term broadcast over samples counts every sample', () => {
    const { f } = compile(`loss f(y_true, y_pred) = sum(y_pred) + mean(y_pred, axis = -1)`);
    const yt = tf.zeros([3, 3]);
    const yp = tf.ones([3, 3]);
    const g = tf.grad((p: tf.Tensor) => (f as LossFactory)()(yt, p))(yp);
    // d/dp of mean over 3 samples of (sum(p) + mean_row(p)) = 1 + 1/9 per entry
    Array.from(g.dataSync()).forEach((v) => expect(v).toBeCloseTo(1 + 1 / 9, 5));
    tf.dispose([yt, yp, g]);
  });

  it('with the default reduction, the gradient of 0.5 * dice + bce is the parts\' gradients', () => {
    const { combo } = compile(`loss combo(y_true, y_pred) = 0.5 * dice(y_true, y_pred) + binary_crossentropy(y_true, y_pred)`);
    const make = combo as LossFactory;
    tf.tidy(() => {
      const yt = tf.tensor2d(yTrue);
      const yp = tf.tensor2d(yPred);
      const g = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => values(tf.grad((p: tf.Tensor) => f(yt, p))(yp));
      const gDice = g(losses.dice!());
      const gBce = g(losses.binary_crossentropy!());
      expectClose(g(make()), gDice.map((v, i) => 0.5 * v + gBce[i]!));
    });
  });

  describe('a .loss file that imports another and builds on the stdlib', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lossc-custom-'));
      writeFileSync(
        join(dir, 'base.loss'),
        [
          '# w * (y - q)^2, elementwise.',
          'def weighted_sq(y, q; w = 2.0) = w * (y - q)^2',
          '',
          '# Weighted mean squared error.',
          'loss weighted_mse(y_true, y_pred; w = 2.0) = mean(weighted_sq(y_true, y_pred, w = w), axis = -1)',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'mine.loss'),
        [
          'import "base.loss"',
          '',
          '# My loss: a share of the imported one, focal loss from the stdlib, and huber.',
          'loss mine(y_true, y_pred; k = 0.3) =',
          '  k * weighted_mse(y_true, y_pred, w = 3.0) + focal_loss(y_true, y_pred, gamma = 1.0) + huber(y_true, y_pred)',
          '',
        ].join('\n'),
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const hand = (k: number) =>
      yTrue.map((row, i) => {
        const wmse = 3 * mean(row.map((t, j) => (t - yPred[i]![j]!) ** 2));
        const huber = mean(row.map((t, j) => 0.5 * (t - yPred[i]![j]!) ** 2)); // |error| < delta = 1
        return k * wmse + focalHand([row], [yPred[i]!], { gamma: 1 })[0]! + huber;
      });

    it('Library.fromFile: imports resolve relative to the importing file', () => {
      const lib = Library.fromFile(join(dir, 'mine.loss'));
      expect(lib.own.map((d) => d.name)).toEqual(['mine']);
      expect(lib.get('weighted_mse')?.file).toBe(join(dir, 'base.loss'));
      for (const k of [0.3, 1]) {
        const f = makeLoss(lib, lib.require('mine').def, { k, reduction: 'none' });
        expectClose(tf.tidy(() => values(f(tf.tensor2d(yTrue), tf.tensor2d(yPred)))), hand(k));
      }
    });

    it('compile() with an import under a root, and the derivative of the combination', () => {
      const m = compile(
        `import "base.loss"
        loss mine2(y_true, y_pred) = 0.3 * weighted_mse(y_true, y_pred, w = 3.0) + focal_loss(y_true, y_pred, gamma = 1.0) + huber(y_true, y_pred)`,
        { root: dir },
      );
      const f = m.losses.mine2!({ reduction: 'none' });
      expectClose(tf.tidy(() => values(f(tf.tensor2d(yTrue), tf.tensor2d(yPred)))), hand(0.3));
      const text = m.derivative('mine2', 'y_pred').toString();
      expect(text).toContain('clip(y_pred, epsilon, 1 - epsilon)'); // focal's part
      expect(text).toMatch(/abs\(\w+\) <= 1/); // huber's where on |error| <= delta
    });

    it('a missing import names the file and where it was looked for', () => {
      const e = errorOf(() => compile(`import "nope.loss"\nloss z(y_true, y_pred) = mean(y_pred, axis = -1)`, { root: dir }));
      expect(e.kind).toBe('import');
      expect(e.message).toContain(join(dir, 'nope.loss'));
    });
  });
});

// ---- golden derivatives -------------------------------------------------------------------------

describe('printed derivatives of the custom losses', () => {
  const grad = (name: string, options: Record<string, unknown> = {}) => derivative(name, 'y_pred', { options: options as never }).toString();

  it('triplet_loss: one concat of the three parts, each 2 (x - y) terms gated by the hinge', () => {
    expect(grad('triplet_loss')).toBe(
      [
        'let [a, p, n] = split(y_pred, 3, axis = -1)',
        'let t1 = a - p',
        'let t2 = a - n',
        'let t3 = sum(t1^2, axis = -1) - sum(t2^2, axis = -1) + margin >= 0',
        'let t4 = 2 * expand_dims(where(t3, -1, 0), axis = -1)',
        'let t5 = 2 * expand_dims(where(t3, 1, 0), axis = -1)',
        'concat([t4 * t2 + t5 * t1, t5 * (p - a), t4 * (n - a)], axis = -1)',
      ].join('\n'),
    );
    expect(grad('triplet_loss', { margin: 1 })).toContain('sum(t1^2, axis = -1) - sum(t2^2, axis = -1) + 1 >= 0');
  });

  it('quadruplet_loss: four parts; the positive gets both hinges', () => {
    expect(grad('quadruplet_loss')).toBe(
      [
        'let [a, p, n1, n2] = split(y_pred, 4, axis = -1)',
        'let t1 = a - p',
        'let ap = sum(t1^2, axis = -1)',
        'let t2 = a - n1',
        'let t3 = ap - sum(t2^2, axis = -1) + margin1 >= 0',
        'let t4 = 2 * expand_dims(where(t3, -1, 0), axis = -1)',
        'let t5 = n1 - n2',
        'let t6 = ap - sum(t5^2, axis = -1) + margin2 >= 0',
        'let t7 = 2 * expand_dims(where(t6, 1, 0) + where(t3, 1, 0), axis = -1)',
        'let t8 = 2 * expand_dims(where(t6, -1, 0), axis = -1)',
        'concat([t4 * t2 + t7 * t1, t7 * (p - a), t8 * t5 + t4 * (n1 - a), t8 * (n2 - n1)], axis = -1)',
      ].join('\n'),
    );
  });

  it('contrastive_loss: 2 y d, and a where on the margin for dissimilar pairs', () => {
    expect(grad('contrastive_loss')).toBe(
      [
        'let t1 = margin - y_pred',
        'where(t1 >= 0, 2 * max(t1, 0) * (y_true - 1) / size(y_true, axis = -1), 0) + 2 * y_true * y_pred / size(y_true, axis = -1)',
      ].join('\n'),
    );
  });

  it('focal_loss from logits: sigmoid and softplus, never the log of a sigmoid', () => {
    const text = grad('focal_loss', { from_logits: true });
    expect(text).toContain('sigmoid(');
    expect(text).toContain('softplus(');
    expect(text).toContain('^(gamma - 1)');
    expect(text).toContain('alpha');
    expect(text).not.toMatch(/log\(/);
    expect(text).not.toContain('exp(');
    expect(text).not.toContain('clip(');
    // gamma 0, alpha 0.5: half the cross-entropy gradient, (sigmoid(x) - y) / 2 written with z = (1 - 2y) x.
    expect(grad('focal_loss', { from_logits: true, gamma: 0, alpha: 0.5 })).toBe(['let t1 = 1 - 2 * y_true', 'sigmoid(y_pred * t1) * t1 / 2'].join('\n'));
  });

  it('focal_loss from probabilities: zero outside the clipping range, gamma kept symbolic', () => {
    const text = grad('focal_loss');
    expect(text).toContain('clip(y_pred, epsilon, 1 - epsilon)');
    expect(text.split('\n').pop()).toMatch(/^where\(y_pred >= epsilon and y_pred <= 1 - epsilon, .*, 0\)$/);
    expect(text).toContain('^(gamma - 1)');
    expect(text).toContain('log(');
    expect(text).toContain('alpha');
  });

  it('categorical_focal_loss: exact from probabilities; gamma 0 is -alpha y / p', () => {
    expect(grad('categorical_focal_loss')).toBe(
      [
        'let p = clip(y_pred, epsilon, 1 - epsilon)',
        'let t1 = 1 - p',
        'where(y_pred >= epsilon and y_pred <= 1 - epsilon, log(p) * alpha * y_true * gamma * t1^(gamma - 1) - alpha * y_true * t1^gamma / p, 0)',
      ].join('\n'),
    );
    expect(grad('categorical_focal_loss', { gamma: 0 })).toBe('where(y_pred >= epsilon and y_pred <= 1 - epsilon, -(alpha * y_true / clip(y_pred, epsilon, 1 - epsilon)), 0)');
    expect(grad('categorical_focal_loss', { alpha: [0.2, 0.3, 0.5] })).toContain('[0.2, 0.3, 0.5]');
    // From logits: softmax as exp(x - logsumexp(x)), and the softmax Jacobian's row sum.
    const logits = grad('categorical_focal_loss', { from_logits: true });
    expect(logits).toContain('exp(y_pred - logsumexp(y_pred, axis = -1, keepdims = true))');
    expect(logits).toContain('axis = -1, keepdims = true) * q');
    expect(logits).not.toMatch(/log\(exp\(/);
  });

  it('fbeta_loss: batch-wide soft counts, beta^2 kept symbolic (and 4 = 2^2 when beta = 2)', () => {
    const text = grad('fbeta_loss');
    const lines = text.split('\n');
    expect(lines[0]).toBe('let tp = sum(y_true * y_pred)');
    expect(lines[1]).toBe('let b2 = beta^2');
    expect(text).toContain('sum(t3 * y_pred)'); // fp, with t3 = 1 - y_true
    expect(text).toContain('sum(y_true * (1 - y_pred))'); // fn
    expect(text).not.toContain('require');
    const two = grad('fbeta_loss', { beta: 2 });
    expect(two).not.toContain('beta');
    expect(two).toContain('4 * tp');
    expect(two).toContain('5 * tp');
  });

  it('batch_hard_triplet_loss: the distance matrix by matmul, gradients routed to the hardest pairs', () => {
    const text = grad('batch_hard_triplet_loss');
    expect(text).toContain('matmul(y_pred, t1)');
    expect(text).toContain('let hardest_neg = min(t4, axis = -1)');
    expect(text).toContain('let hardest_pos = max(t7, axis = -1)');
    // Entries tied for the hardest share its adjoint (TensorFlow's rule for reduce_max/min).
    expect(text).toContain('/ sum(float(t5), axis = -1, keepdims = true)');
    expect(text).toContain('where(same, inf, d)');
    expect(text).toContain('== expand_dims(hardest_neg, axis = -1)');
    expect(text).toContain('== expand_dims(hardest_pos, axis = -1)');
    expect(text.split('\n').pop()).toMatch(/^matmul\(.*\* y_pred$/);
  });

  it('regularizers: l1 * sign(w), 2 * l2 * w, their sum; orthogonal through the normalisation', () => {
    const wrtW = (name: string, options: Record<string, unknown> = {}) => derivative(name, 'w', { options: options as never }).toString();
    expect(wrtW('l1')).toBe('l1 * sign(w)');
    expect(wrtW('l2')).toBe('2 * l2 * w');
    expect(wrtW('l2', { l2: 0.01 })).toBe('w / 50');
    expect(wrtW('l1_l2')).toBe('2 * l2 * w + l1 * sign(w)');
    const rows = wrtW('orthogonal');
    expect(rows).toContain('sqrt(max(t1, epsilon^2))');
    expect(rows).toContain('factor * sign(');
    expect(rows).toContain('matmul(');
    const cols = wrtW('orthogonal', { mode: 'columns' });
    expect(cols.split('\n')[0]).toBe('let t1 = transpose(w, perm = [1, 0])');
    expect(cols.split('\n').pop()).toMatch(/^transpose\(.*, perm = \[1, 0\]\)$/);
  });

  it('printed derivatives with options fixed are valid lossc giving tf.grad of the compiled loss', () => {
    const cases: Array<[string, Record<string, unknown>, number[][], number[][]]> = [
      ['focal_loss', { from_logits: true, gamma: 2, alpha: 0.25 }, [[1, 0, 1], [0, 0, 1]], [[2, -1, 0.5], [1, -3, 0]]],
      ['focal_loss', { gamma: 3, alpha: 0.6 }, [[1, 0, 1], [0, 0, 1]], [[0.9, 0.2, 0.4], [0.7, 0.1, 0.6]]],
      ['categorical_focal_loss', { from_logits: true, gamma: 2, alpha: [0.2, 0.3, 0.5] }, [[0, 0, 1], [1, 0, 0]], [[1, 2, 3], [0.5, -1, 2]]],
      ['fbeta_loss', { beta: 2 }, [[1, 0, 1], [0, 0, 1]], [[0.9, 0.2, 0.4], [0.7, 0.1, 0.6]]],
      ['triplet_loss', { margin: 0.5 }, [[0], [0]], [[0.5, -1, 0.3, 0.2, 1.5, -0.7], [0, 0, 1, 0, 0, 1]]],
      ['quadruplet_loss', { margin1: 0.3, margin2: 2 }, [[0], [0]], [[0.2, 0.1, 0.4, -0.3, 1, 1, -1, 0.5], [0, 0, 1, 0, 0, 1, 0, 2]]],
      ['contrastive_loss', { margin: 2 }, [[1], [0], [0]], [[0.5], [0.3], [2.5]]],
    ];
    for (const [name, options, t, p] of cases) {
      const body = grad(name, options).split('\n').map((l) => `  ${l}`).join('\n');
      const m = compile(`loss printed(y_true, y_pred) =\n${body}`);
      const printed = m.fn('printed');
      tf.tidy(() => {
        const yt = tf.tensor2d(t);
        const yp = tf.tensor2d(p);
        const f = (losses as unknown as Record<string, LossFactory>)[name]!({ ...options, reduction: 'sum' });
        const want = values(tf.grad((q: tf.Tensor) => f(yt, q))(yp));
        // fbeta_loss is one number for the batch: its derivative is already the batch's.
        expectClose(values(printed(yt, yp)), want, 4);
      });
    }
  });
});

// ---- bad input ----------------------------------------------------------------------------------

describe('bad input: errors name the loss, the option or input, and the sizes', () => {
  const leakFree = (f: () => void) => {
    const before = tf.memory().numTensors;
    f();
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  };

  it('triplet_loss: y_pred whose axis 1 is not divisible by 3', () => {
    leakFree(() => {
      const e = errorOf(() => losses.triplet_loss!()(tf.zeros([2, 1]), tf.zeros([2, 10])));
      expect(e.kind).toBe('shape');
      expect(e.message).toContain('`triplet_loss`');
      expect(e.message).toContain('y_pred [2, 10]');
      expect(e.message).toContain('split into 3 along axis 1: size 10 is not divisible by 3');
      expect(errorOf(() => losses.triplet_loss!({ reduction: 'none' })(tf.zeros([4]), tf.zeros([4, 7, 3]))).message).toMatch(/triplet_loss.*y_pred \[4, 7, 3\].*size 7 is not divisible by 3/s);
    });
  });

  it('quadruplet_loss: y_pred whose axis 1 is not divisible by 4', () => {
    leakFree(() => {
      const e = errorOf(() => losses.quadruplet_loss!()(tf.zeros([3, 1]), tf.zeros([3, 6])));
      expect(e.kind).toBe('shape');
      expect(e.message).toContain('`quadruplet_loss`');
      expect(e.message).toContain('y_pred [3, 6]');
      expect(e.message).toContain('split into 4 along axis 1: size 6 is not divisible by 4');
    });
  });

  it('categorical_focal_loss: a per-class alpha of the wrong length', () => {
    leakFree(() => {
      for (const alpha of [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5]]) {
        const e = errorOf(() => losses.categorical_focal_loss!({ alpha })(tf.zeros([2, 3]), tf.zeros([2, 3])));
        expect(e.kind).toBe('shape');
        expect(e.message).toContain('`categorical_focal_loss`');
        expect(e.message).toContain('option `alpha` needs one value per class (the last axis of y_pred)');
        expect(e.message).toContain(`[${alpha.length}] does not fit [2, 3]`);
      }
      // @ts-expect-error a JS caller's wrong type, checked at run time
      expect(errorOf(() => losses.categorical_focal_loss!({ alpha: [[0.1, 0.2, 0.3]] })).message).toMatch(/option `alpha` of `categorical_focal_loss` takes a number \(or a list of numbers\)/);
    });
  });

  it('fbeta_loss: beta <= 0', () => {
    leakFree(() => {
      for (const beta of [0, -1]) {
        const e = errorOf(() => losses.fbeta_loss!({ beta })(tf.zeros([2, 1]), tf.zeros([2, 1])));
        expect(e.kind).toBe('option');
        expect(e.message).toContain('`fbeta_loss`: option `beta` must be > 0');
      }
    });
  });

  it('a regularizer applied to a non-float weight', () => {
    leakFree(() => {
      for (const name of ['l1', 'l2', 'l1_l2', 'orthogonal']) {
        for (const dtype of ['int32', 'bool'] as const) {
          const e = errorOf(() => (regularizers as unknown as Record<string, RegularizerFactory>)[name]!().apply(tf.zeros([2, 2], dtype)));
          expect(e.kind).toBe('type');
          expect(e.message).toBe(`type error: regularizer \`${name}\` needs a float weight, got a ${dtype} tensor of shape [2, 2]`);
        }
      }
    });
  });

  it('regularizer options out of range, and orthogonal on a weight that is not a matrix', () => {
    leakFree(() => {
      const w = () => tf.ones([2, 2]);
      expect(errorOf(() => regularizers.l2!({ l2: -0.1 }).apply(w())).message).toContain('`l2`: option `l2` must be >= 0');
      expect(errorOf(() => regularizers.l1!({ l1: -1 }).apply(w())).message).toContain('`l1`: option `l1` must be >= 0');
      expect(errorOf(() => regularizers.l1_l2!({ l2: -1 }).apply(w())).message).toContain('`l1_l2`: options `l1` and `l2` must be >= 0');
      expect(errorOf(() => regularizers.orthogonal!({ factor: -1 }).apply(w())).message).toContain('`orthogonal`: option `factor` must be >= 0');
      expect(errorOf(() => regularizers.orthogonal!({ mode: 'cols' }).apply(w())).message).toContain('`orthogonal`: option `mode` must be "rows" or "columns"');
      // @ts-expect-error a JS caller's typo, checked at run time
      expect(errorOf(() => regularizers.l2!({ l3: 1 })).message).toMatch(/`l2` has no option `l3` \(did you mean `l2`\?\)/);
      const e = errorOf(() => regularizers.orthogonal!().apply(tf.ones([3])));
      expect(e.kind).toBe('shape');
      expect(e.message).toContain('`orthogonal`: `w` has shape [3], expected [R, C]');
    });
  });
});
