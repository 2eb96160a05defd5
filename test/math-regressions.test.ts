// Wrong gradients and stabilisation gaps that random programs found (issue 10, items 1-4 and
// 10-12), each checked on both compiled paths: the fused target on cpu (no sample weight) and
// the op-by-op tfjs path (a sample weight of 1), value and gradient against the float64
// reference evaluator and its central differences, or against the value a person computes.

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, derivative, Library } from '../src/index.js';
import * as b from '../src/ir/build.js';
import { grad } from '../src/autodiff/grad.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import { rewrite } from '../src/rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../src/rewrite/rules.js';
import { printExpr } from '../src/print/text.js';
import { topoSort } from '../src/ir/node.js';
import { bothPaths, reference, type ValueAndGrad } from './helpers/paths.js';
import { expectAllClose, numericGrad } from './helpers/numeric.js';
import { sig } from './helpers/source.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const loss = (body: string) => `loss f(y_true, y_pred) = ${body}`;

/** Both paths agree with `want` (value and gradient) to float32 precision. */
function expectPaths(src: string, yTrue: number[][], yPred: number[][], want: ValueAndGrad, rtol = 1e-4): void {
  const { fusedRan, ...got } = bothPaths(src, yTrue, yPred);
  expect(fusedRan, `the fused kernel ran for ${src}`).toBe(true);
  for (const [path, r] of Object.entries(got)) {
    expectAllClose([r.value], [want.value], rtol, `${path} value of ${src}`);
    expectAllClose(r.grad, want.grad, rtol, `${path} gradient of ${src}`);
  }
}

/** Both paths agree with the float64 reference and its central differences. */
function expectReference(src: string, yTrue: number[][], yPred: number[][], rtol = 1e-4): void {
  expectPaths(src, yTrue, yPred, reference(src, yTrue, yPred), rtol);
}

describe('item 1: the product normal form adds up a difference flipped by a negative coefficient', () => {
  const src = loss('sum((-y_pred * (y_pred - y_true))^2, axis = -1)');

  it('prints the derivative with t1^2 in the second term', () => {
    expect(compile(src).derivative('f', 'y_pred').toString()).toBe(['let t1 = y_pred - y_true', '2 * y_pred^2 * t1 + 2 * y_pred * t1^2'].join('\n'));
  });

  it('value and gradient on both paths agree with finite differences of the reference', () => {
    expectReference(src, [[1, 2, -0.5], [0.3, 0, 2]], [[0.5, 3, 1.5], [-1, 0.7, 0.2]]);
  });

  it('the printed derivative, evaluated by the float64 reference, is the finite-difference gradient', () => {
    const d = derivative('f', 'y_pred', { library: Library.fromSource(src), signature: sig({ y_true: [2, 3], y_pred: [2, 3] }) });
    const inputs = { y_true: fromData([2, 3], [1, 2, -0.5, 0.3, 0, 2]), y_pred: fromData([2, 3], [0.5, 3, 1.5, -1, 0.7, 0.2]) };
    const got = evaluate(d.grads, inputs)[0]!.data;
    expectAllClose(got, numericGrad(d.lowered.value, 'y_pred', inputs), 1e-6, 'd/dy_pred');
  });
});

