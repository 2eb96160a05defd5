import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LosscError } from '../src/errors.js';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import type { Attrs, OpName } from '../src/ir/ops.js';
import type { DType } from '../src/ir/shape.js';
import {
  broadcastShape,
  broadcastStrides,
  fromData,
  fromFn,
  ndarray,
  scalar,
  stridesOf,
  toNested,
  zeros,
  type NdArray,
  type Nested,
} from '../src/eval/ndarray.js';
import { evaluate } from '../src/eval/reference.js';

// ---- helpers ----

/** A tensor literal node from nested arrays (values should be float32-exact: tensorConst frounds). */
function lit(nested: Nested): Node {
  const a = ndarray(nested, 'float32');
  return b.tensorConst([...a.data], a.shape);
}

const mk = (op: OpName, args: Node[], attrs: Attrs = {}) => Node.make(op, args, attrs);

function run(n: Node, inputs: Record<string, NdArray> = {}): NdArray {
  return evaluate([n], inputs)[0]!;
}

const val = (n: Node, inputs: Record<string, NdArray> = {}) => toNested(run(n, inputs));

/** Deep comparison with a relative tolerance; NaN equals NaN, infinities must match exactly. */
function expectClose(actual: Nested, expected: Nested, tol = 1e-12, path = ''): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} should be an array`).toBe(true);
    const a = actual as readonly Nested[];
    expect(a.length, `${path} length`).toBe(expected.length);
    expected.forEach((e, i) => expectClose(a[i]!, e, tol, `${path}[${i}]`));
    return;
  }
  if (typeof expected === 'boolean') {
    expect(actual, path).toBe(expected);
    return;
  }
  expect(typeof actual, path).toBe('number');
  const x = actual as number;
  const want = expected as number;
  if (Number.isNaN(want)) expect(x, path).toBeNaN();
  else if (!Number.isFinite(want)) expect(x, path).toBe(want);
  else expect(Math.abs(x - want), `${path}: ${x} vs ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

