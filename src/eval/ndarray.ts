// A plain n-dimensional array for the reference evaluator: a row-major Float64Array, a concrete
// shape and the IR dtype it stands for (int32 values are whole numbers, bool values are 0 or 1;
// 'float32' is the IR's name for "float", the values here are full doubles).

import { LosscError } from '../errors.js';
import { showShape, type DType } from '../ir/shape.js';

export interface NdArray {
  shape: number[];
  dtype: DType;
  data: Float64Array;
}

/** A JS value `ndarray` accepts: a number or boolean, or (rectangular) nested arrays of them. */
export type Nested = number | boolean | readonly Nested[];

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

/** A value as `dtype` stores it: int32 truncates toward zero, bool is (v != 0). */
export function coerce(v: number, dtype: DType): number {
  if (dtype === 'int32') return Math.trunc(v);
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return v;
}

/** `n` values `f(0) .. f(n-1)`. */
export function tabulate(n: number, f: (i: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** An array from a shape and flat row-major values (copied, coerced to `dtype`). */
export function fromData(shape: readonly number[], data: ArrayLike<number>, dtype: DType = 'float32'): NdArray {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new LosscError('value', `bad shape ${showShape(shape)}: dimensions must be whole numbers >= 0`);
  }
  if (data.length !== sizeOf(shape)) {
    throw new LosscError('value', `shape ${showShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
  }
  return { shape: [...shape], dtype, data: tabulate(data.length, (i) => coerce(data[i]!, dtype)) };
}

/**
 * An array from nested JS arrays: `ndarray([[1, 2], [3, 4]])`. Booleans give a bool array (when
 * every value is one), numbers a float one, unless `dtype` says otherwise. Ragged input throws.
 */
export function ndarray(nested: Nested, dtype?: DType): NdArray {
  // The shape is read down the first elements; every other element must then agree with it.
  const shape: number[] = [];
  for (let x: unknown = nested; Array.isArray(x); x = x[0]) {
    shape.push(x.length);
    if (x.length === 0) break;
  }
  const values: number[] = [];
  let allBool = true;
  const where = (path: number[]) => (path.length ? `element ${path.map((i) => `[${i}]`).join('')}` : 'the array');
  const visit = (x: unknown, path: number[]): void => {
    const depth = path.length;
    if (depth === shape.length) {
      if (typeof x === 'number' || typeof x === 'boolean') {
        values.push(Number(x));
        if (typeof x === 'number') allBool = false;
      } else if (Array.isArray(x)) {
        throw new LosscError('value', `ragged array: ${where(path)} is an array, but the first elements say it should be a number (shape ${showShape(shape)})`);
      } else {
        throw new LosscError('value', `${where(path)} is ${x === null ? 'null' : `a ${typeof x}`}, not a number or boolean`);
      }
      return;
    }
    if (!Array.isArray(x)) {
      throw new LosscError('value', `ragged array: ${where(path)} is a ${typeof x}, but the first elements say it should be an array of length ${shape[depth]} (shape ${showShape(shape)})`);
    }
    if (x.length !== shape[depth]) {
      throw new LosscError('value', `ragged array: ${where(path)} has length ${x.length}, but the first elements say ${shape[depth]} (shape ${showShape(shape)})`);
    }
    x.forEach((y: unknown, i) => visit(y, [...path, i]));
  };
  visit(nested, []);
  return fromData(shape, values, dtype ?? (allBool && values.length > 0 ? 'bool' : 'float32'));
}

/** Back to nested JS arrays (booleans for a bool array; a bare value for a scalar). */
export function toNested(a: NdArray): Nested {
  const st = stridesOf(a.shape);
  const build = (depth: number, offset: number): Nested => {
    if (depth === a.shape.length) return a.dtype === 'bool' ? a.data[offset] !== 0 : a.data[offset]!;
    return Array.from({ length: a.shape[depth]! }, (_, i) => build(depth + 1, offset + i * st[depth]!));
  };
  return build(0, 0);
}

export function scalar(v: number | boolean, dtype: DType = typeof v === 'boolean' ? 'bool' : 'float32'): NdArray {
  return fromData([], [Number(v)], dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): NdArray {
  return fromData(shape, new Float64Array(sizeOf(shape)), dtype);
}

/** An array whose value at each multi-index is `f(index)`. */
export function fromFn(shape: readonly number[], f: (index: number[]) => number, dtype: DType = 'float32'): NdArray {
  const st = stridesOf(shape);
  const data = tabulate(sizeOf(shape), (i) => f(st.map((s, d) => Math.floor(i / s) % shape[d]!)));
  return fromData(shape, data, dtype);
}

/**
 * Walk `outShape` in row-major order, reading `data` at `offset + sum(index[d] * strides[d])`.
 * With permuted strides this transposes, with zero strides it broadcasts, with an offset it slices.
 */
export function gather(data: Float64Array, outShape: readonly number[], strides: readonly number[], offset = 0): Float64Array {
  const n = sizeOf(outShape);
  const out = new Float64Array(n);
  const rank = outShape.length;
  const index = new Array<number>(rank).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    out[i] = data[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      off += strides[d]!;
      index[d] = index[d]! + 1;
      if (index[d]! < outShape[d]!) break;
      off -= strides[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** The NumPy broadcast of concrete shapes, or a shape error naming them all. */
export function broadcastShape(shapes: readonly (readonly number[])[], what = 'operands'): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0 || s[k] === d || s[k] === 1) continue;
      if (d !== 1) {
        throw new LosscError(
          'shape',
          `shapes ${shapes.map(showShape).join(' and ')} of the ${what} cannot broadcast ` +
            `(dimension ${i - rank} is ${d} in one and ${s[k]} in another)`,
        );
      }
      d = s[k]!;
    }
    out.push(d);
  }
  return out;
}

/** Strides that read `shape` as if broadcast to `target` (0 along stretched axes), or a shape error. */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const lead = target.length - shape.length;
  const st = stridesOf(shape);
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== target[lead + i])) {
    throw new LosscError('shape', `cannot broadcast ${showShape(shape)} to ${showShape(target)}`);
  }
  return target.map((_, j) => (j < lead || shape[j - lead] === 1 ? 0 : st[j - lead]!));
}

/** `a` broadcast to exactly `target` (`a` itself when it already has that shape). */
export function broadcastTo(a: NdArray, target: readonly number[]): NdArray {
  if (a.shape.length === target.length && a.shape.every((d, i) => d === target[i])) return a;
  return { shape: [...target], dtype: a.dtype, data: gather(a.data, target, broadcastStrides(a.shape, target)) };
}
