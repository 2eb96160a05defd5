// Shape and dtype inference (src/ir/shape.ts, the `infer` of each op in src/ir/ops.ts): NumPy
// broadcasting, reductions over negative axes with and without keepdims, symbolic dimensions
// such as the batch size N, layout ops, and the errors when shapes do not fit.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import { broadcastShapes, dimProduct, divideDim, normAxes, normAxis, numElements, reducedShape, showShape, type Shape } from '../src/ir/shape.js';
import { evaluate } from '../src/eval/reference.js';
import { randomInputs, rng } from './helpers/numeric.js';
import { expectError, lowerSource, sig } from './helpers/source.js';

const inp = (name: string, shape: Shape, dtype: 'float32' | 'int32' | 'bool' = 'float32') => b.input(name, shape, dtype);
const c = b.constant;

describe('broadcasting', () => {
  it('follows NumPy: align from the right, 1 stretches, missing axes are added', () => {
    expect(broadcastShapes([[3, 1], [1, 4]])).toEqual([3, 4]);
    expect(broadcastShapes([[2, 3, 4], [4]])).toEqual([2, 3, 4]);
    expect(broadcastShapes([[], [5]])).toEqual([5]);
    expect(broadcastShapes([[5, 1, 3], [4, 1]])).toEqual([5, 4, 3]);
    expect(broadcastShapes([[1], [1]])).toEqual([1]);
  });

  it('symbolic dims: a symbol meets itself or 1; a symbol meeting a number takes the number', () => {
    expect(broadcastShapes([['N', 'D'], ['N', 1]])).toEqual(['N', 'D']);
    expect(broadcastShapes([['N', 'D'], ['D']])).toEqual(['N', 'D']);
    expect(broadcastShapes([['N', 1], [1, 'C']])).toEqual(['N', 'C']);
    expect(broadcastShapes([['N', 'D'], ['N', 3]])).toEqual(['N', 3]);
  });

  it('incompatible known sizes are a shape error naming both shapes and the axis', () => {
    expectError(() => broadcastShapes([[3, 4], [3]], 'operands of `+`'), 'shape', 'shapes [3, 4] and [3] of the operands of `+` cannot broadcast', 'dimension -1 is 4');
    expectError(() => b.add(inp('x', ['N', 3]), inp('y', ['N', 4])), 'shape', '[N, 3] and [N, 4]');
    expectError(() => b.where(b.compare('gt', inp('x', [2]), c(0)), inp('y', [3]), c(0)), 'shape', 'arguments of `where`');
  });

  it('elementwise ops give the broadcast shape; comparisons give bools', () => {
    const x = inp('x', ['N', 1]);
    const y = inp('y', [5]);
    expect(b.mul(x, y).shape).toEqual(['N', 5]);
    const cmp = b.compare('lt', x, y);
    expect([cmp.shape, cmp.dtype]).toEqual([['N', 5], 'bool']);
    expect(b.clip(x, c(0), y).shape).toEqual(['N', 5]);
    expect(b.exp(x).shape).toEqual(['N', 1]);
  });

  it('agrees with the evaluator on random concrete shapes', () => {
    const dim = fc.constantFrom(1, 2, 3);
    fc.assert(
      fc.property(fc.array(dim, { maxLength: 3 }), fc.array(dim, { maxLength: 3 }), (s1, s2) => {
        const x = inp('bx', s1);
        const y = inp('by', s2);
        let inferred: Shape;
        try {
          inferred = b.add(x, y).shape;
        } catch {
          // Then the evaluator must refuse too.
          expect(() => evaluate([Node.make('add', [x, y])], randomInputs([x, y], rng(1)))).toThrow();
          return;
        }
        const v = evaluate([b.add(x, y)], randomInputs([x, y], rng(1)))[0]!;
        expect(v.shape).toEqual(inferred);
      }),
      { numRuns: 200 },
    );
  });
});

