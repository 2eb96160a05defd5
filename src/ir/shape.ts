// Shapes whose dimensions may be symbolic: a number when it is known, a name such as `N` when it
// is not (the batch size at compile time). Rank is always known. Once inputs are bound to real
// tensors every dimension is a number, and the same rules give exact shapes.

import { LosscError } from '../errors.js';

export type Dim = number | string;
export type Shape = readonly Dim[];
export type DType = 'float32' | 'int32' | 'bool';

export function showShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function isConcrete(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Number of elements, or undefined when a dimension is symbolic. */
export function numElements(s: Shape): number | undefined {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

// What shape inference takes for granted at symbolic sizes (a symbol meeting another size it
// cannot be told apart from), recorded while `collectAssumptions` runs: a kernel built at symbolic
// sizes is valid for a binding only where every assumption holds (src/pipeline/pipeline.ts).
let assumed: Array<readonly [Dim, Dim]> | undefined;

/** Inference took `a` and `b` to be the same size. */
export function assume(a: Dim, b: Dim): void {
  if (assumed && a !== b) assumed.push([a, b]);
}

/** Inference took `d` (a quotient) to be a whole number: recorded as `d = d`, which fails where d is not. */
function assumeWhole(d: Dim): void {
  if (assumed && typeof d === 'string') assumed.push([d, d]);
}

/** The assumptions `f` makes (only one collection at a time; not reentrant). */
export function collectAssumptions(f: () => void): Array<readonly [Dim, Dim]> {
  const outer = assumed;
  assumed = [];
  try {
    f();
    return assumed;
  } finally {
    assumed = outer;
  }
}

/** One dimension of a NumPy broadcast. Symbols are assumed to agree with what they meet. */
function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') return undefined;
  assume(a, b);
  // A symbol meeting a number or another symbol: optimistic, the concrete shapes decide later.
  return typeof a === 'number' ? a : typeof b === 'number' ? b : a;
}

export function broadcastShapes(shapes: Shape[], what = 'operands'): Shape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0) continue;
      const r = broadcastDim(d, s[k]!);
      if (r === undefined) {
        throw new LosscError(
          'shape',
          `shapes ${shapes.map(showShape).join(' and ')} of the ${what} cannot broadcast ` +
            `(dimension ${i - rank} is ${d} in one and ${s[k]} in another)`,
        );
      }
      d = r;
    }
    out.push(d);
  }
  return out;
}

/** Normalise an axis (negative counts from the end) against a rank, or throw a shape error. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis)) throw new LosscError('shape', `${what} must be an integer, got ${axis}`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw new LosscError(
      'shape',
      `${what} ${axis} is out of range for a tensor of rank ${rank}` +
        (rank === 0 ? ' (a scalar has no axes)' : ` (valid: ${-rank} to ${rank - 1})`),
    );
  }
  return a;
}

/** Normalised, sorted, de-duplicated axes; `null` means every axis. */
export function normAxes(axes: readonly number[] | null, rank: number): number[] {
  if (axes === null) return Array.from({ length: rank }, (_, i) => i);
  const out = [...new Set(axes.map((a) => normAxis(a, rank)))];
  if (out.length !== axes.length) throw new LosscError('shape', `axis list [${axes.join(', ')}] repeats an axis`);
  return out.sort((a, b) => a - b);
}

/** The shape after reducing `axes` (normalised). */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Shape {
  const set = new Set(axes);
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Multiply dims, symbolically if needed (`N*D`). */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(compound(d) ? `(${d})` : d);
  }
  if (syms.length === 0) return n;
  return n === 1 ? syms.join('*') : `${n}*${syms.join('*')}`;
}

/** Divide a dim into `parts` equal parts, or throw when a known size does not divide. */
export function divideDim(d: Dim, parts: number, what: string): Dim {
  if (typeof d === 'number') {
    if (d % parts !== 0) {
      throw new LosscError('shape', `${what}: size ${d} is not divisible by ${parts}`);
    }
    return d / parts;
  }
  const m = /^(\d+)\*(.+)$/.exec(d);
  if (m && Number(m[1]) % parts === 0) {
    const k = Number(m[1]) / parts;
    return k === 1 ? m[2]! : `${k}*${m[2]}`;
  }
  const q = compound(d) ? `(${d})/${parts}` : `${d}/${parts}`;
  assumeWhole(q);
  return q;
}

/** A symbolic dim built from others (`D+E`, `N*D`, `D/2`), which needs parentheses inside another. */
function compound(d: string): boolean {
  return !/^[A-Za-z_][A-Za-z0-9_]*$/.test(d);
}
