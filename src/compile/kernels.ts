// How each IR op runs in TensorFlow.js: one entry per op, taking the argument tensors and the
// node (for its attributes and its now-concrete shape). Works on any tfjs backend.

import * as tf from '@tensorflow/tfjs';
import type { Node } from '../ir/node.js';
import type { OpName } from '../ir/ops.js';
import { LosscError } from '../errors.js';
import { ctcGrad, ctcLoss, type CtcDims } from '../eval/ctc.js';
import { recordingGradients } from './engine.js';
import { widenedCompare } from './compare.js';
import { sparseColumnSum, sparseMatmul } from './sparse-kernels.js';

export type Kernel = (args: tf.Tensor[], n: Node) => tf.Tensor;

const tfDtype = (d: string): tf.DataType => (d === 'float32' ? 'float32' : d === 'int32' ? 'int32' : 'bool');
const shapeOf = (n: Node) => n.shape as number[];
const FLOAT_MAX = 3.4028234663852886e38;

const reduce =
  (f: (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor): Kernel =>
  ([x], n) => {
    const axes = n.attrs.axes as number[];
    if (axes.length === 0) return x!;
    const keep = n.attrs.keepdims === true;
    // max/min over bools are any/all (one kernel each); tfjs reduces bools poorly otherwise.
    if (x!.dtype === 'bool' && (n.op === 'max' || n.op === 'min')) return n.op === 'max' ? tf.any(x!, axes, keep) : tf.all(x!, axes, keep);
    const xx = x!.dtype === 'bool' ? tf.cast(x!, 'int32') : x!;
    const r = f(xx, axes, keep);
    return x!.dtype === 'bool' ? tf.cast(r, 'bool') : r;
  };

const sum = reduce((x, a, k) => tf.sum(x, a, k));

/** The tensor a zero-gradient identity gives, so that tf.grad through stop_gradient is zero too. */
const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * f's tensor with no tape node reaching the tensors it reads (a customGrad of no inputs runs f
 * unrecorded): for what selects entries and is never differentiated, such as a loss's mask.
 */
