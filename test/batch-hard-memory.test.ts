// Memory of batch-hard triplet's fused value-and-gradient kernel (issue 13 item 5): its scratch
// (what it takes from the pool, pool.ts) grows like N·D + N·N, not like 4·N·N. The masks and the
// adjoint the sums read are cheap arithmetic, recomputed past the caches (graph.ts materialize);
// the sparse adjoint the scatter matmuls read takes the Gram matrix's buffer in place (alias.ts).


import { describe, expect, it } from 'vitest';
import { FastPath } from '../src/compile/fast.js';
import { losses } from '../src/index.js';

const BYTES = { f32: 4, f64: 8, u8: 1 } as const;

/** The scratch of the kernel at [n], [n, dim]: bytes, and the buffers of n·n elements. */
function scratch(n: number, dim: number): { bytes: number; square: number } {
  const f = losses.batch_hard_triplet_loss!();
  const shapes = [[n], [n, dim]];
  const e = new FastPath(f.compiled.pipeline, 'sum_over_batch_size').prepare(shapes);
  expect(e, 'the fused kernel is built').not.toBeNull();
  const s = e!.entry.valueAndGrad.scratchAt(shapes);
  return { bytes: s.reduce((t, x) => t + x.size * BYTES[x.kind], 0), square: s.filter((x) => x.size === n * n).length };
}

describe('batch-hard triplet: scratch linear in N·D beyond the [N, N] matrices', () => {
  it('one float32 [N, N] buffer (the Gram matrix, reused in place for the sparse adjoint) plus O(N·D), at every size', () => {
    for (const [n, dim] of [
      [2048, 32],
      [4096, 32],
      [1000, 7],
    ] as const) {
      const { bytes, square } = scratch(n, dim);
      expect(square, `N = ${n}`).toBe(1);
      // Beyond the two square buffers: a few vectors of N and matrices of N·D (float64 at most).
      const rest = bytes - 4 * n * n;
      expect(rest, `N = ${n}`).toBeGreaterThan(0);
      expect(rest, `N = ${n}`).toBeLessThanOrEqual(8 * (8 * n * dim + 16 * n));
    }
  });

  it('doubling N at fixed D: the scratch grows like N·N (one buffer), not like 4·N·N', () => {
    const a = scratch(2048, 32).bytes;
    const b = scratch(4096, 32).bytes;
    const n2 = 4096 * 4096 - 2048 * 2048;
    expect(b - a).toBeLessThan(1.2 * 4 * n2);
    expect(b - a).toBeGreaterThan(0.8 * 4 * n2);
  });
});
