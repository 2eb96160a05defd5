// Regressions of the fuzzer's findings on the merged main of session 3 (FUZZ_FINDINGS.md, issue
// 10): the fused kernels at shape signatures (symbolic sizes, float32 scratch) against the
// float64 reference and the op-by-op path, and concat's shape check.

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, LosscError } from '../src/index.js';
import { bothPaths, reference } from './helpers/paths.js';

function expectAgree(source: string, yTrue: number[][], yPred: number[][]) {
  const ref = reference(source, yTrue, yPred);
  const { fused, general, fusedRan } = bothPaths(source, yTrue, yPred);
  expect(fusedRan, 'the unweighted call took the fused path').toBe(true);
  for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
    expect(Math.abs(got.value - ref.value), `${path} value ${got.value}, reference ${ref.value}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.value)));
    got.grad.forEach((g, i) => expect(Math.abs(g - ref.grad[i]!), `${path} gradient ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref.grad[i]!))));
  }
}

describe('a reduction read back beside the values it was taken from (seed 50435957)', () => {
  // logsumexp over an axis of size 1 is its argument; the kernel stored it as float32 and
  // subtracted it from the float64 argument, so softmax was not exactly 1 and `!= 1` held.
  const yTrue = [[-0.04065309092402458, 0.10928778350353241, -0.060287754982709885, -1.7989557981491089]];
  const yPred = [[-0.13453704118728638, 1.926949143409729, 1.2443946599960327, -1.6043593883514404]];
  it('softmax over a single entry is exactly 1', () => {
    expectAgree('loss f(y_true, y_pred) =\n  sum(where(softmax(y_true * y_true, axis = 0) != 1, 2, 1)) + mean(y_pred)\n', yTrue, yPred);
  });
  it('x - mean(x) over a single entry is exactly 0', () => {
    expectAgree('loss f(y_true, y_pred) =\n  sum(where(y_true * y_true - mean(y_true * y_true, axis = 0) == 0, 2, 1)) * mean(y_pred)\n', yTrue, yPred);
  });
});

describe('equal values, one stored as float32 and one computed in float64 (seed 50465941)', () => {
  // v + 0.25 is not a float32 here (v = 2 - 2^-23): the broadcast one was read back rounded,
  // the other compared unrounded, so `!=` held where float32 and float64 both say equal.
  const source = `loss f(y_true, y_pred) =
  let v = clip(max(y_pred), 1, 2)
  sum(maximum(min(v + [[[2, 1], [0.25, 2]]] != v + [[[0.25, 1]]], axis = 1), [[1], [-1]])) * mean(y_pred)
`;
  it('compares them at float32, as tfjs does', () => {
    expectAgree(source, [[0, 1, 0]], [[1.9999998807907104, 0.5, -0.25]]);
  });
});

describe("concat's derivative at a shape signature (seeds 50418375, 50177069 and five more)", () => {
  // The derivative for y_true (asked for through tf.grads) was built at symbolic sizes, where
  // concat of unequal parts cannot be cut: it is built at the call's sizes instead.
  const source = 'loss f(y_true, y_pred) =\n  sum(concat([max(y_true, axis = 0), [2]], axis = 0)) * mean(y_pred * y_true)\n';
  it('gives both gradients on the fused path, as on the op-by-op one', () => {
    const f = compile(source).losses.f!();
    const t = tf.tensor([
      [0.5, -1],
      [2, 0.25],
      [-0.5, 1.5],
    ]);
    const p = tf.tensor([
      [1, 2],
      [-1, 0.5],
      [0.25, -2],
    ]);
    const run = (w?: number) => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a, b, w) as tf.Scalar)([t, p]).map((g) => Array.from(g.dataSync())));
    const [fused, general] = [run(), run(1)];
    fused.forEach((g, k) => g.forEach((v, i) => expect(v).toBeCloseTo(general[k]![i]!, 5)));
    // d/d y_true of sum(concat(max(t, axis 0), 2)) · mean(p·t): the max's column and p's share.
    expect(fused[0]!.some((v) => v !== 0)).toBe(true);
    tf.dispose([t, p]);
  });
});

describe('concat checks the sizes off its axis (garbled seeds 60410155, 60412242)', () => {
  // The check was missing: tfjs's concat3D raised its own error from inside the call.
  it('a located shape error, not a tfjs one from inside the call', () => {
    const source = 'loss f(y_true, y_pred) =\n  maximum([[[[0.25], [0.5]]]], concat([[[[1.5, 1], [2, 1]]], [[[]]]])) ^ 3.0\n';
    const f = compile(source).losses.f!();
    const [t, p] = [tf.ones([2, 2]), tf.ones([2, 2])];
    let err: unknown;
    try {
      tf.tidy(() => f(t, p));
    } catch (e) {
      err = e;
    }
    tf.dispose([t, p]);
    const first = (err as { errors?: LosscError[] })?.errors?.[0] ?? err;
    expect(first).toBeInstanceOf(LosscError);
    expect((first as LosscError).kind).toBe('shape');
    expect((first as LosscError).message).toMatch(/concat along axis 2 needs the other sizes to agree: \[1, 2, 2\] and \[1, 1, 0\] differ at axis 1/);
    expect((first as LosscError).span?.line).toBe(2);
  });
});
