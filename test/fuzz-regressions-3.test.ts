// Regressions of the fuzzer's findings of session 3 (FUZZ_FINDINGS.md, issue 10): each program is
// checked on both compiled paths against the float64 reference.

import { describe, expect, it } from 'vitest';
import { bothPaths, reference } from './helpers/paths.js';

const Y_TRUE = [
  [0, 1, 0, 1],
  [1, 0, 1, 0],
];
const Y_PRED = [
  [0.5, -0.25, 1.5, 0.75],
  [-1, 0.25, 2, -0.5],
];

function expectAgree(source: string) {
  const ref = reference(source, Y_TRUE, Y_PRED);
  const { fused, general } = bothPaths(source, Y_TRUE, Y_PRED);
  for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
    expect(Math.abs(got.value - ref.value), `${path} value ${got.value}, reference ${ref.value}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.value)));
    got.grad.forEach((g, i) => {
      expect(Math.abs(g - ref.grad[i]!), `${path} gradient ${g}, reference ${ref.grad[i]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref.grad[i]!)));
    });
  }
}

describe('matmul whose batch axes broadcast (seeds 4043166, 4040220)', () => {
  // Batch axes [2, 1] against [2, 2]: tfjs's cpu kernel paired the entries wrongly (op-by-op path).
  const a = '[[[[0.5, 1.5], [0.5, 1]]], [[[0.5, 0.25], [0.5, 1.5]]]]';
  const b = '[[[[2], [1]], [[2], [0.25]]], [[[1], [1.5]], [[1], [0.5]]]]';
  it('of constants', () => expectAgree(`loss f(y_true, y_pred) =\n  mean(matmul(${a}, ${b})) + mean(y_pred)\n`));
  it('with y_pred in the broadcast operand', () => expectAgree(`loss f(y_true, y_pred) =\n  mean(matmul(${a}, ${b} * mean(y_pred)))\n`));
  it('with y_pred in the other operand', () => expectAgree(`loss f(y_true, y_pred) =\n  mean(matmul(${a} * sum(y_pred), ${b}))\n`));
});

describe('a mean that is exactly 0 (seed 50177705)', () => {
  // tfjs's mean divided each entry before summing: mean of 0.5, 1.5, -2 was -1.5e-8, so `== 0` held
  // in float64 and on the fused path but not op-by-op. The op-by-op kernel now sums, then divides.
  const c = '[[[[0.25, 0, 0], [1.5, 0.5, 1]]], [[[1, 1, 0.5], [2, 1.5, 1]]], [[[1.5, 1, 1.5], [1, -2, 1]]]]';
  it('compared with 0', () => expectAgree(`loss f(y_true, y_pred) =\n  sum(where(mean(${c}, axis = -4) == 0, 3, 1)) * sum(y_pred * y_true)\n`));
});