describe('reductions', () => {
  const x = inp('x', ['N', 'T', 'D']);

  it('negative axes count from the end; axes are stored normalised and sorted', () => {
    const s = b.reduce('sum', x, [-1, 0]);
    expect(s.shape).toEqual(['T']);
    expect(s.attrs.axes).toEqual([0, 2]);
    expect(b.reduce('mean', x, [-2]).shape).toEqual(['N', 'D']);
  });

  it('keepdims keeps reduced axes as size 1', () => {
    expect(b.reduce('sum', x, [-1], true).shape).toEqual(['N', 'T', 1]);
    expect(b.reduce('max', x, [0, -1], true).shape).toEqual([1, 'T', 1]);
    expect(b.reduce('logsumexp', x, null, true).shape).toEqual([1, 1, 1]);
  });

  it('no axis (none) reduces every axis to a scalar', () => {
    expect(b.reduce('mean', x, null).shape).toEqual([]);
    expect(b.reduce('min', x, null).attrs.axes).toEqual([0, 1, 2]);
  });

  it('an axis out of range, or repeated, is a shape error', () => {
    expectError(() => b.reduce('sum', x, [3]), 'shape', 'axis 3 is out of range for a tensor of rank 3 (valid: -3 to 2)');
    expectError(() => b.reduce('sum', x, [-4]), 'shape', 'out of range');
    expectError(() => b.reduce('sum', x, [1, -2]), 'shape', 'repeats an axis');
    expectError(() => b.reduce('sum', c(1), [0]), 'shape', 'a scalar has no axes');
    expectError(() => b.reduce('sum', x, [0.5]), 'shape', 'must be an integer');
  });

  it('max and min keep int and bool dtypes; sum and mean need floats (ints convert)', () => {
    const l = inp('l', ['N'], 'int32');
    expect(b.reduce('max', l, null).dtype).toBe('int32');
    expect(b.reduce('min', b.compare('gt', x, c(0)), [-1]).dtype).toBe('bool');
    expect(b.reduce('sum', l, null).dtype).toBe('float32');
    expectError(() => Node.make('sum', [l], { axes: null }), 'type', 'needs float tensors');
  });

  it('the reference evaluator gives the inferred shapes', () => {
    const cx = inp('cx', [2, 3, 4]);
    for (const [axes, keep] of [[[-1], false], [[0, 2], true], [null, false], [[1], true]] as const) {
      const n = b.reduce('sum', cx, axes as number[] | null, keep);
      expect(evaluate([n], randomInputs([n], rng(2)))[0]!.shape).toEqual(n.shape);
    }
  });

  it('shape helpers', () => {
    expect(reducedShape(['N', 3, 4], [0, 2], false)).toEqual([3]);
    expect(reducedShape(['N', 3, 4], [0, 2], true)).toEqual([1, 3, 1]);
    expect(normAxes(null, 3)).toEqual([0, 1, 2]);
    expect(normAxes([-1, 0], 3)).toEqual([0, 2]);
    expect(normAxis(-1, 1)).toBe(0);
    expect(numElements([2, 3])).toBe(6);
    expect(numElements(['N', 3])).toBeUndefined();
    expect(showShape(['N', 3])).toBe('[N, 3]');
  });
});

describe('symbolic dimensions', () => {
  it('products and divisions stay symbolic', () => {
    expect(dimProduct(['N', 3, 'D'])).toBe('3*N*D');
    expect(dimProduct([2, 3])).toBe(6);
    expect(dimProduct(['D+E', 'N'])).toBe('(D+E)*N');
    expect(divideDim(6, 3, 'split')).toBe(2);
    expect(divideDim('D', 2, 'split')).toBe('D/2');
    expect(divideDim('6*D', 3, 'split')).toBe('2*D');
    expect(divideDim('3*D', 3, 'split')).toBe('D');
    expect(divideDim('D+E', 2, 'split')).toBe('(D+E)/2');
    expect(divideDim('N*D', 2, 'split')).toBe('(N*D)/2');
    expectError(() => divideDim(5, 2, 'split into 2 along axis 1'), 'shape', 'size 5 is not divisible by 2');
  });

  it('a split of a symbolic axis gives symbolic parts, and joining them gives the axis back', () => {
    const x = inp('x', ['N', 'D']);
    const parts = [0, 1, 2].map((index) => Node.make('part', [x], { axis: -1, parts: 3, index }));
    expect(parts[0]!.shape).toEqual(['N', 'D/3']);
    expect(Node.make('concat', parts, { axis: 1 }).shape).toEqual(['N', 'D']);
    expect(Node.make('concat', parts.slice(0, 2), { axis: 1 }).shape).toEqual(['N', 'D/3+D/3']);
    const y = inp('y', ['N', '2*D']);
    const halves = [0, 1].map((index) => Node.make('part', [y], { axis: 1, parts: 2, index }));
    expect(halves[0]!.shape).toEqual(['N', 'D']);
    const z = inp('z', ['N', 'D+E']);
    const zs = [0, 1].map((index) => Node.make('part', [z], { axis: 1, parts: 2, index }));
    expect(zs[0]!.shape).toEqual(['N', '(D+E)/2']);
    expect(Node.make('concat', zs, { axis: 1 }).shape).toEqual(['N', 'D+E']);
  });

  it('losses are checked with N as the batch and D as the features', () => {
    expect(lowerSource('loss t(y_true, y_pred) = mean((y_true - y_pred)^2, axis = -1)', 't').value.shape).toEqual(['N']);
    expect(lowerSource('loss t(y_true: [..., C], y_pred: [..., C]) = y_true * y_pred', 't').value.shape).toEqual(['N', 'C']);
    expect(lowerSource('loss t(y_true: [N, 3], y_pred: [N, 3]) = sum(y_pred, axis = -1, keepdims = true) + y_true', 't').value.shape).toEqual(['N', 3]);
  });

  it('a concrete signature gives concrete shapes, and errors where they do not fit', () => {
    const s = sig({ y_true: [2, 5], y_pred: [2, 5] });
    expect(lowerSource('loss t(y_true, y_pred) = sum(y_pred, axis = 0)', 't', { signature: s }).value.shape).toEqual([5]);
    const bad = sig({ y_true: [2, 5], y_pred: [2, 4] });
    expectError(() => lowerSource('loss t(y_true, y_pred) = y_true - y_pred', 't', { signature: bad }), 'shape', '[2, 5] and [2, 4]');
  });
});