describe('item 3: a loss that returns one of its inputs gets its gradient once', () => {
  const yt = [[1, 2], [3, 4]];
  const yp = [[0.5, -1], [2, 3]];

  it('loss f = y_pred: 0.25 per entry of a [2, 2] batch, on both paths', () => {
    expectPaths(loss('y_pred'), yt, yp, { value: 1.125, grad: [0.25, 0.25, 0.25, 0.25] });
  });

  it('through view-like kernels that return their argument, and an input read by two outputs', () => {
    for (const body of ['y_pred', 'float(y_pred)', 'sum(y_pred, axis = [])', 'squeeze(expand_dims(y_pred, axis = 0), axis = 0)', 'y_pred + 0 * y_true']) {
      expectReference(loss(body), yt, yp);
    }
    // y_true and y_pred both get the seed itself as their gradient.
    const f = compile(loss('y_pred + y_true')).losses.f!();
    const [gt, gp] = tf.tidy(() => tf.grads((t: tf.Tensor, p: tf.Tensor) => f(t, p, 1) as tf.Scalar)([tf.tensor(yt), tf.tensor(yp)]).map((g) => Array.from(g.dataSync())));
    expect(gt).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(gp).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('the per-sample function of compile(...).fn, which does no reduction', () => {
    const fn = compile(loss('y_pred')).fn('f');
    const g = tf.tidy(() => Array.from(tf.grad((p: tf.Tensor) => tf.sum(fn(tf.tensor(yt), p)))(tf.tensor(yp)).dataSync()));
    expect(g).toEqual([1, 1, 1, 1]);
  });
});

describe('item 4: ties in max and min share the adjoint (TensorFlow\'s rule)', () => {
  const yt = [[0, 0, 0], [0, 0, 0]];
  const yp = [[1, 2, 3], [-1, 0.5, 4]];

  it('max of a row of equal values: the gradient of the sum it equals, on both paths', () => {
    for (const op of ['max', 'min']) {
      const src = loss(`${op}(broadcast_like(sum(y_pred, axis = -1, keepdims = true), y_pred), axis = -1)`);
      expectPaths(src, yt, yp, { value: (6 + 3.5) / 2, grad: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] });
      expectReference(src, yt, yp);
    }
  });

  it('partial ties: the tied entries split the adjoint, the others get none', () => {
    const src = loss('max(y_pred, axis = -1)');
    const ties = [[2, 2, 1], [0, 3, 3]];
    expectPaths(src, yt, ties, { value: 2.5, grad: [0.25, 0.25, 0, 0, 0.25, 0.25] });
    expectPaths(loss('min(y_pred, axis = -1)'), yt, ties, { value: 0.5, grad: [0, 0, 0.5, 0.5, 0, 0] });
  });

  it('the derivative as IR, evaluated by the reference, is TensorFlow\'s rule over several axes', () => {
    const x = b.input('x', [2, 2, 3]);
    const data = [1, 5, 5, 5, 0, 2, 4, 4, 4, 4, -1, 4];
    for (const axes of [[2], [1, 2], [0, 1, 2], [0]]) {
      const [g] = grad(b.reduce('max', x, axes), [x]);
      const got = evaluate([g!], { x: fromData([2, 2, 3], data) })[0]!.data;
      // TensorFlow: indicators = (x == max), divided by their count along the axes.
      const want = tfRule(data, [2, 2, 3], axes);
      expectAllClose(got, want, 1e-12, `max over ${axes}`);
    }
  });
});

/** tf.reduce_max's gradient (TensorFlow's _MinOrMaxGrad) for a seed of ones, in plain JS. */
function tfRule(data: number[], shape: number[], axes: number[]): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
  const keyOf = (i: number) => shape.map((d, k) => (axes.includes(k) ? 0 : Math.floor(i / strides[k]!) % d)).join(',');
  const max = new Map<string, number>();
  data.forEach((v, i) => max.set(keyOf(i), Math.max(max.get(keyOf(i)) ?? -Infinity, v)));
  const count = new Map<string, number>();
  data.forEach((v, i) => v === max.get(keyOf(i)) && count.set(keyOf(i), (count.get(keyOf(i)) ?? 0) + 1));
  return data.map((v, i) => (v === max.get(keyOf(i)) ? 1 / count.get(keyOf(i))! : 0));
}

describe('item 10: a hand-written softmax cross-entropy is stable on both paths', () => {
  const src = loss('-sum(y_true * log(exp(y_pred) / sum(exp(y_pred), axis = -1, keepdims = true)), axis = -1)');
  const stdlib = 'loss f(y_true, y_pred) = categorical_crossentropy(y_true, y_pred, from_logits = true)';

  it('at logits [0.3, 200, 0.9] and [0.3, 1e4, 0.9]: the stdlib loss\'s value and gradient', () => {
    for (const big of [200, 1e4]) {
      const yp = [[0.3, big, 0.9]];
      const yt = [[1, 0, 0]];
      // -log softmax_0 = logsumexp - 0.3 = big - 0.3; d/dx = softmax - y = [-1, 1, 0] (to float32)
      const want = { value: big - 0.3, grad: [-1, 1, 0] };
      expectPaths(src, yt, yp, want, 1e-6);
      expectPaths(stdlib, yt, yp, want, 1e-6);
    }
  });

  it('at moderate logits: as the reference', () => {
    expectReference(src, [[1, 0, 0], [0, 0.3, 0.7]], [[0.3, 2, -0.9], [1, -2, 0.5]]);
  });

  it('the stabilised value is a fixed point of every stabilising rule, with no log(exp(...)) left', () => {
    const x = b.input('x', [2, 3]);
    const naive = b.log(b.div(b.exp(x), b.reduce('sum', b.exp(x), [1], true)));
    const [stable] = rewrite([naive], STABILIZE_RULES);
    expect(printExpr(stable!)).toBe('x - logsumexp(x, axis = -1, keepdims = true)');
    expect(rewrite([stable!], STABILIZE_RULES)[0]).toBe(stable);
    expect(topoSort([stable!]).some((n) => n.op === 'log' && n.args[0]!.op === 'exp')).toBe(false);
  });
});

