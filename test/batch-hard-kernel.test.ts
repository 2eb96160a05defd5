// The fused kernel's dense products for batch-hard triplet (issue 13 item 5): the Gram matrix
// X Xᵀ is computed 4 × 2 blocks at a time from the diagonal on and mirrored across it
// (fused-codegen/matmul.ts). The mirrored entries must be bit for bit what computing them gives:
// each entry is the float32 rounding of its k products summed in order in a double.

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { losses } from '../src/index.js';
import { Node } from '../src/ir/node.js';
import * as b from '../src/ir/build.js';
import { fuse } from '../src/compile/fused.js';
import { rng } from './helpers/numeric.js';

/** X Xᵀ of a row-major [n, d] float32 matrix, each entry summed in order in a double, rounded. */
function gram(x: Float32Array, n: number, d: number): Float32Array {
  const g = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k]! * x[j * d + k]!;
      g[i * n + j] = s;
    }
  }
  return g;
}

describe('the symmetric Gram matrix X Xᵀ, half computed and mirrored', () => {
  const x = b.input('x', ['s0', 's1']);
  const xxt = Node.make('matmul', [x, Node.make('transpose', [x], { perm: [1, 0] })]);
  const kernel = fuse([xxt], [x])!;

  it('is the symmetric form', () => {
    expect(kernel.source).toMatch(/matmul \[s0, s0\] over s1, blocked 4 x 2, symmetric/);
  });

  it('equals the entry-by-entry product bit for bit: leftover rows and columns, several mirror tiles', () => {
    const r = rng(5);
    for (const [n, d] of [
      [2, 4],
      [3, 5],
      [4, 4],
      [7, 6],
      [64, 4],
      [70, 9],
      [131, 8],
      [200, 33],
    ] as const) {
      const data = Float32Array.from({ length: n * d }, () => r() * 4 - 2);
      const [got] = kernel.run([data], undefined, [[n, d]]);
      const want = gram(data, n, d);
      let diff = 0;
      for (let q = 0; q < n * n; q++) if (!Object.is(got![q], want[q])) diff++;
      expect(diff, `[${n}, ${d}]`).toBe(0);
    }
  });
});

describe("batch-hard's two gradient products, one walk over the sparse adjoint", () => {
  it('a non-finite embedding: no zero is skipped (0 · inf is NaN), the fused path = op-by-op', () => {
    const n = 9;
    const dim = 3;
    const f = losses.batch_hard_triplet_loss!();
    const r = rng(2);
    const data = Array.from({ length: n * dim }, () => r() * 2 - 1);
    data[4] = Infinity;
    const yp = tf.tensor(data, [n, dim]);
    const yt = tf.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32');
    const ones = tf.ones([n]);
    const at = (w?: tf.Tensor) =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(yt, q, w) as tf.Scalar)(yp);
        return [value.dataSync()[0]!, ...grad.dataSync()];
      });
    const fused = at();
    const general = at(ones);
    expect(fused.some((v) => Number.isNaN(v))).toBe(true);
    fused.forEach((v, i) => {
      if (Number.isNaN(general[i]!)) expect(v, `[${i}]`).toBeNaN();
      else expect(Math.abs(v - general[i]!), `[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(general[i]!)));
    });
    tf.dispose([yp, yt, ones]);
  });
});

describe('tie counts of a max/min, counted online in its pass', () => {
  // sum(float(y == max(y))) and the same for min, y = x * 3 computed in a double: entries that
  // differ in double but not at float32 tie (eq compares at float32, as tfjs does).
  const x = b.input('x', ['s0', 's1']);
  const y = b.mul(x, b.constant(3));
  const roots = (['max', 'min'] as const).flatMap((op) => {
    const m = b.reduce(op, y, [1]);
    const count = b.reduce('sum', b.cast(b.compare('eq', y, b.expandDims(m, 1)), 'float32'), [1]);
    return [m, count];
  });
  const kernel = fuse(roots, [x])!;

  it('one pass over each row for the extremes and their ties', () => {
    expect(kernel.source).toMatch(/loops \(1\*s0\) \/ \(1\*s1\), 1 pass\(es\)/);
  });

  it('counts as eq at float32 does: near ties, NaN, ±inf, ±0, one-entry rows', () => {
    // lo, hi: neighbouring float32s whose triples differ in double but round to one float32
    const lo = Math.fround(0.2);
    const hi = new Float32Array(new Uint32Array([new Uint32Array(Float32Array.of(lo).buffer)[0]! + 1]).buffer)[0]!;
    expect(lo * 3).not.toBe(hi * 3);
    expect(Math.fround(lo * 3)).toBe(Math.fround(hi * 3));
    const rows = [
      [1, 2, 2, 0.5, 2, -1],
      [lo, 0.1, hi, lo, 0.05, 0], // the max moves from lo to hi, one float32: three ties
      [hi, 0.9, lo, hi, 0.7, 0.8], // the min moves from hi to lo: three ties
      [NaN, 1, 2, 3, 3, 0],
      [Infinity, Infinity, 1, -Infinity, -Infinity, 0],
      [0, -0, 0, -0, -0, 0],
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [5, 4, 3, 2, 1, 5],
    ];
    const c = rows[0]!.length;
    const data = Float32Array.from(rows.flat());
    const got = kernel.run([data], undefined, [[rows.length, c]]);
    rows.forEach((_row, r) => {
      const v = Array.from(data.subarray(r * c, (r + 1) * c), (e) => e * 3);
      for (const [k, pick] of [
        [0, (a: number, q: number) => Math.max(a, q)],
        [2, (a: number, q: number) => Math.min(a, q)],
      ] as const) {
        const m = v.reduce(pick, k === 0 ? -Infinity : Infinity);
        const ties = v.filter((e) => Math.fround(e) === Math.fround(m)).length;
        expect(got[k]![r], `row ${r} extreme ${k}`).toBe(Math.fround(m));
        expect(got[k + 1]![r], `row ${r} ties of ${k === 0 ? 'max' : 'min'}`).toBe(ties);
      }
    });
  });
});
