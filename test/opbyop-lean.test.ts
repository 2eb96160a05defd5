// The op-by-op path (a weighted call takes it; so do webgl, node and strict CSP) runs no more
// tfjs kernels for value and gradient than the tfjs built-in or a plain tfjs formula for the same
// loss, counted by tf.profile as the bench counts them (issue 13 item 3). Counts are
// deterministic; times are not and are measured by the bench only.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { Plan } from '../src/compile/plan.js';
import { fromData } from '../src/eval/ndarray.js';
import { evaluate } from '../src/eval/reference.js';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import { losses, type LossFunction } from '../src/index.js';
import { REDUCTIONS, type Reduction } from '../src/keras/wrapper.js';

type Weighted = (yt: tf.Tensor, yp: tf.Tensor, sw: tf.Tensor) => tf.Tensor;

const B = 32;
const K = 10;
const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const real = () => tf.tensor2d(fill(B * K, (i) => ((i * 53) % 97) / 25 - 2), [B, K]);
const scores = () => tf.tensor2d(fill(B * K, (i) => ((i * 31) % 89) / 22 - 2.01), [B, K]);
const logits = () => tf.tensor2d(fill(B * K, (i) => ((i * 37) % 101) / 20 - 2.5), [B, K]);
const probs = () => tf.tensor2d(fill(B * K, (i) => 0.05 + (0.9 * ((i * 37) % 101)) / 101), [B, K]);
const binary = () => tf.tensor2d(fill(B * K, (i) => ((i * 7) % 3 === 0 ? 1 : 0)), [B, K]);
const signs = () => tf.tensor2d(fill(B * K, (i) => ((i * 7) % 3 === 0 ? 1 : -1)), [B, K]);
const labels = () => tf.tensor1d(fill(B, (i) => (i * 7) % K));
const oneHot = () => tf.oneHot(tf.tensor1d(Int32Array.from({ length: B }, (_, i) => (i * 7) % K), 'int32'), K).toFloat();
const softmax = () => tf.softmax(logits());

/** A tfjs loss that takes no weights, weighted as the bench weights it: times the mean weight. */
const byMean =
  (f: (yt: tf.Tensor, yp: tf.Tensor) => tf.Tensor): Weighted =>
  (yt, yp, sw) =>
    tf.mul(f(yt, yp), tf.mean(sw));
const perSample = (sw: tf.Tensor) => sw.reshape([-1, 1]);

interface Case {
  name: string;
  lossc: () => LossFunction;
  tfjs: Weighted;
  yt: () => tf.Tensor;
  yp: () => tf.Tensor;
  /** tfjs's code computes the same loss (so values and gradients are compared too). */
  same: boolean;
  /** lossc's kernels for value and gradient on cpu and wasm, as achieved (session 6: the reduction in the loss's tape node, what it keeps not copied by Identity kernels). */
  kernels: [number, number];
}

const focal = (yt: tf.Tensor, yp: tf.Tensor) => {
  // focal_loss(gamma = 2, alpha = 0.25, from_logits = true), summed over the last axis (bench/run.ts)
  const z = tf.mul(tf.sub(tf.mul(2, yt), 1), yp);
  const at = tf.add(tf.mul(yt, 0.25), tf.mul(tf.sub(1, yt), 0.75));
  return tf.mean(tf.sum(tf.mul(tf.mul(at, tf.square(tf.sigmoid(tf.neg(z)))), tf.softplus(tf.neg(z))), -1));
};