function expectError(f: () => unknown, kind: string, ...parts: string[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(LosscError);
  const e = err as LosscError;
  expect(e.kind, e.message).toBe(kind);
  for (const p of parts) expect(e.message).toContain(p);
}

const x3 = () => b.input('x', ['N']);
const withX = (n: Node, values: number[]) => val(n, { x: ndarray(values) });

// ---- NdArray ----

describe('ndarray helpers', () => {
  it('builds from nested arrays and back', () => {
    const a = ndarray([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(toNested(a)).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(ndarray(7).shape).toEqual([]);
    expect(toNested(ndarray(7))).toBe(7);
    expect(ndarray([]).shape).toEqual([0]);
    expect(ndarray([[], []]).shape).toEqual([2, 0]);
    expect(toNested(ndarray([[], []]))).toEqual([[], []]);
  });

  it('infers bool from booleans and coerces to a requested dtype', () => {
    const a = ndarray([true, false]);
    expect(a.dtype).toBe('bool');
    expect(toNested(a)).toEqual([true, false]);
    expect(toNested(ndarray([1.9, -1.9, 0.5], 'int32'))).toEqual([1, -1, 0]);
    expect(toNested(ndarray([0, 2, -0.5], 'bool'))).toEqual([false, true, true]);
  });

  it('rejects ragged and non-numeric input, naming the problem', () => {
    expectError(() => ndarray([[1, 2], [3]]), 'value', 'ragged', 'element [1]', 'length 1', '2');
    expectError(() => ndarray([[1], 2] as Nested), 'value', 'ragged', 'element [1]');
    expectError(() => ndarray([1, [2]] as Nested), 'value', 'ragged', 'element [1]');
    expectError(() => ndarray([[1, 2], [3, 'x']] as unknown as Nested), 'value', 'element [1][1]', 'string');
    expectError(() => fromData([2, 2], [1, 2, 3]), 'value', 'needs 4 values');
  });

  it('scalar, zeros, fromFn, strides', () => {
    expect(toNested(scalar(2.5))).toBe(2.5);
    expect(scalar(true).dtype).toBe('bool');
    expect(toNested(zeros([2, 2]))).toEqual([[0, 0], [0, 0]]);
    expect(toNested(fromFn([2, 3], ([i, j]) => 10 * i! + j!))).toEqual([[0, 1, 2], [10, 11, 12]]);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
  });

  it('broadcasting helpers', () => {
    expect(broadcastShape([[2, 1], [3]])).toEqual([2, 3]);
    expect(broadcastShape([[], [4, 1, 2]])).toEqual([4, 1, 2]);
    expectError(() => broadcastShape([[2], [3]]), 'shape', '[2]', '[3]');
    expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expectError(() => broadcastStrides([3], [2, 4]), 'shape', '[3]', '[2, 4]');
  });
});

// ---- Leaves ----

describe('leaves', () => {
  it('binds symbolic-shaped inputs to concrete arrays', () => {
    const x = b.input('x', ['N', 3]);
    expect(val(x, { x: ndarray([[1, 2, 3]]) })).toEqual([[1, 2, 3]]);
    expect(run(x, { x: zeros([4, 3]) }).shape).toEqual([4, 3]);
    // Values are plain doubles, not rounded to float32.
    expect(val(b.input('s', []), { s: scalar(0.1) })).toBe(0.1);
  });

  it('rejects inputs of the wrong rank or size, naming the input and both shapes', () => {
    const x = b.input('x', ['N', 3]);
    expectError(() => run(x, { x: ndarray([1, 2, 3]) }), 'shape', '`x`', '[N, 3]', '[3]');
    expectError(() => run(x, { x: zeros([2, 4]) }), 'shape', '`x`', '[N, 3]', '[2, 4]');
    expectError(() => run(x, {}), 'usage', '`x`');
  });

  it('converts input values to the node dtype', () => {
    expect(val(b.input('l', [3], 'int32'), { l: ndarray([1.7, -1.7, 2]) })).toEqual([1, -1, 2]);
    const m = run(b.input('m', [3], 'bool'), { m: ndarray([0, 2, -0.5]) });
    expect(m.dtype).toBe('bool');
    expect(toNested(m)).toEqual([false, true, true]);
  });

  it('const, param, tensor', () => {
    expect(val(b.constant(2.5))).toBe(2.5);
    expect(val(b.constant(3, 'int32'))).toBe(3);
    expect(run(b.constant(1, 'bool')).dtype).toBe('bool');
    expect(val(b.param('alpha', 0.25))).toBe(0.25);
    expect(val(b.param('w', [1, 2, 0.5]))).toEqual([1, 2, 0.5]);
    expect(val(lit([[1, 2], [3, 4]]))).toEqual([[1, 2], [3, 4]]);
  });
});

// ---- Elementwise ----

describe('elementwise unary', () => {
  const xs = [-2, -0.5, 0, 0.5, 3];
  const cases: Array<[OpName, (v: number) => number]> = [
    ['neg', (v) => -v],
    ['exp', Math.exp],
    ['log', Math.log],
    ['log1p', Math.log1p],
    ['expm1', Math.expm1],
    ['sqrt', Math.sqrt],
    ['abs', Math.abs],
    ['tanh', Math.tanh],
    ['cosh', Math.cosh],
    ['sinh', Math.sinh],
    ['cos', Math.cos],
    ['sin', Math.sin],
    ['floor', Math.floor],
    ['sigmoid', (v) => 1 / (1 + Math.exp(-v))],
    ['softplus', (v) => Math.log(1 + Math.exp(v))],
  ];
  for (const [op, f] of cases) {
    it(op, () => expectClose(withX(mk(op, [x3()]), xs), xs.map(f)));
  }

  it('sign: -1/0/1, NaN stays NaN', () => {
    expectClose(withX(b.sign(x3()), [-3, -0, 0, 2, NaN]), [-1, 0, 0, 1, NaN]);
  });

  it('sigmoid and softplus are stable at ±1000', () => {
    const big = [-1000, 1000];
    expect(withX(b.sigmoid(x3()), big)).toEqual([0, 1]);
    expectClose(withX(b.softplus(x3()), big), [0, 1000]);
    // Far from saturation, the tiny tail is still exact.
    expectClose(withX(b.sigmoid(x3()), [-700]), [Math.exp(-700)]);
    expectClose(withX(b.softplus(x3()), [-700]), [Math.exp(-700)]);
  });

  it('not, cast, stop_gradient', () => {
    const m = b.input('m', [3], 'bool');
    expect(val(mk('not', [m]), { m: ndarray([true, false, true]) })).toEqual([false, true, false]);
    expect(withX(b.cast(x3(), 'int32'), [1.7, -1.7, 0])).toEqual([1, -1, 0]);
    const asBool = b.cast(x3(), 'bool');
    expect(run(asBool, { x: ndarray([1, 0, -2]) }).dtype).toBe('bool');
    expect(withX(asBool, [1, 0, -2])).toEqual([true, false, true]);
    expect(val(b.cast(m, 'float32'), { m: ndarray([true, false, true]) })).toEqual([1, 0, 1]);
    expect(withX(mk('stop_gradient', [x3()]), [1, 2])).toEqual([1, 2]);
  });
});

describe('elementwise binary', () => {
  const col = lit([[1], [2]]);
  const row = lit([10, 20, 30]);

  it('arithmetic broadcasts NumPy-style', () => {
    expect(val(b.add(col, row))).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(val(b.sub(col, row))).toEqual([[-9, -19, -29], [-8, -18, -28]]);
    expect(val(b.mul(col, row))).toEqual([[10, 20, 30], [20, 40, 60]]);
    expect(val(b.div(row, col))).toEqual([[10, 20, 30], [5, 10, 15]]);
    expect(val(b.pow(col, lit([0, 1, 3])))).toEqual([[1, 1, 1], [1, 2, 8]]);
    expect(val(b.add(b.constant(1), lit([[1, 2]])))).toEqual([[2, 3]]);
    expect(val(b.div(lit([1, -1, 0]), b.constant(0)))).toEqual([Infinity, -Infinity, NaN]);
  });

  it('maximum and minimum propagate NaN', () => {
    const y = b.input('y', ['N']);
    const inputs = { x: ndarray([1, NaN, 5]), y: ndarray([2, 0, NaN]) };
    expectClose(val(b.maximum(x3(), y), inputs), [2, NaN, NaN]);
    expectClose(val(b.minimum(x3(), y), inputs), [1, NaN, NaN]);
  });

  it('comparisons give bools', () => {
    const a = lit([1, 2, 3]);
    const two = b.constant(2);
    const res = (op: 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne') => val(b.compare(op, a, two));
    expect(res('lt')).toEqual([true, false, false]);
    expect(res('le')).toEqual([true, true, false]);
    expect(res('gt')).toEqual([false, false, true]);
    expect(res('ge')).toEqual([false, true, true]);
    expect(res('eq')).toEqual([false, true, false]);
    expect(res('ne')).toEqual([true, false, true]);
    expect(run(b.compare('lt', a, two)).dtype).toBe('bool');
    // NaN compares unequal to everything.
    expect(withX(b.compare('eq', x3(), x3()), [NaN, 1])).toEqual([false, true]);
    expect(withX(b.compare('ne', x3(), x3()), [NaN, 1])).toEqual([true, false]);
  });

  it('and / or on bools, broadcasting', () => {
    const p = b.input('p', [2, 1], 'bool');
    const q = b.input('q', [2], 'bool');
    const inputs = { p: ndarray([[true], [false]]), q: ndarray([true, false]) };
    expect(val(mk('and', [p, q]), inputs)).toEqual([[true, false], [false, false]]);
    expect(val(mk('or', [p, q]), inputs)).toEqual([[true, true], [true, false]]);
  });

  it('a broadcast failure is a shape error naming both shapes', () => {
    const y = b.input('y', ['M']);
    expectError(() => val(b.add(x3(), y), { x: ndarray([1, 2]), y: ndarray([1, 2, 3]) }), 'shape', '[2]', '[3]');
  });

  it('where and clip broadcast', () => {
    const c = b.input('c', [3], 'bool');
    const w = b.where(c, lit([[1, 2, 3], [4, 5, 6]]), b.constant(0));
    expect(val(w, { c: ndarray([true, false, true]) })).toEqual([[1, 0, 3], [4, 0, 6]]);
    const cl = b.clip(lit([-5, 0.5, 5]), b.constant(0), lit([[1], [2]]));
    expect(val(cl)).toEqual([[0, 0.5, 1], [0, 0.5, 2]]);
  });
});

// ---- Reductions ----

describe('reductions', () => {
  const m = lit([[1, 2, 3], [4, 5, 6]]);

  it('sum / mean / max / min over axes, with and without keepdims', () => {
    expect(val(b.reduce('sum', m, [0]))).toEqual([5, 7, 9]);
    expect(val(b.reduce('sum', m, [1]))).toEqual([6, 15]);
    expect(val(b.reduce('sum', m, [1], true))).toEqual([[6], [15]]);
    expect(val(b.reduce('sum', m, null))).toBe(21);
    expect(val(b.reduce('sum', m, null, true))).toEqual([[21]]);
    expect(val(b.reduce('mean', m, [-1]))).toEqual([2, 5]);
    expect(val(b.reduce('max', m, [0], true))).toEqual([[4, 5, 6]]);
    expect(val(b.reduce('min', m, [-1]))).toEqual([1, 4]);
    expect(val(b.reduce('max', m, [-2, -1]))).toBe(6);
  });

  it('reduces middle axes of a rank-3 tensor', () => {
    const t = fromFn([2, 3, 4], ([i, j, k]) => 100 * i! + 10 * j! + k!);
    const x = b.input('t', [2, 3, 4]);
    const expected = fromFn([2, 4], ([i, k]) => [0, 1, 2].reduce((s, j) => s + 100 * i! + 10 * j + k!, 0));
    expect(val(b.reduce('sum', x, [1]), { t })).toEqual(toNested(expected));
    expect(run(b.reduce('sum', x, [0, 2], true), { t }).shape).toEqual([1, 3, 1]);
  });

  it('an empty axes list is the identity', () => {
    for (const op of ['sum', 'mean', 'max', 'min', 'logsumexp'] as const) {
      expect(val(b.reduce(op, m, []))).toEqual([[1, 2, 3], [4, 5, 6]]);
    }
  });

  it('reducing zero elements', () => {
    const e = b.input('e', [0, 'K']);
    const inputs = { e: zeros([0, 2]) };
    expect(val(b.reduce('sum', e, [0]), inputs)).toEqual([0, 0]);
    expectClose(val(b.reduce('mean', e, [0]), inputs), [NaN, NaN]);
    expect(val(b.reduce('max', e, [0]), inputs)).toEqual([-Infinity, -Infinity]);
    expect(val(b.reduce('min', e, [0]), inputs)).toEqual([Infinity, Infinity]);
    expect(val(b.reduce('logsumexp', e, [0]), inputs)).toEqual([-Infinity, -Infinity]);
    expect(val(b.reduce('sum', e, [1]), inputs)).toEqual([]);
  });

  it('max / min keep int and bool dtypes', () => {
    const i = b.input('i', [3], 'int32');
    const r = run(b.reduce('max', i, null), { i: ndarray([3, -1, 7]) });
    expect(r.dtype).toBe('int32');
    expect(toNested(r)).toBe(7);
    const p = b.input('p', [3], 'bool');
    const any = run(b.reduce('max', p, null), { p: ndarray([false, true, false]) });
    expect(any.dtype).toBe('bool');
    expect(toNested(any)).toBe(true);
    expect(val(b.reduce('min', p, null), { p: ndarray([false, true, false]) })).toBe(false);
  });

  it('max propagates NaN', () => {
    expectClose(withX(b.reduce('max', x3(), null), [1, NaN, 3]), NaN);
  });

  it('logsumexp is stable', () => {
    const lse = (v: number[]) => withX(b.reduce('logsumexp', x3(), null), v);
    expectClose(lse([1000, 1000]), 1000 + Math.LN2);
    expectClose(lse([-1000, -1000]), -1000 + Math.LN2);
    expectClose(lse([1000, -1000]), 1000);
    expectClose(lse([0, Math.log(3)]), Math.log(4));
    expect(lse([-Infinity, -Infinity])).toBe(-Infinity);
    expect(lse([Infinity, 1])).toBe(Infinity);
    expectClose(val(b.reduce('logsumexp', lit([[0, 0], [1000, 1000]]), [1], true)), [[Math.LN2], [1000 + Math.LN2]]);
  });
});

// ---- Shape-dependent and layout ops ----

describe('size and indices', () => {
  const x = b.input('x', ['N', 'D']);
  const inputs = { x: zeros([4, 3]) };

  it('size is the product of the actual dims over axes', () => {
    expect(val(b.size(x, [0]), inputs)).toBe(4);
    expect(val(b.size(x, [-1]), inputs)).toBe(3);
    expect(val(b.size(x, null), inputs)).toBe(12);
    expect(val(b.size(x, []), inputs)).toBe(1);
  });

  it('indices counts along an axis as int32', () => {
    const r = run(mk('indices', [x], { axis: -1 }), inputs);
    expect(r.dtype).toBe('int32');
    expect(toNested(r)).toEqual([0, 1, 2]);
    expect(val(mk('indices', [x], { axis: 0 }), inputs)).toEqual([0, 1, 2, 3]);
  });
});

describe('layout', () => {
  it('broadcast_like', () => {
    const like = b.input('like', ['N', 3]);
    const inputs = { like: zeros([2, 3]) };
    expect(val(b.broadcastLike(lit([1, 2, 3]), like), inputs)).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(val(b.broadcastLike(b.constant(5), like), inputs)).toEqual([[5, 5, 5], [5, 5, 5]]);
    // x [N] against [2, 3]: fine symbolically, but N = 2 cannot stretch to 3.
    expectError(() => val(b.broadcastLike(x3(), lit([[1, 2, 3], [4, 5, 6]])), { x: ndarray([1, 2]) }), 'shape', '[2]', '[2, 3]');
  });

  it('expand_dims and squeeze (negative axes)', () => {
    const v = lit([1, 2]);
    expect(val(b.expandDims(v, 0))).toEqual([[1, 2]]);
    expect(val(b.expandDims(v, -1))).toEqual([[1], [2]]);
    expect(val(mk('expand_dims', [v], { axis: -1 }))).toEqual([[1], [2]]);
    expect(val(b.squeeze(lit([[1], [2]]), -1))).toEqual([1, 2]);
    expect(val(mk('squeeze', [lit([[1, 2]])], { axis: 0 }))).toEqual([1, 2]);
    const y = b.input('y', ['N', 'K']);
    expectError(() => val(b.squeeze(y, 1), { y: zeros([2, 3]) }), 'shape', 'axis 1', 'size is 3');
  });

  it('part slices equal parts', () => {
    const m = lit([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]);
    expect(val(mk('part', [m], { axis: 1, parts: 3, index: 1 }))).toEqual([[2, 3], [8, 9]]);
    expect(val(mk('part', [m], { axis: -1, parts: 2, index: 1 }))).toEqual([[3, 4, 5], [9, 10, 11]]);
    expect(val(mk('part', [m], { axis: 0, parts: 2, index: 0 }))).toEqual([[0, 1, 2, 3, 4, 5]]);
    const y = b.input('y', ['N', 'D']);
    expectError(
      () => val(mk('part', [y], { axis: 1, parts: 3, index: 0 }), { y: zeros([2, 10]) }),
      'shape',
      'size 10 along axis 1 is not divisible by 3',
    );
  });

  it('concat joins along an axis', () => {
    const a = lit([[1, 2], [3, 4]]);
    const c = lit([[5], [6]]);
    expect(val(mk('concat', [a, c], { axis: 1 }))).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(val(mk('concat', [a, c, a], { axis: -1 }))).toEqual([[1, 2, 5, 1, 2], [3, 4, 6, 3, 4]]);
    expect(val(mk('concat', [a, lit([[7, 8]])], { axis: 0 }))).toEqual([[1, 2], [3, 4], [7, 8]]);
    const y = b.input('y', ['N', 1]);
    expectError(() => val(mk('concat', [a, y], { axis: 1 }), { y: zeros([3, 1]) }), 'shape', '[2, 2]', '[3, 1]');
  });

  it('transpose', () => {
    expect(val(mk('transpose', [lit([[1, 2, 3], [4, 5, 6]])], { perm: [1, 0] }))).toEqual([[1, 4], [2, 5], [3, 6]]);
    const t = fromFn([2, 3, 4], ([i, j, k]) => 100 * i! + 10 * j! + k!);
    const r = run(mk('transpose', [b.input('t', [2, 3, 4])], { perm: [2, 0, 1] }), { t });
    expect(r.shape).toEqual([4, 2, 3]);
    expect(toNested(r)).toEqual(toNested(fromFn([4, 2, 3], ([k, i, j]) => 100 * i! + 10 * j! + k!)));
  });

  it('matmul, plain and batched with broadcasting', () => {
    const a = lit([[1, 2, 3], [4, 5, 6]]);
    const c = lit([[1, 0], [0, 1], [1, 1]]);
    expect(val(b.binary('matmul', a, c))).toEqual([[4, 5], [10, 11]]);
    // [2, 2, 3] @ [3, 1]: the matrix is shared by both batch entries.
    const a3 = lit([[[1, 2, 3], [4, 5, 6]], [[1, 1, 1], [0, 0, 1]]]);
    expect(val(b.binary('matmul', a3, lit([[1], [10], [100]])))).toEqual([[[321], [654]], [[111], [100]]]);
    // Batch axes broadcast: [2, 1, 2, 2] @ [3, 2, 2] -> [2, 3, 2, 2].
    const A = fromFn([2, 1, 2, 2], ([s, , i, k]) => s! + i! - k!);
    const B = fromFn([3, 2, 2], ([t, k, j]) => t! * k! + j!);
    const r = run(b.binary('matmul', b.input('A', [2, 1, 2, 2]), b.input('B', [3, 2, 2])), { A, B });
    const ref = fromFn([2, 3, 2, 2], ([s, t, i, j]) => [0, 1].reduce((acc, k) => acc + (s! + i! - k) * (t! * k + j!), 0));
    expect(r.shape).toEqual([2, 3, 2, 2]);
    expect(toNested(r)).toEqual(toNested(ref));
    const y = b.input('y', ['K', 2]);
    expectError(() => val(b.binary('matmul', a, y), { y: zeros([4, 2]) }), 'shape', 'inner sizes 3 and 4');
  });

  it('one_hot with a depth or a reference tensor; out-of-range labels give zero rows', () => {
    const l = b.input('l', ['N'], 'int32');
    const inputs = { l: ndarray([0, 2, -1, 3], 'int32'), r: zeros([5, 3]) };
    const expected = [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]];
    const byDepth = run(mk('one_hot', [l], { depth: 3 }), inputs);
    expect(byDepth.dtype).toBe('float32');
    expect(toNested(byDepth)).toEqual(expected);
    const r = b.input('r', ['M', 'C']);
    expect(val(mk('one_hot', [l, r], { axis: -1 }), inputs)).toEqual(expected);
    expect(val(mk('one_hot', [l, r], { axis: 0 }), inputs)).toEqual([
      [1, 0, 0, 0, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 1, 0],
    ]);
  });
});

// ---- The DAG ----

describe('evaluate', () => {
  it('returns one value per root, in order, sharing work', () => {
    const x = x3();
    const e = b.exp(x);
    const [r1, r2, r3] = evaluate([b.add(e, e), e, e], { x: ndarray([0, 1]) });
    expectClose(toNested(r1!), [2, 2 * Math.E]);
    expectClose(toNested(r2!), [1, Math.E]);
    expect(r3).toBe(r2);
  });

  it('evaluates each shared node once (a doubling chain of depth 60)', () => {
    let n = x3();
    for (let i = 0; i < 60; i++) n = b.add(n, n);
    expect(withX(n, [1])).toEqual([2 ** 60]);
  });

  it('handles deep graphs without recursion', () => {
    let n = x3();
    for (let i = 0; i < 20000; i++) n = b.add(n, b.constant(1));
    expect(withX(n, [0.5])).toEqual([20000.5]);
  });
});

// ---- Properties ----

/** A shape (rank 0..4, dims 0..3) with matching small integer values: sums are exact. */
const arrayArb = fc
  .array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 4 })
  .chain((shape) =>
    fc
      .array(fc.integer({ min: -50, max: 50 }), {
        minLength: shape.reduce((p, d) => p * d, 1),
        maxLength: shape.reduce((p, d) => p * d, 1),
      })
      .map((values) => fromData(shape, values)),
  );

/** Two shapes that broadcast to a common one: drop leading axes, turn some dims into 1. */
const broadcastPairArb = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 4 })
  .chain((out) => {
    const operand = fc
      .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
      .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
    return fc.tuple(fc.constant(out), operand, operand);
  })
  .chain(([out, s1, s2]) =>
    fc.tuple(
      fc.constant(out),
      fc.float64Array({ minLength: s1.reduce((p, d) => p * d, 1), maxLength: s1.reduce((p, d) => p * d, 1), noNaN: true }).map((v) => fromData(s1, v)),
      fc.float64Array({ minLength: s2.reduce((p, d) => p * d, 1), maxLength: s2.reduce((p, d) => p * d, 1), noNaN: true }).map((v) => fromData(s2, v)),
    ),
  );

