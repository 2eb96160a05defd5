// Inner loops of the fused target unrolled by two (plan.ts, unrollMarked): the same elements in
// the same order at every trip count, so the same results as the loop they replace.
import { describe, expect, it } from 'vitest';
import { unrollMarked } from '../src/compile/fused-codegen/plan.js';
import { fuse } from '../src/compile/fused.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import * as b from '../src/ir/build.js';

const loop = ['  for (let v1 = 0; v1 < n; v1++) { // unroll 2', '    seen.push(v1);', '  }', '  seen.push(-1);'];

describe('unrolled inner loops', () => {
  it('visit every index once, in order, at any trip count (odd, even, 0, 1)', () => {
    const lines = unrollMarked(loop);
    expect(lines.join('\n')).toContain('unrolled by 2');
    expect(lines.join('\n')).not.toContain('// unroll 2');
    const run = new Function('n', `const seen = [];\n${lines.join('\n')}\nreturn seen;`) as (n: number) => number[];
    for (const n of [0, 1, 2, 3, 4, 7, 10]) expect(run(n)).toEqual([...Array.from({ length: n }, (_, i) => i), -1]);
  });

  it('leave unmarked lines alone', () => {
    const plain = ['for (let v0 = 0; v0 < z0; v0++) {', '  a += x[v0];', '}'];
    expect(unrollMarked(plain)).toEqual(plain);
  });

  it('a row-wise kernel gives the reference values at odd and even row lengths', () => {
    for (const cols of [1, 2, 7, 10]) {
      const x = b.input('x', [5, cols], 'float32');
      const y = b.input('y', [5, cols], 'float32');
      const d = b.sub(x, y);
      const roots = [b.reduce('mean', b.mul(d, d), [1]), b.mul(d, b.constant(2))];
      const k = fuse(roots, [x, y])!;
      if (cols > 1) expect(k.source).toContain('unrolled by 2'); // a length-1 axis has no loop
      const xs = Float32Array.from({ length: 5 * cols }, (_, i) => Math.sin(i + 1));
      const ys = Float32Array.from({ length: 5 * cols }, (_, i) => Math.cos(3 * i));
      const outs = k.run([xs, ys]);
      const want = evaluate(roots, { x: fromData([5, cols], xs, 'float32'), y: fromData([5, cols], ys, 'float32') });
      outs.forEach((o, i) => Array.from(o).forEach((g, j) => expect(g).toBeCloseTo(want[i]!.data[j]!, 6)));
    }
  });
});