const CASES: Case[] = [
  { name: 'mean squared error', lossc: () => losses.mean_squared_error!(), tfjs: (t, p, w) => tf.losses.meanSquaredError(t, p, perSample(w)), yt: real, yp: scores, same: true, kernels: [14, 14] },
  { name: 'mean absolute error', lossc: () => losses.mean_absolute_error!(), tfjs: (t, p, w) => tf.losses.absoluteDifference(t, p, perSample(w)), yt: real, yp: scores, same: true, kernels: [17, 17] },
  { name: 'binary cross-entropy', lossc: () => losses.binary_crossentropy!(), tfjs: byMean((t, p) => tf.mean(tf.metrics.binaryCrossentropy(t, p))), yt: binary, yp: probs, same: true, kernels: [27, 29] },
  { name: 'binary cross-entropy from logits', lossc: () => losses.binary_crossentropy!({ from_logits: true }), tfjs: (t, p, w) => tf.losses.sigmoidCrossEntropy(t, p, perSample(w)), yt: binary, yp: logits, same: true, kernels: [17, 17] },
  { name: 'categorical cross-entropy', lossc: () => losses.categorical_crossentropy!(), tfjs: byMean((t, p) => tf.mean(tf.metrics.categoricalCrossentropy(t, p))), yt: oneHot, yp: softmax, same: true, kernels: [28, 30] },
  { name: 'categorical cross-entropy from logits', lossc: () => losses.categorical_crossentropy!({ from_logits: true }), tfjs: (t, p, w) => tf.losses.softmaxCrossEntropy(t, p, w), yt: oneHot, yp: logits, same: true, kernels: [25, 25] },
  {
    name: 'sparse categorical cross-entropy',
    lossc: () => losses.sparse_categorical_crossentropy!(),
    tfjs: byMean((t, p) => tf.mean(tf.metrics.categoricalCrossentropy(tf.oneHot(tf.cast(t, 'int32'), K), p))),
    yt: labels,
    yp: softmax,
    same: true,
    kernels: [32, 35],
  },
  { name: 'focal loss from logits', lossc: () => losses.focal_loss!({ from_logits: true }), tfjs: byMean(focal), yt: binary, yp: logits, same: false, kernels: [34, 34] },
  { name: 'huber', lossc: () => losses.huber!(), tfjs: (t, p, w) => tf.losses.huberLoss(t, p, perSample(w)), yt: real, yp: scores, same: true, kernels: [24, 24] },
  { name: 'hinge', lossc: () => losses.hinge!(), tfjs: (t, p, w) => tf.losses.hingeLoss(t, p, perSample(w)), yt: signs, yp: scores, same: false, kernels: [23, 23] },
];

/** Value and gradient with respect to y_pred of `f`, as a training step takes them. */
function valueAndGrad(f: (yp: tf.Tensor) => tf.Tensor, yp: tf.Tensor): tf.Tensor[] {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => f(p) as tf.Scalar)(yp);
  return [value, grad];
}

async function kernels(f: () => tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(f);
  tf.dispose(info.result as tf.Tensor[]);
  return info.kernels.map((k) => k.name);
}

// The bench counts on wasm, where some kernels differ (one_hot: wasm's OneHot writes int32 only).
describe.each(['cpu', 'wasm'])('the op-by-op path is as lean as tfjs on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of CASES) {
    it(`${c.name}: value and gradient of a weighted call run no more kernels than tfjs's`, async () => {
      await tf.setBackend(backend);
      const [yt, yp] = [c.yt(), c.yp()];
      // all 1, as the bench weighs: tfjs's code that takes no weights is then the same loss
      const sw = tf.ones([B]);
      const loss = c.lossc();
      const ours = await kernels(() => valueAndGrad((p) => loss(yt, p, sw), yp));
      const theirs = await kernels(() => valueAndGrad((p) => c.tfjs(yt, p, sw), yp));
      expect(ours.length, `lossc: ${ours.join(' ')}\ntfjs: ${theirs.join(' ')}`).toBeLessThanOrEqual(theirs.length);
      expect(ours.length, `lossc: ${ours.join(' ')}`).toBeLessThanOrEqual(c.kernels[backend === 'cpu' ? 0 : 1]);
      if (c.same) {
        const [v, g] = valueAndGrad((p) => loss(yt, p, sw), yp);
        const [tv, tg] = valueAndGrad((p) => c.tfjs(yt, p, sw), yp);
        expect(v!.dataSync()[0]).toBeCloseTo(tv!.dataSync()[0]!, 4);
        const diff = tf.max(tf.abs(tf.sub(g!, tg!))).dataSync()[0]!;
        expect(diff).toBeLessThan(1e-5);
        tf.dispose([v!, g!, tv!, tg!]);
      }
      tf.dispose([yt, yp, sw]);
    });
  }

  it("y_true's gradient is still lossc's when asked for (alone, and with y_pred's)", async () => {
    await tf.setBackend(backend);
    const loss = losses.huber!();
    const compiled = loss.compiled;
    const [yt, yp] = [real(), scores()];
    const sw = tf.tensor1d(fill(B, (i) => 1 + (i % 2)));
    // the same loss differentiated by tfjs's tape through the plain plan
    const taped = (t: tf.Tensor, p: tf.Tensor) => tf.sum(tf.mul(compiled.applyTaped([t, p]), sw));
    const ours = (t: tf.Tensor, p: tf.Tensor) => tf.sum(tf.mul(compiled.apply([t, p]).value, sw));
    const close = (a: tf.Tensor, b: tf.Tensor) => expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    close(tf.grad((t: tf.Tensor) => ours(t, yp))(yt), tf.grad((t: tf.Tensor) => taped(t, yp))(yt));
    const both = tf.grads((t: tf.Tensor, p: tf.Tensor) => ours(t, p))([yt, yp]);
    const want = tf.grads((t: tf.Tensor, p: tf.Tensor) => taped(t, p))([yt, yp]);
    close(both[0]!, want[0]!);
    close(both[1]!, want[1]!);
    tf.dispose([yt, yp, sw, ...both, ...want]);
  });
});

