// Constructors for IR nodes, used by lowering, autodiff and rewrites alike. They only add the
// implicit conversions the language promises (ints and bools used as numbers become floats);
// simplification is the rewriter's job, so what is built here is exactly what was asked for.

import { LosscError } from '../errors.js';
import { Node } from './node.js';
import { normAxes, type DType, type Shape } from './shape.js';
import type { CompareOp, OpName, ReduceOp } from './ops.js';

export function constant(value: number, dtype: DType = 'float32'): Node {
  if (Number.isNaN(value)) throw new LosscError('value', 'a constant cannot be NaN');
  // Constants are float32 numbers: round once here so folding and printing agree with tfjs.
  let v = dtype === 'float32' ? Math.fround(value) : dtype === 'int32' ? Math.trunc(value) : value ? 1 : 0;
  if (v === 0) v = 0; // -0 and 0 are one constant (only 1/x could tell them apart)
  return Node.make('const', [], dtype === 'float32' ? { value: v } : { value: v, dtype });
}

/**
 * A float constant that prints as the expression it was folded from (`1 - epsilon`, not
 * 0.9999999): `shown` is that expression's node, whose arguments are constants too.
 */
export function shownConstant(value: number, shown: Node): Node {
  if (Number.isNaN(value)) throw new LosscError('value', 'a constant cannot be NaN');
  const v = Math.fround(value) === 0 ? 0 : Math.fround(value);
  // The id in the key tells it from the same value shown otherwise; the node itself is held by
  // `shownBy`, for as long as the constant lives (ids are never reused, so the key stays right).
  const c = Node.make('const', [], { value: v, shown: shown.id });
  shownBy.set(c, shown);
  return c;
}

/** The expression each folded constant that keeps one prints as (weak: it lives with the constant). */
const shownBy = new WeakMap<Node, Node>();

/** The expression a folded constant prints as, if it keeps one. */
export function shownOf(n: Node): Node | undefined {
  return n.op === 'const' ? shownBy.get(n) : undefined;
}

export function input(name: string, shape: Shape, dtype: DType = 'float32'): Node {
  return Node.make('input', [], { name, shape: [...shape], dtype });
}

/** A numeric option: symbolic in printed formulas, `value` when evaluated. */
export function param(name: string, value: number | number[]): Node {
  return Node.make('param', [], { name, value: Array.isArray(value) ? value.map(Math.fround) : Math.fround(value) });
}

export function tensorConst(values: number[], shape: Shape): Node {
  return Node.make('tensor', [], { values: values.map(Math.fround), shape: [...shape] });
}

export function cast(x: Node, dtype: DType): Node {
  if (x.dtype === dtype) return x;
  if (x.op === 'const') return constant(x.attrs.value as number, dtype);
  return Node.make('cast', [x], { dtype });
}

/** Ints and bools used in arithmetic become floats, as Keras casts every input to float32. */
export function asFloat(x: Node): Node {
  return cast(x, 'float32');
}

export function unary(op: OpName, x: Node): Node {
  return Node.make(op, [asFloat(x)]);
}

export function binary(op: OpName, a: Node, b: Node): Node {
  return Node.make(op, [asFloat(a), asFloat(b)]);
}

export const add = (a: Node, b: Node) => binary('add', a, b);
export const sub = (a: Node, b: Node) => binary('sub', a, b);
export const mul = (a: Node, b: Node) => binary('mul', a, b);
export const div = (a: Node, b: Node) => binary('div', a, b);
export const pow = (a: Node, b: Node) => binary('pow', a, b);
export const maximum = (a: Node, b: Node) => binary('maximum', a, b);
export const minimum = (a: Node, b: Node) => binary('minimum', a, b);
export const neg = (x: Node) => unary('neg', x);
export const exp = (x: Node) => unary('exp', x);
export const log = (x: Node) => unary('log', x);
export const sqrt = (x: Node) => unary('sqrt', x);
export const abs = (x: Node) => unary('abs', x);
export const sign = (x: Node) => unary('sign', x);
export const sigmoid = (x: Node) => unary('sigmoid', x);
export const softplus = (x: Node) => unary('softplus', x);
export const tanh = (x: Node) => unary('tanh', x);