describe('layout ops', () => {
  const x = inp('x', ['N', 4]);

  it('expand_dims and squeeze', () => {
    expect(b.expandDims(x, -1).shape).toEqual(['N', 4, 1]);
    expect(b.expandDims(x, 0).shape).toEqual([1, 'N', 4]);
    expect(b.squeeze(b.expandDims(x, 1), 1).shape).toEqual(['N', 4]);
    expectError(() => b.squeeze(x, 1), 'shape', 'cannot squeeze axis 1 of size 4');
  });

  it('part, concat, transpose, matmul', () => {
    expect(Node.make('part', [x], { axis: 1, parts: 2, index: 1 }).shape).toEqual(['N', 2]);
    expectError(() => Node.make('part', [x], { axis: 1, parts: 3, index: 0 }), 'shape', 'not divisible by 3');
    expect(Node.make('concat', [x, x, inp('y', ['N', 2])], { axis: -1 }).shape).toEqual(['N', 10]);
    expect(Node.make('concat', [inp('a', ['N', 'D']), inp('b', ['N', 'E'])], { axis: 1 }).shape).toEqual(['N', 'D+E']);
    expectError(() => Node.make('concat', [x, inp('v', [4])], { axis: 0 }), 'shape', 'one rank');
    expect(Node.make('transpose', [x], { perm: [1, 0] }).shape).toEqual([4, 'N']);
    expectError(() => Node.make('transpose', [x], { perm: [0, 0] }), 'shape', 'does not fit rank 2');
    const w = inp('w', [4, 7]);
    expect(Node.make('matmul', [x, w]).shape).toEqual(['N', 7]);
    expect(Node.make('matmul', [inp('bt', [5, 'N', 4]), w]).shape).toEqual([5, 'N', 7]);
    expectError(() => Node.make('matmul', [x, inp('w3', [3, 7])]), 'shape', 'inner sizes 4 and 3 differ');
    expectError(() => Node.make('matmul', [x, inp('v', [4])]), 'shape', 'rank 2 or more');
  });

  it('broadcast_like, one_hot, indices, size', () => {
    expect(Node.make('broadcast_like', [c(0), x]).shape).toEqual(['N', 4]);
    expectError(() => Node.make('broadcast_like', [inp('z', [3]), x]), 'shape');
    const l = inp('l', ['N'], 'int32');
    expect(Node.make('one_hot', [l], { depth: 5 }).shape).toEqual(['N', 5]);
    expect(Node.make('one_hot', [l, x], { axis: -1 }).shape).toEqual(['N', 4]);
    expectError(() => Node.make('one_hot', [x], { depth: 5 }), 'type', 'int32');
    const i = Node.make('indices', [x], { axis: -1 });
    expect([i.shape, i.dtype]).toEqual([[4], 'int32']);
    expect(b.size(x, [-1]).shape).toEqual([]);
  });
});

describe('dtypes', () => {
  const x = inp('x', ['N']);
  const l = inp('l', ['N'], 'int32');
  const m = inp('m', ['N'], 'bool');

  it('arithmetic on ints and bools converts them to floats', () => {
    expect(b.add(x, l).args[1]).toBe(b.cast(l, 'float32'));
    expect(b.mul(m, x).args[0]!.op).toBe('cast');
  });

  it('math on ints built directly is a type error; where needs a bool condition', () => {
    expectError(() => Node.make('exp', [l]), 'type', 'needs float tensors');
    expectError(() => Node.make('where', [x, x, x]), 'type', 'needs a bool tensor');
    expectError(() => Node.make('and', [x, m]), 'type', 'needs a bool tensor');
    expectError(() => Node.make('lt', [x, l]), 'type', 'compares a float32 with a int32');
    expect(b.compare('lt', x, l).args[1]!.dtype).toBe('float32');
  });

  it('lowering reports them at their place', () => {
    const e = expectError(() => lowerSource('loss t(y_true, y_pred) = where(y_pred, 1, 2)', 't'), 'type', 'must be a comparison (bool)');
    expect(e.span?.column).toBe(26);
  });
});