const symbolic = (name: string, rank: number, dtype: DType = 'float32') =>
  b.input(name, Array.from({ length: rank }, (_, i) => `${name}${i}`), dtype);

describe('properties', () => {
  it('sum over all axes = sum over axis 0, then over the rest', () => {
    fc.assert(
      fc.property(arrayArb, (a) => {
        const x = symbolic('a', a.shape.length);
        const all = b.reduce('sum', x, null);
        const staged = a.shape.length === 0 ? all : b.reduce('sum', b.reduce('sum', x, [0]), null);
        const [r1, r2] = evaluate([all, staged], { a });
        expect(r1!.data[0]).toBe(r2!.data[0]);
        expect(r1!.data[0]).toBe(a.data.reduce((s, v) => s + v, 0));
      }),
    );
  });

  it('broadcasting add is commutative and matches index-wise addition', () => {
    fc.assert(
      fc.property(broadcastPairArb, ([full, p, q]) => {
        // The operands' dims are each 1 or the full shape's, so the broadcast takes the larger one.
        const rank = Math.max(p.shape.length, q.shape.length);
        const dim = (a: NdArray, i: number) => a.shape[a.shape.length - rank + i] ?? 1;
        const out = full.slice(full.length - rank).map((_, i) => Math.max(dim(p, i), dim(q, i)));
        const x = symbolic('p', p.shape.length);
        const y = symbolic('q', q.shape.length);
        const [pq, qp] = evaluate([b.add(x, y), b.add(y, x)], { p, q });
        expect(pq!.shape).toEqual(out);
        expect(toNested(pq!)).toEqual(toNested(qp!));
        const at = (a: NdArray, idx: number[]) => {
          const st = stridesOf(a.shape);
          const lead = idx.length - a.shape.length;
          return a.data[a.shape.reduce((off, d, i) => off + (d === 1 ? 0 : idx[lead + i]!) * st[i]!, 0)]!;
        };
        expect(toNested(pq!)).toEqual(toNested(fromFn(out, (idx) => at(p, idx) + at(q, idx))));
      }),
    );
  });

  it('transposing by a permutation and then its inverse is the identity', () => {
    fc.assert(
      fc.property(
        arrayArb.chain((a) => fc.tuple(fc.constant(a), fc.shuffledSubarray([...a.shape.keys()], { minLength: a.shape.length }))),
        ([a, perm]) => {
          const inv = perm.map((_, i) => perm.indexOf(i));
          const x = symbolic('a', a.shape.length);
          const r = run(mk('transpose', [mk('transpose', [x], { perm })], { perm: inv }), { a });
          expect(r.shape).toEqual(a.shape);
          expect([...r.data]).toEqual([...a.data]);
        },
      ),
    );
  });
});
