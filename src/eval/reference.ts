// The float64 reference evaluator: the meaning of every IR op, computed plainly in doubles. It is
// the yardstick the compiled TensorFlow.js code and the derivatives are checked against, so it
// favours obviousness over speed: one table entry per op, built from a few generic helpers.

import { LosscError } from '../errors.js';
import { topoSort, type Node } from '../ir/node.js';
import { reduceAxes, type OpName } from '../ir/ops.js';
import { normAxis, showShape, type Shape } from '../ir/shape.js';
import {
  broadcastShape,
  broadcastTo,
  coerce,
  gather,
  sizeOf,
  stridesOf,
  tabulate,
  type NdArray,
} from './ndarray.js';
import { ctcGrad, ctcLoss, type CtcDims } from './ctc.js';

export type Inputs = Readonly<Record<string, NdArray>>;

/** What an op computes: a concrete shape and values (the dtype is always the node's). */
interface Raw {
  shape: number[];
  data: Float64Array;
}

type Impl = (args: NdArray[], node: Node, inputs: Inputs) => Raw;

/**
 * Evaluate `roots` with the given input values. Each node is computed once, in topological order;
 * intermediate values are dropped once their last user has run.
 */
export function evaluate(roots: readonly Node[], inputs: Inputs): NdArray[] {
  const order = topoSort(roots);
  const pending = new Map<Node, number>();
  for (const n of order) for (const a of n.args) pending.set(a, (pending.get(a) ?? 0) + 1);
  const keep = new Set(roots);
  const values = new Map<Node, NdArray>();
  for (const n of order) {
    const args = n.args.map((a) => values.get(a)!);
    const raw = IMPLS[n.op](args, n, inputs);
    checkInferred(n, raw.shape);
    values.set(n, { shape: [...raw.shape], dtype: n.dtype, data: raw.data });
    for (const a of n.args) {
      const left = pending.get(a)! - 1;
      pending.set(a, left);
      if (left === 0 && !keep.has(a)) values.delete(a);
    }
  }
  return roots.map((r) => values.get(r)!);
}

/** The IR inferred a shape; the concrete result must have its rank and its known dims. */
function checkInferred(n: Node, shape: readonly number[]): void {
  if (shape.length !== n.shape.length || n.shape.some((d, i) => typeof d === 'number' && d !== shape[i])) {
    throw new LosscError('shape', `\`${n.op}\` produced shape ${showShape(shape)} where ${showShape(n.shape)} was inferred`);
  }
}

// ---- Leaves ----

function inputValue(node: Node, inputs: Inputs): Raw {
  const name = node.attrs.name as string;
  if (!Object.hasOwn(inputs, name)) throw new LosscError('usage', `no value was given for input \`${name}\``);
  const a = inputs[name]!;
  if (a.data.length !== sizeOf(a.shape)) {
    throw new LosscError('value', `the value of input \`${name}\` has shape ${showShape(a.shape)} but ${a.data.length} elements`);
  }
  const want = node.shape;
  if (a.shape.length !== want.length || want.some((d, i) => typeof d === 'number' && d !== a.shape[i])) {
    throw new LosscError('shape', `input \`${name}\` should have shape ${showShape(want)}, got ${showShape(a.shape)}`);
  }
  return { shape: a.shape, data: tabulate(a.data.length, (i) => coerce(a.data[i]!, node.dtype)) };
}

function literal(values: readonly number[], shape: Shape): Raw {
  if (!shape.every((d): d is number => typeof d === 'number') || sizeOf(shape) !== values.length) {
    throw new LosscError('value', `a tensor literal of shape ${showShape(shape)} cannot hold ${values.length} values`);
  }
  return { shape: [...shape], data: Float64Array.from(values) };
}

const scalarRaw = (v: number): Raw => ({ shape: [], data: Float64Array.of(v) });

// ---- Elementwise ----

const truth = (v: number): boolean => v !== 0;
const bit = (b: boolean): number => (b ? 1 : 0);