export function untaped(f: () => tf.Tensor): tf.Tensor {
  const g = tf.customGrad(((save: unknown) => {
    void save; // nothing to save: there is no gradient
    return { value: f(), gradFunc: () => [] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as () => tf.Tensor;
  return g();
}

/**
 * A where's argument `i` widened to the node's shape (tfjs's where broadcasts by Tile, slow on
 * wasm): a constant 0 (most often a gradient's mask) is a zeros tensor made without a kernel, a
 * smaller float by a broadcasting add, a smaller condition by a broadcasting logical and.
 */
function widen(x: tf.Tensor, n: Node, i: number): tf.Tensor {
  const shape = shapeOf(n);
  if (x.size === shape.reduce((p, q) => p * q, 1)) return x;
  const arg = n.args[i]!;
  if (x.dtype === 'float32' && arg.op === 'const' && arg.attrs.value === 0) return tf.zeros(shape);
  if (x.dtype === 'float32') return tf.add(tf.zeros(shape), x);
  return x.dtype === 'bool' ? tf.logicalAnd(x, tf.ones(shape, 'bool')) : x;
}

const isZero = (n: Node) => n.op === 'const' && n.attrs.value === 0;

/**
 * Backends whose binary kernels broadcast by indexing each element generically (tfjs-backend-cpu
 * makes arrays per element: [8192, 128] - [8192, 1] takes 120 ms, its same-shape loop 5 ms).
 */
const SLOW_BROADCAST = new Set(['cpu']);

/** Does `x` broadcast to `shape` along an axis of its own (a unit axis), not only by leading axes (which tfjs's loop handles)? */
const stretched = (x: tf.Tensor, shape: readonly number[]) => x.shape.some((d, i) => d === 1 && shape[shape.length - x.rank + i]! > 1);

/**
 * a and b for an elementwise kernel: where the backend broadcasts slowly, an operand stretched
 * along a unit axis is first repeated to the result's shape by a loop over its data (exact, a new
 * tensor). Only off the tape: a tensor made from data has no gradient.
 */
function evenly(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !SLOW_BROADCAST.has(tf.getBackend()) || recordingGradients()) return [a, b];
  const [sa, sb] = [stretched(a, b.shape), stretched(b, a.shape)];
  if (!sa && !sb) return [a, b];
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  return [sa ? repeatTo(a, shape) : a, sb ? repeatTo(b, shape) : b];
}

/** x (float32) repeated to `shape`, which it broadcasts to: runs of its last axis copied, or one value filled. */
export function repeatTo(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const src = x.dataSync() as Float32Array;
  const rank = shape.length;
  const dims = [...new Array<number>(rank - x.rank).fill(1), ...x.shape];
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= dims[i]!, i--) strides[i] = dims[i] === 1 ? 0 : s;
  const inner = shape[rank - 1]!;
  const out = new Float32Array(shape.reduce((p, q) => p * q, 1));
  const at = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (strides[rank - 1] === 0) out.fill(src[base]!, o, o + inner);
    else out.set(src.subarray(base, base + inner), o);
    // the next run: an odometer over the axes before the last
    for (let d = rank - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++at[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      at[d] = 0;
    }
  }
  return tf.tensor(out, [...shape], 'float32');
}

/** Backends whose ClipByValue keeps NaN (wasm's gives the lower bound). */
const CLIP_KEEPS_NAN = new Set(['cpu', 'webgl']);

/**
 * min(max(x, lo), hi), as one ClipByValue for constant bounds (two broadcasting kernels
 * otherwise, slow on wasm); where ClipByValue loses NaN, NaN is put back by a Select.
 */
function clip(x: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor, n: Node): tf.Tensor {
  const [l, h] = [n.args[1]!, n.args[2]!];
  if (x.dtype !== 'float32' || l.op !== 'const' || h.op !== 'const' || !((l.attrs.value as number) <= (h.attrs.value as number))) {
    return tf.minimum(tf.maximum(x, lo), hi);
  }
  const c = tf.clipByValue(x, l.attrs.value as number, h.attrs.value as number);
  return CLIP_KEEPS_NAN.has(tf.getBackend()) ? c : select(tf.isNaN(x), x, c);
}

/** Backends whose data a kernel may read synchronously at no cost (no GPU readback). */
const HOST_DATA = new Set(['cpu', 'wasm']);

/**
 * where(c, a, b). A one-element condition (a test over a whole tensor, as hinge's for {0, 1}
 * labels) picks a branch: read where that is free, rather than widened to the result's shape.
 */
function whereOf(c: tf.Tensor, a: tf.Tensor, b: tf.Tensor, n: Node): tf.Tensor {
  const shape = shapeOf(n);
  const whole = (x: tf.Tensor) => x.rank === shape.length && x.shape.every((d, i) => d === shape[i]);
  if (c.size === 1 && c.dtype === 'bool' && HOST_DATA.has(tf.getBackend())) {
    const picked = c.dataSync()[0] ? a : b;
    if (whole(picked) && picked.dtype === a.dtype && a.dtype === b.dtype) return picked;
  }
  return select(widen(c, n, 0), widen(a, n, 1), widen(b, n, 2));
}

/** Backends whose OneHot writes the dtype asked for. */
const ONE_HOT_FLOAT = new Set(['cpu', 'webgl']);

/** labels [...] -> [..., depth]: 1 where a label is exactly j, else 0 (any depth, any label). */
function oneHotOf(labels: tf.Tensor, depth: number): tf.Tensor {
  // tf.oneHot (one kernel) takes int labels and at least two classes; it gives 0 outside [0, depth)
  // too. wasm's writes int32 whatever dtype it is asked for: there it is cast (two kernels, not five).
  if (labels.dtype === 'int32' && depth >= 2) {
    return ONE_HOT_FLOAT.has(tf.getBackend()) ? tf.oneHot(labels, depth, 1, 0, 'float32') : tf.cast(tf.oneHot(labels, depth), 'float32');
  }
  const classes = tf.range(0, depth, 1, 'float32');
  return tf.cast(tf.equal(tf.expandDims(tf.cast(labels, 'float32'), -1), classes), 'float32');
}

/**
 * log(sum(exp(x))) shifted by the max clipped to the finite floats, so all -inf gives -inf (not
 * NaN as tf.logSumExp) and +inf gives +inf; a finite max is the shift itself.
 */
function logSumExp(x: tf.Tensor, axes: number[], keep: boolean): tf.Tensor {
  const m = tf.max(x, axes, true);
  const shift = tf.clipByValue(m, -FLOAT_MAX, FLOAT_MAX);
  const s = tf.log(tf.sum(tf.exp(tf.sub(...evenly(x, shift))), axes, true));
  const r = tf.add(s, shift);
  return keep ? r : tf.squeeze(r, axes);
}

/**
 * Comparisons and logic have no derivative, and tfjs's tape has no gradient for them at all
 * ("gradient function not found for LessEqual"). Giving them an explicit zero gradient lets
 * tf.grad run through a compiled value (as the tests do, to check lossc's own gradient).
 */
function noGradient(f: (...xs: tf.Tensor[]) => tf.Tensor): Kernel {
  const g = tf.customGrad(((...args: unknown[]) => {
    args.pop(); // the save function: nothing to save
    const xs = args as tf.Tensor[];
    return { value: f(...xs), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  // Off the tape (a plan run inside lossc's own gradient, or its backward) the wrapper would be
  // one more scope per comparison for nothing.
  return (args) => (recordingGradients() ? g(...args) : f(...args));
}

/**
 * tf.where, its condition and branches already of the result's shape, as tfjs's Select kernel
 * alone: tf.where broadcasts all three first, one Identity kernel each when nothing broadcasts.
 */
function select(c: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const same = (x: tf.Tensor) => x.rank === a.rank && x.shape.every((d, i) => d === a.shape[i]);
  if (c.dtype !== 'bool' || a.dtype !== b.dtype || !same(c) || !same(b)) return tf.where(c, a, b);
  return tf.engine().runKernel('Select', { condition: c, t: a, e: b }) as tf.Tensor;
}

// ---- CTC: tfjs has no CTC op, so the data is read out (dataSync) and the forward(-backward)
// algorithm runs in JavaScript, in float64 (src/eval/ctc.ts); the result is a new tensor. ----

function ctcDims(labels: tf.Tensor, logits: tf.Tensor): CtcDims {
  if (labels.rank !== 2 || logits.rank !== 3 || labels.shape[0] !== logits.shape[0]) {
    throw new LosscError('shape', `ctc needs labels [batch, max label length] and logits [batch, time, classes] of one batch size, got [${labels.shape.join(', ')}] and [${logits.shape.join(', ')}]`);
  }
  const [B, L] = labels.shape as [number, number];
  const [, T, C] = logits.shape as [number, number, number];
  return { batch: B, labels: L, time: T, classes: C };
}

function ctcValue(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const d = ctcDims(labels, logits);
  return tf.tensor(Float32Array.from(ctcLoss(labels.dataSync(), logits.dataSync(), d)), [d.batch], 'float32');
}

function ctcGradient(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const d = ctcDims(labels, logits);
  return tf.tensor(Float32Array.from(ctcGrad(labels.dataSync(), logits.dataSync(), d)), [d.batch, d.time, d.classes], 'float32');
}

/**
 * The ctc kernel, with its derivative attached for tfjs's tape (a tensor made from data is not
 * on the tape otherwise): d/d logits = dy[b] * ctc_grad(labels, logits), none for the labels.
 */
const ctcTaped = tf.customGrad(((labels: tf.Tensor, logits: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
  save([labels, logits]);
  return {
    value: ctcValue(labels, logits),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [l, x] = saved as [tf.Tensor, tf.Tensor];
      const g = ctcGradient(l, x);
      const scaled = tf.mul(tf.expandDims(tf.expandDims(dy, -1), -1), g);
      g.dispose();
      return [tf.zeros(l.shape, 'float32'), scaled];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor;

export const KERNELS: Record<OpName, Kernel> = {
  input: () => {
    throw new Error('inputs are bound, not computed');
  },
  const: (_a, n) => tf.scalar(n.attrs.value as number, tfDtype(n.dtype)),
  tensor: (_a, n) => tf.tensor(n.attrs.values as number[], shapeOf(n), 'float32'),
  param: (_a, n) => (Array.isArray(n.attrs.value) ? tf.tensor1d(n.attrs.value as number[]) : tf.scalar(n.attrs.value as number)),
  size: ([x], n) => tf.scalar((n.attrs.axes as number[]).reduce((p, a) => p * x!.shape[a]!, 1)),
  indices: (_a, n) => tf.range(0, shapeOf(n)[0]!, 1, 'int32'),

  neg: ([x]) => tf.neg(x!),
  exp: ([x]) => tf.exp(x!),
  log: ([x]) => tf.log(x!),
  log1p: ([x]) => tf.log1p(x!),
  expm1: ([x]) => tf.expm1(x!),
  sqrt: ([x]) => tf.sqrt(x!),
  abs: ([x]) => tf.abs(x!),
  // tf.sign(NaN) is 0; sign(NaN) is NaN, as in the reference and the fused target.
  sign: ([x]) => select(tf.isNaN(x!), x!, tf.sign(x!)),
  sigmoid: ([x]) => tf.sigmoid(x!),
  softplus: ([x]) => tf.softplus(x!),
  tanh: ([x]) => tf.tanh(x!),
  cosh: ([x]) => tf.cosh(x!),
  sinh: ([x]) => tf.sinh(x!),
  cos: ([x]) => tf.cos(x!),
  sin: ([x]) => tf.sin(x!),
  floor: ([x]) => tf.floor(x!),
  not: noGradient((x) => tf.logicalNot(x)),
  cast: ([x], n) => (n.dtype === 'bool' ? tf.notEqual(x!, tf.scalar(0, x!.dtype)) : tf.cast(x!, tfDtype(n.dtype))),
  stop_gradient: ([x]) => stopGradient(x!),

  add: ([a, b]) => tf.add(...evenly(a!, b!)),
  sub: ([a, b]) => tf.sub(...evenly(a!, b!)),
  mul: ([a, b]) => tf.mul(...evenly(a!, b!)),
  div: ([a, b]) => tf.div(...evenly(a!, b!)),
  pow: ([a, b], n) => {
    // Exponents that are exactly a cheaper op (tfjs's pow is a generic kernel: on wasm,
    // pow(x, 2) costs 13x square(x)); x*x and 1/x give pow's results, NaN and ±inf included.
    const e = n.args[1]!;
    const v = e.op === 'const' ? (e.attrs.value as number) : undefined;
    if (v === 1) return tf.clone(a!);
    if (v === 2) return tf.square(a!);
    if (v === 3) return tf.mul(tf.square(a!), a!);
    if (v === -1) return tf.reciprocal(a!);
    return tf.pow(a!, b!);
  },
  // max(x, 0) is relu (tfjs's Maximum broadcasting a scalar is a slow generic kernel on wasm).
  maximum: ([a, b], n) => (isZero(n.args[1]!) && a!.dtype === 'float32' ? tf.relu(a!) : isZero(n.args[0]!) && b!.dtype === 'float32' ? tf.relu(b!) : tf.maximum(a!, b!)),
  minimum: ([a, b]) => tf.minimum(a!, b!),
  lt: noGradient(widenedCompare((a, b) => tf.less(a, b))),
  le: noGradient(widenedCompare((a, b) => tf.lessEqual(a, b))),
  gt: noGradient(widenedCompare((a, b) => tf.greater(a, b))),
  ge: noGradient(widenedCompare((a, b) => tf.greaterEqual(a, b))),
  eq: noGradient(widenedCompare((a, b) => tf.equal(a, b))),
  ne: noGradient(widenedCompare((a, b) => tf.notEqual(a, b))),
  and: noGradient((a, b) => tf.logicalAnd(a!, b!)),
  or: noGradient((a, b) => tf.logicalOr(a!, b!)),

  where: ([c, a, b], n) => whereOf(c!, a!, b!, n),
  clip: ([x, lo, hi], n) => clip(x!, lo!, hi!, n),

  sum: (args, n) => sparseColumnSum(args[0]!, n) ?? sum(args, n),
  // The sum, then one division, as the fused kernels do: tfjs's mean divides each entry first, so
  // mean([0.5, 1.5, -2]) is -1.5e-8, not 0 (fuzz seed 50177705: an == 0 that held on one path only).
  mean: reduce((x, a, k) =>
    tf.tidy(() => tf.div(tf.sum(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), a, k), a.reduce((n, i) => n * x.shape[i < 0 ? i + x.rank : i]!, 1))),
  ),
  max: reduce((x, a, k) => tf.max(x, a, k)),
  min: reduce((x, a, k) => tf.min(x, a, k)),
  logsumexp: reduce(logSumExp),

  broadcast_like: ([x], n) => tf.broadcastTo(x!, shapeOf(n)),
  expand_dims: ([x], n) => tf.expandDims(x!, n.attrs.axis as number),
  squeeze: ([x], n) => tf.reshape(x!, shapeOf(n)),
  part: ([x], n) => {
    const axis = n.attrs.axis as number;
    const size = shapeOf(n)[axis]!;
    const begin = x!.shape.map((_, i) => (i === axis ? size * (n.attrs.index as number) : 0));
    return tf.slice(x!, begin, shapeOf(n));
  },
  concat: (xs, n) => tf.concat(xs, n.attrs.axis as number),
  transpose: ([x], n) => tf.transpose(x!, n.attrs.perm as number[]),
  matmul: ([a, b], n) => sparseMatmul(a!, b!, n) ?? matmulBroadcast(a!, b!),
  // 1 where the label equals the position along the last axis, as the reference and the fused
  // target compare (tf.oneHot refuses depth 1, which a one-class size(x, axis = k) gives).
  one_hot: (args, n) => noGradient((labels) => oneHotOf(labels!, shapeOf(n)[n.rank - 1]!))(args, n),
  ctc: ([labels, logits]) => ctcTaped(labels!, logits!),
  ctc_grad: ([labels, logits]) => ctcGradient(labels!, logits!),
};

/**
 * tf.matMul with the batch axes broadcast beforehand: tfjs's cpu kernel pairs the batch entries of
 * operands whose batch axes broadcast ([2, 1] against [2, 2]) wrongly (fuzz seeds 4043166, 4040220).
 */
function matmulBroadcast(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const n = Math.max(ba.length, bb.length);
  const pad = (s: number[]) => [...Array<number>(n - s.length).fill(1), ...s];
  const batch = pad(ba).map((d, i) => Math.max(d, pad(bb)[i]!));
  const widen = (x: tf.Tensor, s: number[]) => (s.length === n && s.every((d, i) => d === batch[i]) ? x : tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]));
  return tf.matMul(widen(a, ba), widen(b, bb));
}
