// Sparse gradients for selections (issue 13 item 5): the adjoint of a row-wise max/min reaching a
// matmul (the chain back through a distance matrix X Xᵀ) is a scatter of the picked entries, ties
// sharing it, on the fused target. Checked: the generated kernel has no dense [N, N]·[N, D]
// product left; gradients equal central differences of the float64 reference (with ties, where
// differences and TensorFlow's rule agree: two-way ties); the fused target equals the op-by-op path.

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FastPath } from '../src/compile/fast.js';
import { isSparse } from '../src/compile/fused-codegen/sparse.js';
import { losses } from '../src/index.js';
import * as b from '../src/ir/build.js';
import { grad } from '../src/autodiff/grad.js';
import { bothPaths, reference } from './helpers/paths.js';
import { expectAllClose, rng } from './helpers/numeric.js';
import { BATCH_HARD } from './helpers/batch-hard.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The headers of the nests of batch_hard_triplet_loss's value-and-gradient kernel at [n, dim]. */
function nestHeaders(n: number, dim: number): string[] {
  const f = losses.batch_hard_triplet_loss!();
  const e = new FastPath(f.compiled.pipeline, 'sum_over_batch_size').prepare([[n], [n, dim]]);
  expect(e, 'the fused kernel is built').not.toBeNull();
  return e!.entry.valueAndGrad.source.split('\n').filter((l) => /\/\/ nests? /.test(l));
}

describe('the adjoint of a selection into a matmul is a scatter', () => {
  it('batch_hard_triplet_loss: the one dense [N, N, D] product is the distance matrix, both gradient products are sparse', () => {
    // The kernel serves every batch size and dimension (N = s0, D = s1), so its dense product is
    // chosen at a typical size: the blocked matmul, run at D = 3 and D = 5 alike.
    for (const dim of [3, 5]) {
      const headers = nestHeaders(12, dim);
      // A dense product is a nest over [I, J, K] or a blocked matmul.
      const dense = headers.filter((h) => /: \[[\w*]+, [\w*]+, [\w*]+\]/.test(h) || h.includes('blocked'));
      expect(dense, `D = ${dim}`).toHaveLength(1);
      expect(dense[0]).toMatch(/matmul \[s0, s0\] over s1, blocked/);
      // both products in one walk over the adjoint's nonzero entries
      const sparse = headers.filter((h) => h.includes('sparse matmul'));
      expect(sparse).toHaveLength(1);
      expect(sparse[0]).toMatch(/nests \d+, \d+: sparse matmul \[s0, s1\] and \[s1, s0\]/);
      // The adjoint's column sums (the |y_j|² terms) recompute it: no [N, N] buffer of it is kept.
      expect(headers.some((h) => h.includes('sum over the rows of [s0, s0]'))).toBe(false);
    }
  });

  it('memory: past the caches, cheap values read twice are recomputed, not kept as [N, N] buffers', () => {
    const f = losses.batch_hard_triplet_loss!();
    const shapes = [[1024], [1024, 4]];
    const e = new FastPath(f.compiled.pipeline, 'sum_over_batch_size').prepare(shapes);
    const big = e!.entry.valueAndGrad.scratchAt(shapes).filter((s) => s.size === 1024 * 1024);
    // The Gram matrix, whose buffer the adjoint the matmuls read reuses in place (alias.ts; float32, as every float target's
    // buffer); the masks and the adjoint the sums read are recomputed (cheap arithmetic).
    expect(big.filter((s) => s.kind === 'f32')).toHaveLength(1);
    expect(big).toHaveLength(1);
  });

  it('structure: the tie-sharing adjoint of max/min and what it flows through are sparse; a dense operand is not', () => {
    const x = b.input('x', [5, 4]);
    const m = b.input('m', [5, 4]);
    for (const op of ['max', 'min'] as const) {
      const [g] = grad(b.reduce(op, x, [1]), [x]);
      expect(isSparse(g!), `${op}'s adjoint`).toBe(true);
      expect(isSparse(b.mul(b.neg(b.mul(b.constant(2), g!)), m))).toBe(true);
      expect(isSparse(b.add(g!, m))).toBe(false);
    }
    expect(isSparse(b.where(b.compare('gt', x, b.constant(0)), x, b.constant(0)))).toBe(false);
    expect(isSparse(b.mul(x, m))).toBe(false);
  });
});