const unary =
  (f: (x: number) => number): Impl =>
  ([x]) => ({ shape: x!.shape, data: x!.data.map((v) => f(v)) });

/** Broadcast the arguments against each other, then compute each output element from columns. */
function zip(args: NdArray[], node: Node, f: (cols: Float64Array[], i: number) => number): Raw {
  const shape = broadcastShape(args.map((a) => a.shape), `arguments of \`${node.op}\``);
  const cols = args.map((a) => broadcastTo(a, shape).data);
  return { shape, data: tabulate(sizeOf(shape), (i) => f(cols, i)) };
}

const binary =
  (f: (a: number, b: number) => number): Impl =>
  (args, node) =>
    zip(args, node, (c, i) => f(c[0]![i]!, c[1]![i]!));

const ternary =
  (f: (a: number, b: number, c: number) => number): Impl =>
  (args, node) =>
    zip(args, node, (c, i) => f(c[0]![i]!, c[1]![i]!, c[2]![i]!));

const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

// ---- Reductions ----

/** Reduce over the node's `axes` (keepdims as asked), applying `f` to each group of values. */
const reduction =
  (f: (xs: Float64Array) => number): Impl =>
  ([x], node) => {
    const rank = x!.shape.length;
    const axes = reduceAxes(node.attrs, rank);
    const kept = [...Array(rank).keys()].filter((i) => !axes.includes(i));
    // Move the reduced axes last: then every output element reduces one contiguous run.
    const t = transpose(x!, [...kept, ...axes]).data;
    const run = sizeOf(axes.map((a) => x!.shape[a]!));
    const shape = node.attrs.keepdims === true ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => x!.shape[i]!);
    return { shape, data: tabulate(sizeOf(shape), (i) => f(t.subarray(i * run, (i + 1) * run))) };
  };

function sumOf(xs: Float64Array): number {
  let s = 0;
  for (const v of xs) s += v;
  return s;
}

/** Max and min propagate NaN (Math.max/min do). Empty: -Infinity and +Infinity. */
function maxOf(xs: Float64Array): number {
  let m = -Infinity;
  for (const v of xs) m = Math.max(m, v);
  return m;
}

function minOf(xs: Float64Array): number {
  let m = Infinity;
  for (const v of xs) m = Math.min(m, v);
  return m;
}

function logSumExp(xs: Float64Array): number {
  const m = maxOf(xs);
  if (!Number.isFinite(m)) return m; // all -inf (or empty) gives -inf; any +inf gives +inf; NaN stays
  let s = 0;
  for (const v of xs) s += Math.exp(v - m);
  return m + Math.log(s);
}

// ---- Layout ----

function transpose(x: NdArray, perm: readonly number[]): Raw {
  const st = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  return { shape, data: gather(x.data, shape, perm.map((p) => st[p]!)) };
}

/** `length` entries of `x` along `axis`, from `start`. */
function slice(x: NdArray, axis: number, start: number, length: number): Raw {
  const st = stridesOf(x.shape);
  const shape = x.shape.map((d, i) => (i === axis ? length : d));
  return { shape, data: gather(x.data, shape, st, start * st[axis]!) };
}

const reshaped = (x: NdArray, shape: number[]): Raw => ({ shape, data: x.data.slice() });

