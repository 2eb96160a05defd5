// Regressions of the fuzzer's findings on the merged main of session 5 (FUZZ_FINDINGS.md, issue 10).

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, LosscError } from '../src/index.js';
import { runOne } from '../fuzz/one.js';

describe('a sparse matmul adjoint with no loop around it (seed 70765859)', () => {
  // The gradient for y_true scatters max's one-hot adjoint through the matmul; with every axis of
  // the sparse operand of size 1 there was no loop, and the generated `continue` was a SyntaxError.
  const source = 'loss f(y_true, y_pred) =\n  let v0 = matmul([[1.5, 1.5]], y_true + [[1.5], [1.5]])\n  max(v0) + mean(y_pred)\n';
  it('gives both gradients, fused as op-by-op (a weighted call)', () => {
    const f = compile(source).losses.f!();
    const t = tf.tensor([[0.25]]);
    const p = tf.tensor([[-0.5]]);
    const [fused, opByOp] = [undefined, tf.scalar(1)].map((w) => {
      const grads = tf.grads((a, b) => f(a, b, w))([t, p]);
      const out = grads.map((g) => g.arraySync() as number[][]);
      tf.dispose(grads);
      return out;
    });
    // d/dy_true of 1.5 (y + 1.5) + 1.5 (y + 1.5) is 3; d/dy_pred of mean(y_pred) is 1.
    for (const got of [fused, opByOp]) {
      expect(got![0]![0]![0]).toBeCloseTo(3, 5);
      expect(got![1]![0]![0]).toBeCloseTo(1, 5);
    }
    expect(f(t, p).dataSync()[0]).toBeCloseTo(3 * 1.75 - 0.5, 5);
    tf.dispose([t, p]);
  });
});

describe('a sum the forward computed, reused by the gradient, not recomputed in another order (seed 71708325)', () => {
  // log_softmax over one entry is exactly 0, l2_normalize divides it by its clamp ε; the gradient
  // for y_true took -(t - lse) as lse - y_pred + 1 (the sum opened), an ulp away from 0 in
  // float32, which the division by ε made 3.09 where it is 0 (the fused path, in float64, gave 0).
  const source = 'loss f(y_true, y_pred) =\n  cosine_similarity(y_true + [[2]], log_softmax(y_pred + [[-1]]))\n';
  it('gives the zero gradient on both paths', () => {
    const f = compile(source).losses.f!();
    const t = tf.tensor([[-1.6141729354858398]]);
    const p = tf.tensor([[-1.7674158811569214]]);
    for (const w of [undefined, tf.scalar(1)]) {
      const grads = tf.grads((a, b) => f(a, b, w))([t, p]);
      for (const g of grads) expect(Math.abs(g.dataSync()[0]!), w ? 'op-by-op' : 'fused').toBeLessThan(1e-6);
      tf.dispose([...grads, ...(w ? [w] : [])]);
    }
    tf.dispose([t, p]);
  });
});

describe("the fuzzer's reference where float64 overflows on the way (seed 71757580)", () => {
  // minimum(ctc, log1p(exp(ctc / 10))) at an infeasible ctc (1e5): lossc's softplus gives 1e4;
  // float64's exp(1e4) is ∞, which the minimum hid, so the reference said 1e5 and the checker
  // called lossc's right value wrong.
  it('lossc computes the stable value', () => {
    const f = compile('loss f(y_true: int[2, 2], y_pred) =\n  minimum(ctc(y_true, y_pred), log1p(exp(ctc(y_true, y_pred) / 10)))\n').losses.f!({ reduction: 'sum' });
    const t = tf.tensor([[0, 0], [3, 3]], [2, 2], 'int32');
    const p = tf.zeros([2, 2, 4]);
    const v = f(t, p);
    // The infeasible sample: ctc is lossc's 1e5, and softplus(1e4) is 1e4.
    expect(v.dataSync()[0]! - 1e4).toBeGreaterThan(0);
    expect(v.dataSync()[0]! - 1e4).toBeLessThan(10);
    tf.dispose([t, p, v]);
  });
  it('the checker does not check a value against an overflowed reference', async () => {
    const c = await runOne('well', 71757580, false);
    expect(c.verdict.kind, JSON.stringify(c.verdict)).not.toBe('fail');
  }, 60_000);
});

describe('a quotient of a quotient among the kernel sizes (seed 73748788)', () => {
  // split(part(y_pred, 0, 2), 2) at a signature [s0] has parts of size q1 = q0 / 2, q0 = s0 / 2;
  // the kernel's size binding never read q0, and every call said "the input shapes do not divide".
  it('binds the sizes, fused as op-by-op', () => {
    const f = compile('loss f(y_true, y_pred) =\n  let [p0, p1] = split(part(y_pred, 0, 2), 2)\n  logsumexp(indices(p0))\n').losses.f!();
    const t = tf.tensor([0]);
    for (const n of [4, 8, 12]) {
      const p = tf.tensor(Array.from({ length: n }, (_, i) => i + 1));
      const want = Math.log(Array.from({ length: n / 4 }, (_, i) => Math.exp(i)).reduce((a, b) => a + b, 0));
      for (const w of [undefined, tf.scalar(1)]) {
        const v = f(t, p, w);
        expect(v.dataSync()[0], `${n} entries, ${w ? 'op-by-op' : 'fused'}`).toBeCloseTo(want, 3);
        tf.dispose([v, ...(w ? [w] : [])]);
      }
      tf.dispose(p);
    }
    tf.dispose(t);
  });
});

describe("the fuzzer's checks float32 (or float64's differences) cannot pass (seeds 73729157, 73737176, 74702290, 74772937)", () => {
  // sin of an infeasible ctc (1e5, whose float32 ulp is 0.008) is decided by rounding; and past a
  // clamp at ε the derivative is divided by 1e7, so the 1e-8 left of terms that cancel exactly
  // (x/|x| over a one-entry axis) is of order 1; and ctc^4 of an infeasible ctc is 3e19, beyond
  // what float64's central differences resolve; and a mask `-2 != v` where v is -2 in float64 but
  // -1.9999999 in float32 (both paths agree): none is checked, each with its reason.
  it.each([73729157, 73737176, 74702290, 74772937])('seed %i is not a failure', async (seed) => {
    const c = await runOne('well', seed, false);
    expect(c.verdict.kind, JSON.stringify(c.verdict)).not.toBe('fail');
  }, 60_000);
});

describe('part of a huge number of parts (garbled seed 85729751)', () => {
  // split had a limit of 1024 parts; part had none, and its derivative builds the other parts:
  // part(y_pred, index = 1, parts = 1e38) hung the call.
  it('is a located limit error, as for split', () => {
    const f = compile('loss f(y_true, y_pred) = mean(part(y_pred, index = 1, parts = 1e38, axis = 0))\n').losses.f!();
    const t = tf.ones([2, 3]);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      f(t, t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LosscError);
    expect((err as LosscError).kind).toBe('limit');
    expect(String(err)).toMatch(/1:31: limit error: a part of 1e\+38 parts/);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});
