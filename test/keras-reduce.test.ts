// Keras's steps 5–7 (mask, sample weight, reduction) run inside the loss's tape node with a
// closed-form derivative (src/keras/wrapper.ts): for every reduction, weight shape and mask,
// values and gradients (with respect to y_pred and to the sample weight, under a cotangent that
// is not 1) equal those of the taped formulation it replaced, and the gradients match central
// finite differences of the float64 reference; no tensor is leaked.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromData, sizeOf, type NdArray } from '../src/eval/ndarray.js';
import { evaluate } from '../src/eval/reference.js';
import { losses, type LossFunction } from '../src/index.js';
import { REDUCTIONS, type Reduction } from '../src/keras/wrapper.js';
import { kerasReduce64, tapedReduce } from './helpers/keras-reduce.js';
import { rng } from './helpers/numeric.js';

interface Data {
  shape: number[];
  data: number[];
}

interface Case {
  name: string;
  loss: (reduction: Reduction) => LossFunction;
  yt: Data;
  yp: Data;
  /** a tensor's data, or a number (a plain number as the weight) */
  sw?: Data | number;
  mask?: Data & { bool?: boolean };
  /** y_true is integer labels */
  labels?: boolean;
  /** the weights sum to 0: mean_with_sample_weight's result jumps there (no finite difference in the weight) */
  singular?: boolean;
  /** one number per batch: reduction none is refused */
  scalar?: boolean;
}

const r = rng(1306);
const rand = (shape: number[], lo = -2, hi = 2): Data => ({ shape, data: Array.from({ length: sizeOf(shape) }, () => Math.fround(lo + (hi - lo) * r())) });
const of = (shape: number[], data: number[]): Data => ({ shape, data });

function probabilities(rows: number, k: number): Data {
  const d: number[] = [];
  for (let i = 0; i < rows; i++) {
    const e = Array.from({ length: k }, () => 0.2 + r());
    const s = e.reduce((p, q) => p + q, 0);
    d.push(...e.map((x) => Math.fround(x / s)));
  }
  return of([rows, k], d);
}

const mse = (reduction: Reduction) => losses.mean_squared_error!({ reduction });
const scce = (reduction: Reduction) => losses.sparse_categorical_crossentropy!({ reduction, ignore_class: 0 });
const [t2, p2] = [rand([4, 3]), rand([4, 3])];
const [t3, p3] = [rand([3, 2, 3]), rand([3, 2, 3])];
const [t1, p1] = [rand([3]), rand([3])];
const labels = of([6], [1, 0, 3, 2, 0, 1]);
const probs = probabilities(6, 4);

const CASES: Case[] = [
  { name: 'no weight', loss: mse, yt: t2, yp: p2 },
  { name: 'weight [B]', loss: mse, yt: t2, yp: p2, sw: rand([4], 0, 2) },
  { name: 'weight [B, 1]', loss: mse, yt: t2, yp: p2, sw: rand([4, 1], 0, 2) },
  { name: 'weight a number', loss: mse, yt: t2, yp: p2, sw: 2.5 },
  { name: 'weight a scalar tensor', loss: mse, yt: t2, yp: p2, sw: of([], [0.5]) },
  { name: 'weights summing to 0', loss: mse, yt: t2, yp: p2, sw: of([4], [1, -1, 2, -2]), singular: true },
  { name: 'bool mask', loss: mse, yt: t2, yp: p2, mask: { ...of([4], [1, 0, 1, 1]), bool: true } },
  { name: 'float mask [B, 1] and weight [B]', loss: mse, yt: t2, yp: p2, sw: rand([4], 0, 2), mask: of([4, 1], [0, 1, 1, 0.5]) },
  { name: 'bool mask and weight [B, 1]', loss: mse, yt: t2, yp: p2, sw: rand([4, 1], 0, 2), mask: { ...of([4], [0, 1, 1, 1]), bool: true } },
  { name: 'a mask of no valid entry, and a weight', loss: mse, yt: t2, yp: p2, sw: rand([4], 0, 2), mask: { ...of([4], [0, 0, 0, 0]), bool: true } },
  { name: 'values [B, T], weight [B, T]', loss: mse, yt: t3, yp: p3, sw: rand([3, 2], 0, 2) },
  { name: 'values [B, T], weight [B, 1] and mask [B, T]', loss: mse, yt: t3, yp: p3, sw: rand([3, 1], 0, 2), mask: { ...of([3, 2], [1, 0, 1, 1, 0, 1]), bool: true } },
  { name: 'a scalar loss', loss: mse, yt: t1, yp: p1, scalar: true },
  { name: 'a scalar loss, weight a scalar tensor', loss: mse, yt: t1, yp: p1, sw: of([], [3]), scalar: true },
  { name: 'ignore_class (an output mask)', loss: scce, yt: labels, yp: probs, labels: true },
  { name: 'ignore_class and weight [B]', loss: scce, yt: labels, yp: probs, labels: true, sw: rand([6], 0, 2) },
  { name: 'ignore_class and a mask', loss: scce, yt: labels, yp: probs, labels: true, mask: { ...of([6], [1, 1, 0, 1, 1, 0]), bool: true } },
  { name: 'ignore_class, a mask and weight [B]', loss: scce, yt: labels, yp: probs, labels: true, sw: rand([6], 0, 2), mask: of([6], [1, 1, 0, 1, 1, 1]) },
];

