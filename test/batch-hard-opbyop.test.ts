// batch-hard triplet on the op-by-op path (issue 13 item 5; a weighted call takes it): the adjoint
// of its row-wise max/min reaches the chain back through X Xᵀ as a scatter of the picked entries
// (sparse-kernels.ts), its column sum in one pass, and its broadcast comparisons run widened on
// wasm (compare.ts). Checked on cpu and wasm: no dense [N, N]·[N, D] product is left; gradients
// equal central differences of the float64 reference and the fused path, ties included (two-way
// ties, and the all-tie rows of an anchor with no positive or no negative); 0 · inf is kept;
// widened comparisons equal tfjs's own on special values.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import { grad } from '../src/autodiff/grad.js';
import { sparseMatmul } from '../src/compile/sparse-kernels.js';
import { widenedCompare } from '../src/compile/compare.js';
import { bothPaths, reference } from './helpers/paths.js';
import { expectAllClose, rng } from './helpers/numeric.js';
import { BATCH_HARD } from './helpers/batch-hard.js';

/** Values equal as floats, NaN equal to NaN. */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!(got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) expect.fail(`${what}[${i}]: got ${got[i]}, expected ${want[i]}`);
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm']) {
  describe(`op-by-op selections on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      await tf.ready();
    });

    it('the weighted stdlib loss runs one matmul (the Gram matrix) and equals the fused path, tied integer distances', async () => {
      const n = 24;
      const dim = 4;
      const f = losses.batch_hard_triplet_loss!();
      const r = rng(3);
      const yp = tf.tensor(Array.from({ length: n * dim }, () => Math.floor(r() * 3)), [n, dim]);
      const yt = tf.tensor(Array.from({ length: n }, (_, i) => i % 4), [n], 'int32');
      const ones = tf.ones([n]);
      const at = (w?: tf.Tensor) =>
        tf.tidy(() => {
          const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(yt, q, w) as tf.Scalar)(yp);
          return [value.dataSync()[0]!, ...grad.dataSync()];
        });
      expectAllClose(at(ones), at(), 1e-5, 'op-by-op = fused');
      const info = await tf.profile(() => at(ones));
      const products = info.kernels.filter((k) => k.name === 'BatchMatMul').map((k) => k.outputShapes[0]!.filter((d) => d !== 1).join('x'));
      expect(products).toEqual([`${n}x${n}`]);
      expect(info.kernels.filter((k) => k.name === 'Sum' && k.outputShapes[0]!.join('x') === `1x${n}`)).toHaveLength(0);
      tf.dispose([yp, yt, ones]);
    });

    it('random embeddings, two-way ties, and anchors with no positive or no negative: the float64 reference', () => {
      const r = rng(7);
      const random = Array.from({ length: 10 }, () => Array.from({ length: 3 }, () => r() * 4 - 2));
      // Anchor 0 at the origin: positives 1 and 2 at squared distance 1, negatives 3 and 4 at 4.
      const tied = [
        [0, 0],
        [1, 0],
        [0, 1],
        [2, 0],
        [0, -2],
      ];
      const cases: Array<[string, number[][], number[][]]> = [
        ['random', Array.from({ length: 10 }, (_, i) => [i % 3]), random],
        ['two-way ties', [[0], [0], [0], [1], [1]], tied],
        // label 2 has one sample (no positive: its row of where(...) is all 0, every entry tied)
        ['a lone label', [[0], [0], [1], [1], [2]], tied],
        // one label for all (no negative: min is inf, every entry tied)
        ['one label', [[0], [0], [0], [0], [0]], tied],
      ];
      for (const [what, yt, yp] of cases) {
        const want = reference(BATCH_HARD, yt, yp);
        const { fused, general } = bothPaths(BATCH_HARD, yt, yp);
        expectAllClose([general.value], [want.value], 1e-4, `${what}: op-by-op value`);
        expectAllClose(general.grad, want.grad, 1e-3, `${what}: op-by-op gradient`);
        expectAllClose(general.grad, fused.grad, 1e-5, `${what}: op-by-op = fused`);
      }
    });

    it('the scatter keeps 0 · inf and NaN: a non-finite dense operand gives the dense product', () => {
      // g: the tie-sharing adjoint of a row-wise max, sparse by structure (fused-codegen/sparse.ts).
      const x = b.input('x', [3, 4]);
      const y = b.input('y', [4, 2]);
      const [g] = grad(b.reduce('max', x, [1]), [x]);
      const left = Node.make('matmul', [g!, y]);
      const right = Node.make('matmul', [b.input('z', [2, 3]), g!]);
      const s = tf.tensor2d([0, 0.5, 0, 0.5, 1, 0, 0, 0, 0, 0, 0, 1], [3, 4]);
      for (const dense of [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [1, Infinity, 3, 4, 5, 6, -Infinity, 8],
        [1, 2, NaN, 4, 5, 6, 7, 8],
      ]) {
        const yv = tf.tensor2d(dense, [4, 2]);
        const zv = tf.tensor2d(dense.slice(0, 6), [2, 3]);
        const a = sparseMatmul(s, yv, left)!;
        const c = sparseMatmul(zv, s, right)!;
        expect(a, 'the sparse form ran').not.toBeNull();
        expectSame(a.dataSync(), tf.matMul(s, yv).dataSync(), `S·Y, Y = ${dense.join(' ')}`);
        expectSame(c.dataSync(), tf.matMul(zv, s).dataSync(), `Z·S, Z = ${dense.slice(0, 6).join(' ')}`);
        tf.dispose([yv, zv, a, c]);
      }
      // a dense operand on either side is no scatter
      const ones = tf.ones([4, 2]);
      expect(sparseMatmul(s, ones, Node.make('matmul', [x, y]))).toBeNull();
      ones.dispose();
      s.dispose();
    });

    it('widened comparisons equal tfjs\'s broadcasting ones: NaN, ±inf, ±0, ints past 2^24, bools', () => {
      const floats = [NaN, Infinity, -Infinity, 0, -0, 1, -1.5, 3e38];
      const ints = [0, 1, -1, 2 ** 24, 2 ** 24 + 1, -(2 ** 31), 7, 2 ** 31 - 1];
      const ops: Array<[string, (p: tf.Tensor, q: tf.Tensor) => tf.Tensor]> = [
        ['lt', (p, q) => tf.less(p, q)],
        ['le', (p, q) => tf.lessEqual(p, q)],
        ['gt', (p, q) => tf.greater(p, q)],
        ['ge', (p, q) => tf.greaterEqual(p, q)],
        ['eq', (p, q) => tf.equal(p, q)],
        ['ne', (p, q) => tf.notEqual(p, q)],
      ];
      const pairs: Array<[string, () => [tf.Tensor, tf.Tensor]]> = [
        ['float [8, 1] vs [1, 8]', () => [tf.tensor2d(floats, [8, 1]), tf.tensor2d(floats, [1, 8])]],
        ['float [8, 8] vs [8, 1]', () => [tf.tensor2d(floats.flatMap((v, i) => floats.map((w) => (i % 2 ? v : w))), [8, 8]), tf.tensor2d(floats, [8, 1])]],
        ['int [8, 1] vs [1, 8], small', () => [tf.tensor2d([0, 1, -1, 7, 3, 2, 5, -4], [8, 1], 'int32'), tf.tensor2d([7, 3, 0, -1, 1, 2, 2, 5], [1, 8], 'int32')]],
        ['int [8, 1] vs [1, 8], past 2^24', () => [tf.tensor2d(ints, [8, 1], 'int32'), tf.tensor2d(ints, [1, 8], 'int32')]],
        ['int [8] vs float [8, 1]', () => [tf.tensor1d([0, 1, -1, 7, 3, 2, 5, -4], 'int32'), tf.tensor2d([0, 1.5, -1, NaN, 3, Infinity, 5, -0], [8, 1])]],
        ['bool [4, 1] vs [1, 4]', () => [tf.tensor2d([true, false, true, false], [4, 1], 'bool'), tf.tensor2d([false, false, true, true], [1, 4], 'bool')]],
      ];
      for (const [what, make] of pairs) {
        const [p, q] = make();
        for (const [name, f] of ops) {
          if (p.dtype === 'bool' && name !== 'eq' && name !== 'ne') continue;
          const got = widenedCompare(f)(p, q);
          const want = f(p, q);
          expect(got.shape, `${name} ${what}`).toEqual(want.shape);
          expect(got.dtype).toBe('bool');
          expectSame(got.dataSync(), want.dataSync(), `${name} ${what}`);
          tf.dispose([got, want]);
        }
        tf.dispose([p, q]);
      }
    });
  });
}