/** Comparisons: mixed int/float compare as floats. */
export function compare(op: CompareOp, a: Node, b: Node): Node {
  if (a.dtype !== b.dtype) {
    a = asFloat(a);
    b = asFloat(b);
  }
  return Node.make(op, [a, b]);
}

export function where(c: Node, a: Node, b: Node): Node {
  return Node.make('where', [c, asFloat(a), asFloat(b)]);
}

export function clip(x: Node, lo: Node, hi: Node): Node {
  return Node.make('clip', [asFloat(x), asFloat(lo), asFloat(hi)]);
}

/** Reduce over `axes` (null: every axis). Axes are stored normalised and sorted. */
export function reduce(op: ReduceOp, x: Node, axes: readonly number[] | null, keepdims = false): Node {
  const xx = op === 'max' || op === 'min' ? x : asFloat(x);
  const norm = normAxes(axes, xx.rank);
  return Node.make(op, [xx], { axes: norm, keepdims });
}

/** The size of `x` along `axes` (their product) as a float scalar. */
export function size(x: Node, axes: readonly number[] | null): Node {
  return Node.make('size', [x], { axes: normAxes(axes, x.rank) });
}

export function broadcastLike(x: Node, like: Node): Node {
  if (x.shape.length === like.shape.length && x.shape.every((d, i) => d === like.shape[i]) && x.dtype !== 'bool') return x;
  return Node.make('broadcast_like', [x, like]);
}

export function expandDims(x: Node, axis: number): Node {
  return Node.make('expand_dims', [x], { axis: axis < 0 ? axis + x.rank + 1 : axis });
}

export function squeeze(x: Node, axis: number): Node {
  return Node.make('squeeze', [x], { axis: axis < 0 ? axis + x.rank : axis });
}

/** Chains of more operands than this are built as balanced trees by `chain`. */
export const BALANCE_AFTER = 32;

/**
 * `items[0] ∘ items[1] ∘ …` where item i is joined inverted (subtracted, divided) when
 * `inverted[i]`: folded from the left as written for a short chain, and as a balanced tree for a
 * long one, so that its depth grows as log n, not n (100 000 terms make 17 levels). `join(a, b,
 * inv, at)` builds a ∘ b (inverted when `inv`), `at` being the index of b's first item. Item 0
 * is never inverted. Recursive only to depth log n.
 */
export function chain(items: readonly Node[], inverted: readonly boolean[], join: (a: Node, b: Node, inv: boolean, at: number) => Node): Node {
  if (items.length <= BALANCE_AFTER) {
    let out = items[0]!;
    for (let i = 1; i < items.length; i++) out = join(out, items[i]!, inverted[i]!, i);
    return out;
  }
  // Each range [lo, hi) stands for the items in it with signs relative to item lo's.
  const build = (lo: number, hi: number): Node => {
    if (hi - lo === 1) return items[lo]!;
    const mid = (lo + hi) >> 1;
    return join(build(lo, mid), build(mid, hi), inverted[mid] !== inverted[lo], mid);
  };
  return build(0, items.length);
}

/**
 * Parts [from, to) of `parts` equal parts of x along `axis`, in order, as few nodes as a split
 * allows: each node is a part of a coarser split (d consecutive parts starting at a multiple of d,
 * d dividing `parts`), the largest that fits first. The derivative of one part of 1000 joins it
 * with the zeros of the other 999 in a handful of nodes, not 999. A coarser part is taken at a
 * symbolic size only where its size is written like the fine one's (`D/500` beside `D/1000`), so
 * that a concat of them is `D` again (op-spec's `joinedParts`).
 */
export function partRange(x: Node, axis: number, parts: number, from: number, to: number): Node[] {
  const part = (p: number, index: number) => Node.make('part', [x], { axis, parts: p, index });
  const fine = part(parts, from).shape[axis]!;
  const base = typeof fine === 'string' ? /^(.+)\/\d+$/.exec(fine)?.[1] : undefined;
  const out: Node[] = [];
  for (let at = from; at < to; ) {
    let d = 1;
    for (let c = to - at; c > 1; c--) {
      if (parts % c !== 0 || at % c !== 0) continue;
      if (typeof fine === 'string' && (c === parts || !base || part(parts / c, at / c).shape[axis] !== `${base}/${parts / c}`)) continue;
      d = c;
      break;
    }
    out.push(part(parts / d, at / d));
    at += d;
  }
  return out;
}