const tensorOf = (d: Data, bool = false) => (bool ? tf.tensor(d.data, d.shape, 'bool') : tf.tensor(d.data, d.shape));
const arr = (d: Data, dtype: 'float32' | 'int32' = 'float32'): NdArray => fromData(d.shape, d.data, dtype);

/** A fixed cotangent for an output of this shape (not 1, so dy is not taken as 1 anywhere). */
const cotangent = (shape: number[]) => rand(shape, 0.5, 1.5);

/** d (sum of c times the result) / d the entries of `x`, by central differences of `f` in float64. */
function centralDifferences(f: (x: number[]) => number, x: number[]): number[] {
  return x.map((v, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    const at = (d: number) => f(x.map((y, i) => (i === k ? y + d : y)));
    return (at(h) - at(-h)) / (2 * h);
  });
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) expect.fail(`${what}, entry ${i}: ${got[i]} vs ${want[i]}`);
  }
}

// wasm's import makes it the preferred backend; the cases run on cpu, the last describe on both.
beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(CASES)('Keras reduction in the tape node: $name', (c) => {
  it.each(REDUCTIONS.filter((red) => !c.scalar || red !== 'none'))('%s: value and gradients as the taped formulation, and as finite differences of the float64 reference', (reduction) => {
    const loss = c.loss(reduction);
    const before = tf.memory().numTensors;
    const yt = c.labels ? tf.tensor(c.yt.data, c.yt.shape) : tensorOf(c.yt);
    const yp = tensorOf(c.yp);
    const swTensor = c.sw !== undefined && typeof c.sw !== 'number' ? tensorOf(c.sw) : undefined;
    const mask = c.mask ? tensorOf(c.mask, c.mask.bool) : undefined;
    const extras = mask ? { mask } : undefined;
    const outShape = tf.tidy(() => loss(yt, yp, swTensor ?? (c.sw as number | undefined), extras).shape);
    const ct = cotangent(outShape);
    const cTensor = tensorOf(ct);
    // ours, and the formulation it replaced, as functions of y_pred and the weight tensor
    const ours = (p: tf.Tensor, w?: tf.Tensor) => tf.sum(tf.mul(loss(yt, p, w ?? (c.sw as number | undefined), extras), cTensor));
    const taped = (p: tf.Tensor, w?: tf.Tensor) =>
      tf.tidy(() => {
        const { value, mask: outMask } = loss.compiled.apply([yt, p]);
        const sampleWeight = w ?? (typeof c.sw === 'number' ? tf.scalar(c.sw) : undefined);
        return tf.sum(tf.mul(tapedReduce({ values: value, outMask, inMask: mask, sampleWeight, reduction }), cTensor));
      });
    const args = swTensor ? [yp, swTensor] : [yp];
    const run = (f: (p: tf.Tensor, w?: tf.Tensor) => tf.Tensor, wrt: tf.Tensor[]) => {
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => f(xs[0]!, xs[1] ?? swTensor))(wrt);
      const out = { value: value.dataSync()[0]!, grads: grads.map((g) => Array.from(g.dataSync())) };
      tf.dispose([value, ...grads]);
      return out;
    };
    const got = run(ours, args);
    // The taped formulation had no gradient for a weight under mean_with_sample_weight (tfjs has
    // none for divide_no_nan's Equal); finite differences check that one below.
    const want = run(taped, reduction === 'mean_with_sample_weight' ? [yp] : args);
    close([got.value], [want.value], 1e-6, 1e-6, 'value against the taped formulation');
    want.grads.forEach((g, i) => close(got.grads[i]!, g, 1e-5, 1e-6, `gradient ${i} against the taped formulation`));

    // float64: the per-sample values (and output mask) of the lowered formula, then the Keras rules
    const lowered = loss.compiled.pipeline.at([c.yt.shape, c.yp.shape]).lowered;
    const objective = (p: number[], w?: number[]) => {
      const inputs = { y_true: arr(c.yt, c.labels ? 'int32' : 'float32'), y_pred: fromData(c.yp.shape, p) };
      const [values, outMask] = evaluate(lowered.mask ? [lowered.value, lowered.mask] : [lowered.value], inputs);
      const sampleWeight = w ? fromData((c.sw as Data).shape, w) : typeof c.sw === 'number' ? fromData([], [c.sw]) : undefined;
      const out = kerasReduce64(values!, reduction, { sampleWeight, inMask: c.mask && arr(c.mask), outMask });
      return out.data.reduce((s, v, i) => s + v * ct.data[i]!, 0);
    };
    const sw = swTensor ? (c.sw as Data).data : undefined;
    close([got.value], [objective(c.yp.data, sw)], 1e-5, 1e-6, 'value against the float64 reference');
    close(got.grads[0]!, centralDifferences((p) => objective(p, sw), c.yp.data), 2e-3, 1e-4, "y_pred's gradient against finite differences");
    if (sw && !(c.singular && reduction === 'mean_with_sample_weight')) close(got.grads[1]!, centralDifferences((w) => objective(c.yp.data, w), sw), 2e-3, 1e-4, "the weight's gradient against finite differences");
    tf.dispose([yt, yp, cTensor, ...(swTensor ? [swTensor] : []), ...(mask ? [mask] : [])]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a refused call under tf.grad leaks no tensor', () => {
  const refused: Array<[string, () => { loss: LossFunction; yt: tf.Tensor; yp: tf.Tensor; sw?: tf.Tensor; mask?: tf.Tensor }, string]> = [
    ['a label outside the classes, with a weight and a mask', () => ({ loss: scce('sum_over_batch_size'), yt: tf.tensor1d([1, 7, 2, 0, 1, 3]), yp: tensorOf(probs), sw: tf.ones([6]), mask: tf.ones([6], 'bool') }), 'value'],
    ['a mask of the wrong shape', () => ({ loss: mse('sum'), yt: tensorOf(t2), yp: tensorOf(p2), sw: tf.ones([4]), mask: tf.ones([2], 'bool') }), 'shape'],
    ['a weight that does not broadcast', () => ({ loss: mse('mean'), yt: tensorOf(t2), yp: tensorOf(p2), sw: tf.ones([3]) }), 'shape'],
    ['reduction none of a loss of the whole batch', () => ({ loss: mse('none'), yt: tensorOf(t1), yp: tensorOf(p1), sw: tf.ones([]) }), 'usage'],
  ];
  it.each(refused)('%s', (_name, make, kind) => {
    const { loss, yt, yp, sw, mask } = make();
    const before = tf.memory().numTensors;
    let thrown: unknown;
    try {
      tf.grad((p: tf.Tensor) => loss(yt, p, sw, mask && { mask }))(yp);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as { kind?: string } | undefined)?.kind).toBe(kind);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([yt, yp, ...(sw ? [sw] : []), ...(mask ? [mask] : [])]);
  });
});

describe("the tensors a call's tape node keeps are freed with the tape", () => {
  it.each([
    ['scce, weighted and masked', () => scce('sum_over_batch_size'), () => tf.tensor1d(labels.data), () => tensorOf(probs)],
    ['mse, weighted', () => mse('mean_with_sample_weight'), () => tensorOf(t2), () => tensorOf(p2)],
  ] as const)('%s: off the gradient path, on it, and with both inputs asked for', (_name, make, makeYt, makeYp) => {
    const loss = make();
    const [yt, yp] = [makeYt(), makeYp()];
    const sw = tf.ones([yp.shape[0]!]);
    const mask = tf.ones([yp.shape[0]!], 'bool');
    const x = tf.ones([3]);
    const before = tf.memory().numTensors;
    // recorded, but not on the path from x: its backward never runs
    tf.grad((v: tf.Tensor) => {
      loss(yt, yp, sw, { mask });
      return tf.sum(v);
    })(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.grad((p: tf.Tensor) => loss(yt, p, sw, { mask }))(yp).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(tf.grads((t: tf.Tensor, p: tf.Tensor, w: tf.Tensor) => loss(t, p, w, { mask }))([yt, yp, sw]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([yt, yp, sw, mask, x]);
  });
});

describe.each(['cpu', 'wasm'])('on %s, inputs made inside the differentiated function', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  it('are kept by the tape node after the function disposed them, and freed with the tape', async () => {
    await tf.setBackend(backend);
    const loss = mse('sum_over_batch_size');
    const [yt, yp] = [tensorOf(t2), tensorOf(p2)];
    const sw = tf.tensor1d([1, 2, 0.5, 3]);
    const before = tf.memory().numTensors;
    // y_pred, y_true and the weight are intermediates of f: disposed when f's scope ends, before the backward
    const f = (p: tf.Tensor) => loss(tf.mul(yt, 1), tf.mul(p, 2), tf.mul(sw, 1));
    const g = tf.grad(f)(yp);
    const want = tf.grad((p: tf.Tensor) => {
      const { value } = loss.compiled.apply([yt, tf.mul(p, 2)]);
      return tapedReduce({ values: value, sampleWeight: sw, reduction: 'sum_over_batch_size' });
    })(yp);
    close(g.dataSync(), want.dataSync(), 1e-6, 1e-7, 'the gradient');
    tf.dispose([g, want]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([yt, yp, sw]);
  });
});
