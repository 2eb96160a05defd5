// Numerical helpers for the derivative, rewrite and stability tests: seeded random tensors, the
// float64 reference evaluator on IR, and central finite differences to check gradients against.

import { expect } from 'vitest';
import { Node } from '../../src/ir/node.js';
import { topoSort } from '../../src/ir/node.js';
import { evaluate, type Inputs } from '../../src/eval/reference.js';
import { fromData, sizeOf, type NdArray } from '../../src/eval/ndarray.js';
import { grad } from '../../src/autodiff/grad.js';

/** A small seeded generator (mulberry32): the same seed gives the same inputs on every run. */
export { rng } from '../../examples/common.js';

export type Sampler = (r: () => number) => number;

/** Uniform in [lo, hi]. */
export const uniform = (lo: number, hi: number): Sampler => (r) => lo + (hi - lo) * r();

/** Uniform in [lo, hi] with either sign: kept at least `lo` away from 0 (a kink of abs, sign, ...). */
export const awayFromZero = (lo: number, hi: number): Sampler => (r) => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r());

/** Random values of a concrete shape. */
export function randArray(shape: readonly number[], r: () => number, sample: Sampler = uniform(-2, 2)): NdArray {
  return fromData(shape, Array.from({ length: sizeOf(shape) }, () => sample(r)));
}

/** Integers in [0, n) as an int32 array (labels). */
export function randLabels(shape: readonly number[], n: number, r: () => number): NdArray {
  return fromData(shape, Array.from({ length: sizeOf(shape) }, () => Math.floor(r() * n)), 'int32');
}

/** The input nodes a DAG reads, by name. */
export function inputsOf(roots: readonly Node[]): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const n of topoSort(roots)) if (n.op === 'input') out.set(n.attrs.name as string, n);
  return out;
}

/** Random values for every input of `roots` (their shapes must be concrete). */
export function randomInputs(roots: readonly Node[], r: () => number, sample: Sampler = uniform(-2, 2)): Record<string, NdArray> {
  const out: Record<string, NdArray> = {};
  for (const [name, n] of inputsOf(roots)) {
    const shape = n.shape as number[];
    if (n.dtype === 'float32') out[name] = randArray(shape, r, sample);
    else if (n.dtype === 'int32') out[name] = randLabels(shape, 3, r);
    else out[name] = fromData(shape, Array.from({ length: sizeOf(shape) }, () => (r() < 0.5 ? 1 : 0)), 'bool');
  }
  return out;
}

export function evalOne(n: Node, inputs: Inputs): NdArray {
  return evaluate([n], inputs)[0]!;
}

/** The sum of all of `n`'s values (what `grad` differentiates). */
export function total(n: Node, inputs: Inputs): number {
  let s = 0;
  for (const v of evalOne(n, inputs).data) s += v;
  return s;
}

/** d sum(out) / d input, by central differences, one element at a time. */
export function numericGrad(out: Node, name: string, inputs: Record<string, NdArray>, h = 1e-6): Float64Array {
  const x = inputs[name]!;
  const g = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const at = (d: number) => {
      const data = Float64Array.from(x.data);
      data[i] = data[i]! + d;
      return total(out, { ...inputs, [name]: { ...x, data } });
    };
    g[i] = (at(h) - at(-h)) / (2 * h);
  }
  return g;
}

/** Every value of `actual` within `rtol`·max(1, |expected|) of `expected`. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what = ''): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= rtol * Math.max(1, Math.abs(e));
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol})\n  got      ${Array.from(actual).join(', ')}\n  expected ${Array.from(expected).join(', ')}`);
  }
}

/**
 * Check the symbolic gradient of sum(out) against finite differences for every input in `wrt`.
 * Returns the gradient nodes (for further checks).
 */
export function checkGrad(out: Node, wrt: readonly Node[], inputs: Record<string, NdArray>, rtol = 1e-5, what = ''): Node[] {
  const gs = grad(out, wrt);
  const values = evaluate(gs, inputs);
  wrt.forEach((w, k) => {
    const name = w.attrs.name as string;
    const v = values[k]!;
    expect(v.shape, `${what}: shape of d/d${name}`).toEqual(inputs[name]!.shape);
    expectAllClose(v.data, numericGrad(out, name, inputs), rtol, `${what} d/d${name}`);
  });
  return gs;
}

/**
 * Evaluate as float32 tensors would: every intermediate float value is rounded to float32 (so
 * exp(100) overflows to inf, 1 - sigmoid(20) loses every digit). Each node is computed by the
 * reference evaluator from its arguments' rounded values, bound to stand-in inputs.
 */
export function evaluateFloat32(roots: readonly Node[], inputs: Inputs): NdArray[] {
  const round = (a: NdArray): NdArray => (a.dtype === 'float32' ? { ...a, data: a.data.map(Math.fround) } : a);
  const values = new Map<Node, NdArray>();
  for (const n of topoSort(roots)) {
    let v: NdArray;
    if (n.args.length === 0) v = evalOne(n, inputs);
    else {
      const bound: Record<string, NdArray> = {};
      const args = n.args.map((a, i) => {
        const name = `__f32_${i}`;
        bound[name] = values.get(a)!;
        return Node.make('input', [], { name, shape: values.get(a)!.shape, dtype: a.dtype });
      });
      v = evalOne(Node.make(n.op, args, n.attrs), bound);
    }
    values.set(n, round(v));
  }
  return roots.map((r) => values.get(r)!);
}