/**
 * Kernels of value and gradient of the sum of a mean squared error [32, 10] call, per reduction:
 * weighted [32], masked (bool [32]), both. Session 6 (the reduction in the loss's tape node) from
 * the taped wrapper's 29/57/60 (sum_over_batch_size, mean), 24/27/30 (sum), 59/62/65
 * (mean_with_sample_weight), 20/23/26 (none).
 */
const PER_REDUCTION: Record<Reduction, [number, number, number]> = {
  sum_over_batch_size: [18, 23, 24],
  mean: [18, 23, 24],
  sum: [16, 17, 18],
  mean_with_sample_weight: [23, 24, 25],
  none: [15, 16, 17],
};

describe.each(['cpu', 'wasm'])('kernels per reduction of a weighted or masked call on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  it.each(REDUCTIONS)('%s', async (reduction) => {
    await tf.setBackend(backend);
    const [yt, yp] = [real(), scores()];
    const sw = tf.tensor1d(fill(B, (i) => 1 + (i % 3)));
    const mask = tf.tensor1d(Array.from({ length: B }, (_, i) => i % 4 !== 0), 'bool');
    const loss = losses.mean_squared_error!({ reduction });
    const calls: Array<[tf.Tensor | undefined, tf.Tensor | undefined]> = [[sw, undefined], [undefined, mask], [sw, mask]];
    const counts: number[] = [];
    for (const [w, m] of calls) counts.push((await kernels(() => valueAndGrad((p) => tf.sum(loss(yt, p, w, m && { mask: m })), yp))).length);
    const budget = PER_REDUCTION[reduction];
    counts.forEach((n, i) => expect(n, `weighted, masked, both: ${counts.join(', ')}`).toBeLessThanOrEqual(budget[i]!));
    tf.dispose([yt, yp, sw, mask]);
  });
});

describe.each(['cpu', 'wasm'])("the tfjs plans' cheaper forms give the formula's values on %s", (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  const tiny = 1.401298464324817e-45;
  const near1 = [Math.fround(1 + 2 ** -23), Math.fround(1 - 2 ** -24)];
  const xs = [NaN, Infinity, -Infinity, -0, 0, 1, -1, ...near1, tiny, -tiny, 1e-7, 0.9999999, 0.5, 2, 3.4e38, -3.4e38];

  it('x == 0 or x == 1, lo <= x and x <= hi, and where of a one-element condition', async () => {
    await tf.setBackend(backend);
    const x = b.input('x', [xs.length]);
    const [lo, hi] = [b.constant(1e-7), b.constant(1 - 1e-7)];
    const formulas = [
      Node.make('or', [b.compare('eq', x, b.constant(0)), b.compare('eq', x, b.constant(1))]),
      Node.make('and', [b.compare('ge', x, lo), b.compare('le', x, hi)]),
      b.where(Node.make('min', [Node.make('ge', [x, b.constant(-Infinity)])], { axes: [0], keepdims: false }), b.constant(2), x),
    ];
    const data = tf.tensor1d(xs);
    const got = tf.tidy(() => new Plan(formulas, [x]).run([data]).map((t) => Array.from(t.dataSync())));
    const want = evaluate(formulas, { x: fromData([xs.length], Float32Array.from(xs)) }).map((t) => Array.from(t.data));
    expect(got).toEqual(want);
    data.dispose();
  });
});