function concat(args: NdArray[], node: Node): Raw {
  if (args.length === 0) throw new LosscError('arity', '`concat` needs at least one argument');
  const first = args[0]!;
  const axis = normAxis(node.attrs.axis as number, first.shape.length);
  for (const a of args) {
    if (a.shape.length !== first.shape.length || a.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new LosscError('shape', `cannot concat ${args.map((b) => showShape(b.shape)).join(' and ')} along axis ${axis}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === axis ? args.reduce((s, a) => s + a.shape[axis]!, 0) : d));
  const data = new Float64Array(sizeOf(shape));
  const outer = sizeOf(first.shape.slice(0, axis));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const a of args) {
      const chunk = sizeOf(a.shape.slice(axis));
      data.set(a.data.subarray(o * chunk, (o + 1) * chunk), pos);
      pos += chunk;
    }
  }
  return { shape, data };
}

function part(x: NdArray, node: Node): Raw {
  const axis = normAxis(node.attrs.axis as number, x.shape.length);
  const parts = node.attrs.parts as number;
  const index = node.attrs.index as number;
  const n = x.shape[axis]!;
  if (!Number.isInteger(parts) || parts < 1) throw new LosscError('shape', `cannot split into ${parts} parts`);
  if (n % parts !== 0) throw new LosscError('shape', `size ${n} along axis ${axis} is not divisible by ${parts}`);
  if (!Number.isInteger(index) || index < 0 || index >= parts) {
    throw new LosscError('shape', `part ${index} of ${parts} does not exist (valid: 0 to ${parts - 1})`);
  }
  return slice(x, axis, index * (n / parts), n / parts);
}

function matmul(a: NdArray, b: NdArray): Raw {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new LosscError('shape', `matmul needs tensors of rank 2 or more, got ${showShape(a.shape)} and ${showShape(b.shape)}`);
  }
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new LosscError('shape', `matmul of ${showShape(a.shape)} and ${showShape(b.shape)}: inner sizes ${k} and ${k2} differ`);
  }
  const batch = broadcastShape([a.shape.slice(0, -2), b.shape.slice(0, -2)], 'batch axes of `matmul`');
  const A = broadcastTo(a, [...batch, m, k]).data;
  const B = broadcastTo(b, [...batch, k, n]).data;
  const data = new Float64Array(sizeOf(batch) * m * n);
  for (let t = 0; t < sizeOf(batch); t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[t * m * k + i * k + p]! * B[t * k * n + p * n + j]!;
        data[t * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data };
}

function oneHot(args: NdArray[], node: Node): Raw {
  if (args.length < 1 || args.length > 2) {
    throw new LosscError('arity', `\`one_hot\` takes labels and optionally a reference tensor, got ${args.length} argument(s)`);
  }
  const labels = args[0]!;
  const ref = args[1];
  const depth = ref ? ref.shape[normAxis(node.attrs.axis as number, ref.shape.length)]! : (node.attrs.depth as number);
  if (!Number.isInteger(depth) || depth < 0) throw new LosscError('shape', `one_hot depth must be a whole number >= 0, got ${depth}`);
  const data = new Float64Array(labels.data.length * depth);
  labels.data.forEach((l, i) => {
    if (Number.isInteger(l) && l >= 0 && l < depth) data[i * depth + l] = 1;
  });
  return { shape: [...labels.shape, depth], data };
}

// ---- Sequence ----

/** The sizes of `ctc`'s arguments: labels [B, L] and logits [B, T, C], one batch size. */
function ctcDims(labels: NdArray, logits: NdArray): CtcDims {
  if (labels.shape.length !== 2 || logits.shape.length !== 3) {
    throw new LosscError('shape', `ctc needs labels [batch, max label length] and logits [batch, time, classes], got ${showShape(labels.shape)} and ${showShape(logits.shape)}`);
  }
  const [B, L] = labels.shape as [number, number];
  const [B2, T, C] = logits.shape as [number, number, number];
  if (B !== B2) throw new LosscError('shape', `ctc: labels ${showShape(labels.shape)} and logits ${showShape(logits.shape)} have different batch sizes`);
  return { batch: B, labels: L, time: T, classes: C };
}

// ---- The table: what every op means ----

export const IMPLS: Record<OpName, Impl> = {
  input: (_, node, inputs) => inputValue(node, inputs),
  const: (_, node) => scalarRaw(coerce(node.attrs.value as number, node.dtype)),
  tensor: (_, node) => literal(node.attrs.values as number[], node.attrs.shape as Shape),
  param: (_, node) => {
    const v = node.attrs.value as number | number[];
    return Array.isArray(v) ? literal(v, [v.length]) : scalarRaw(v);
  },
  size: ([x], node) => scalarRaw(sizeOf(reduceAxes(node.attrs, x!.shape.length).map((a) => x!.shape[a]!))),
  indices: ([x], node) => {
    const n = x!.shape[normAxis(node.attrs.axis as number, x!.shape.length)]!;
    return { shape: [n], data: tabulate(n, (i) => i) };
  },

  neg: unary((x) => -x),
  exp: unary(Math.exp),
  log: unary(Math.log),
  log1p: unary(Math.log1p),
  expm1: unary(Math.expm1),
  sqrt: unary(Math.sqrt),
  abs: unary(Math.abs),
  sign: unary(sign),
  sigmoid: unary(sigmoid),
  softplus: unary(softplus),
  tanh: unary(Math.tanh),
  cosh: unary(Math.cosh),
  sinh: unary(Math.sinh),
  cos: unary(Math.cos),
  sin: unary(Math.sin),
  floor: unary(Math.floor),
  not: unary((x) => bit(!truth(x))),
  cast: ([x], node) => ({ shape: x!.shape, data: x!.data.map((v) => coerce(v, node.dtype)) }),
  stop_gradient: ([x]) => reshaped(x!, x!.shape),

  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
  pow: binary(Math.pow),
  maximum: binary(Math.max),
  minimum: binary(Math.min),
  lt: binary((a, b) => bit(a < b)),
  le: binary((a, b) => bit(a <= b)),
  gt: binary((a, b) => bit(a > b)),
  ge: binary((a, b) => bit(a >= b)),
  eq: binary((a, b) => bit(a === b)),
  ne: binary((a, b) => bit(a !== b)),
  and: binary((a, b) => bit(truth(a) && truth(b))),
  or: binary((a, b) => bit(truth(a) || truth(b))),

  where: ternary((c, a, b) => (truth(c) ? a : b)),
  clip: ternary((x, lo, hi) => Math.min(Math.max(x, lo), hi)),

  sum: reduction(sumOf),
  mean: reduction((xs) => sumOf(xs) / xs.length),
  max: reduction(maxOf),
  min: reduction(minOf),
  logsumexp: reduction(logSumExp),

  broadcast_like: ([x, like]) => reshaped(broadcastTo(x!, like!.shape), like!.shape),
  expand_dims: ([x], node) => {
    const shape = [...x!.shape];
    shape.splice(normAxis(node.attrs.axis as number, shape.length + 1), 0, 1);
    return reshaped(x!, shape);
  },
  squeeze: ([x], node) => {
    const axis = normAxis(node.attrs.axis as number, x!.shape.length);
    if (x!.shape[axis] !== 1) {
      throw new LosscError('shape', `cannot squeeze axis ${axis} of shape ${showShape(x!.shape)}: its size is ${x!.shape[axis]}, not 1`);
    }
    return reshaped(x!, x!.shape.filter((_, i) => i !== axis));
  },
  part: ([x], node) => part(x!, node),
  concat: (args, node) => concat(args, node),
  transpose: ([x], node) => {
    const perm = node.attrs.perm as number[];
    const rank = x!.shape.length;
    if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      throw new LosscError('shape', `transpose permutation [${perm.join(', ')}] does not fit rank ${rank}`);
    }
    return transpose(x!, perm);
  },
  matmul: ([a, b]) => matmul(a!, b!),
  one_hot: (args, node) => oneHot(args, node),
  // The forward algorithm in log space (log-sum-exp accumulations, log 0 as -1e5): src/eval/ctc.ts.
  ctc: ([labels, logits]) => {
    const d = ctcDims(labels!, logits!);
    return { shape: [d.batch], data: ctcLoss(labels!.data, logits!.data, d) };
  },
  ctc_grad: ([labels, logits]) => {
    const d = ctcDims(labels!, logits!);
    return { shape: [d.batch, d.time, d.classes], data: ctcGrad(labels!.data, logits!.data, d) };
  },
};