describe('item 11: constants fold in float64, after the stabilising rewrites', () => {
  it('log(1 + exp(100)) is 100, as log(1 + exp(y_pred)) at 100 is', () => {
    expectPaths(loss('y_pred + log(1 + exp(100))'), [[0]], [[1]], { value: 101, grad: [1] }, 1e-6);
    expectPaths(loss('log(1 + exp(y_pred))'), [[0]], [[100]], { value: 100, grad: [1] }, 1e-6);
    expectPaths(loss('y_pred * log(exp(-200) + exp(-201))'), [[0]], [[1]], { value: -200 + Math.log1p(Math.exp(-1)), grad: [-200 + Math.log1p(Math.exp(-1))] }, 1e-6);
  });

  it('a constant that float32 cannot hold is left for the expression around it', () => {
    const [folded] = rewrite([b.log(b.add(b.constant(1), b.exp(b.constant(100))))], ALL_RULES);
    expect(printExpr(folded!)).toBe('100');
    const [ratio] = rewrite([b.div(b.exp(b.constant(100)), b.exp(b.constant(99)))], ALL_RULES);
    expect(ratio!.op).toBe('const');
    expect(ratio!.attrs.value).toBe(Math.fround(Math.E));
    // Still folded when float32 holds the value: 2 + 3, exp(0).
    expect(printExpr(rewrite([b.add(b.constant(2), b.exp(b.constant(0)))], ALL_RULES)[0]!)).toBe('3');
  });
});

describe('item 12: log-add-exp and the Euclidean norm at zero', () => {
  it('log((exp(d) + exp(-d)) / 2) is finite at |d| = 100 and 1e4, with the gradient tanh(d)', () => {
    const src = loss('log((exp(y_pred - y_true) + exp(-(y_pred - y_true))) / 2)');
    for (const d of [100, -100, 1e4, -1e4]) {
      expectPaths(src, [[0]], [[d]], { value: Math.abs(d) - Math.log(2), grad: [Math.sign(d)] }, 1e-6);
    }
    // At 0 the two exponentials tie: the gradient is tanh(0) = 0.
    expectPaths(src, [[0.5]], [[0.5]], { value: 0, grad: [0] }, 1e-6);
    expectReference(src, [[0, 1], [2, -1]], [[0.3, -0.4], [1.5, 2]]);
    expectReference(loss('log(exp(y_pred) + exp(2 * y_true))'), [[0, 1], [2, -1]], [[0.3, -0.4], [1.5, 2]]);
    // Printed, the two branches of the where are one: 2 sigmoid(2d) - 1 = tanh(d).
    expect(compile(src).derivative('f', 'y_pred').toString()).toBe(['let t1 = 2 * y_pred', 'let t2 = 2 * y_true', 'sigmoid(t1 - t2) - sigmoid(t2 - t1)'].join('\n'));
  });

  it('sqrt(sum((a - b)^2)) has the gradient 0 at a = b (a subgradient), its usual one elsewhere', () => {
    for (const body of ['sqrt(sum((y_pred - y_true)^2, axis = -1))', 'norm(y_pred - y_true)', 'sqrt((y_pred - y_true)^2)', 'sqrt(sum(y_pred * y_pred, axis = -1))']) {
      const src = loss(body);
      const at = [[1, 2], [0, 0]];
      const { fusedRan, ...got } = bothPaths(src, at, at);
      expect(fusedRan, body).toBe(true);
      const zero = body.includes('y_true') ? [0, 0, 0, 0] : [0.4472135954999579 / 2, 0.8944271909999159 / 2, 0, 0];
      for (const [path, r] of Object.entries(got)) expectAllClose(r.grad, zero, 1e-6, `${path} gradient of ${body} at a = b`);
      expectReference(src, [[1, 2], [0.5, -1]], [[0.5, 3], [1, 1]]);
    }
    expect(compile(loss('norm(y_pred - y_true)')).derivative('f', 'y_pred').toString()).toContain('where(t3, 0, 1 / (2 * sqrt(where(t3, 1, t2))))');
  });
});

describe('found while checking these on random formulas', () => {
  it('the fused softmax share reads its scratch array per element when the logits are constant along the row', () => {
    // The gradient of logsumexp(x) is exp(x - logsumexp(x)), which the fused kernel takes from the
    // logsumexp's own exponentials; with x the same along the row it was hoisted out of the row's
    // loop, reading the scratch array at an undefined index ("v0 is not defined").
    const yt = [[1, 2, 3], [0, 0, 0]];
    const yp = [[0.5, 1, 2], [-1, 0.3, 0.2]];
    expectReference(loss('logsumexp(broadcast_like(sum(y_pred, axis = -1, keepdims = true), y_pred), axis = -1)'), yt, yp);
    expectReference(loss('y_pred - 3 + broadcast_like(logsumexp(broadcast_like(sum(y_true - y_pred, axis = -1, keepdims = true), y_pred), axis = -1, keepdims = true), y_pred)'), yt, yp);
  });

  it('sign of NaN is NaN on the op-by-op path too, as on the fused target and in the reference', () => {
    // abs(log(x)) at x < 0: the value is NaN, and so is its gradient sign(NaN) / x on both paths.
    const { fused, general } = bothPaths(loss('abs(log(y_pred))'), [[0, 0]], [[-1, 2]]);
    expect(fused.grad[0]).toBeNaN();
    expect(general.grad[0]).toBeNaN();
    expectAllClose([fused.grad[1]!, general.grad[1]!], [0.25, 0.25], 1e-6, 'd/dx abs(log(x)) at 2');
  });
});