describe('dense matmuls, blocked 4 x 2 on the fused target', () => {
  it('odd sizes (the blocks\' leftover rows and columns), an operand transposed: both paths equal the reference', () => {
    const r = rng(11);
    const src = 'loss f(y_true, y_pred) = sum(matmul(y_pred, transpose(y_true)) ^ 2, axis = -1) + sum(matmul(transpose(y_pred), y_pred), axis = 0)';
    const yt = Array.from({ length: 3 }, () => Array.from({ length: 7 }, () => r() * 2 - 1));
    const yp = Array.from({ length: 7 }, () => Array.from({ length: 7 }, () => r() * 2 - 1));
    const want = reference(src, yt, yp);
    const { fusedRan, fused, general } = bothPaths(src, yt, yp);
    expect(fusedRan).toBe(true);
    for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
      expectAllClose([got.value], [want.value], 1e-4, `${path} value`);
      expectAllClose(got.grad, want.grad, 1e-3, `${path} gradient`);
    }
  });
});

describe('gradients through the sparse form', () => {
  const labels = (n: number, k: number) => Array.from({ length: n }, (_, i) => [i % k]);

  it('random embeddings: both paths equal the float64 reference and its central differences', () => {
    const r = rng(7);
    const yp = Array.from({ length: 10 }, () => Array.from({ length: 3 }, () => r() * 4 - 2));
    const yt = labels(10, 3);
    const want = reference(BATCH_HARD, yt, yp);
    const { fusedRan, fused, general } = bothPaths(BATCH_HARD, yt, yp);
    expect(fusedRan).toBe(true);
    for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
      expectAllClose([got.value], [want.value], 1e-4, `${path} value`);
      expectAllClose(got.grad, want.grad, 1e-3, `${path} gradient`);
    }
    expectAllClose(fused.grad, general.grad, 1e-5, 'fused = op-by-op');
  });

  it('two-way ties for the hardest positive and negative: the tied entries share the adjoint', () => {
    // Anchor 0 at the origin; its positives 1 and 2 both at squared distance 1, its negatives 3
    // and 4 both at 4 (two-way ties, where central differences give TensorFlow's 1/2 each).
    const yp = [
      [0, 0],
      [1, 0],
      [0, 1],
      [2, 0],
      [0, -2],
    ];
    const yt = [[0], [0], [0], [1], [1]];
    const want = reference(BATCH_HARD, yt, yp);
    const { fusedRan, fused, general } = bothPaths(BATCH_HARD, yt, yp);
    expect(fusedRan).toBe(true);
    for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
      expectAllClose([got.value], [want.value], 1e-4, `${path} value`);
      expectAllClose(got.grad, want.grad, 1e-3, `${path} gradient`);
    }
    // Anchor 0's share: d/d y_0 of (hp - hn) / 5 = (-2 (y_1 + y_2) / 2 + 2 (y_3 + y_4) / 2) / 5 plus
    // what anchor 0 receives as the others' positive or negative; the reference checks the total.
    expectAllClose(fused.grad, general.grad, 1e-5, 'fused = op-by-op');
  });

  it('the stdlib loss with integer labels, fused = op-by-op (sample weight 1) at a size with ties', () => {
    const n = 24;
    const f = losses.batch_hard_triplet_loss!();
    const r = rng(3);
    // Integer coordinates: many tied distances.
    const yp = tf.tensor(Array.from({ length: n * 4 }, () => Math.floor(r() * 3)), [n, 4]);
    const yt = tf.tensor(Array.from({ length: n }, (_, i) => i % 4), [n], 'int32');
    const at = (w?: tf.Tensor) =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(yt, q, w) as tf.Scalar)(yp);
        return [value.dataSync()[0]!, ...grad.dataSync()];
      });
    const ones = tf.ones([n]);
    expectAllClose(at(), at(ones), 1e-5, 'fused = op-by-op');
    tf.dispose([yp, yt, ones]);
  });
});
