// Keras's loss pipeline around a per-sample loss (keras_losses.md §1): rank alignment of y_true
// and y_pred, the Keras mask folded into the sample weight, weighting, and the reduction.
// They run inside the loss's own tape node (off tfjs's tape), their derivative in closed form,
// seeding the per-sample loss's symbolic gradient.

import * as tf from '@tensorflow/tfjs';
import type { Reducer } from '../compile/compiled.js';
import { LosscError } from '../errors.js';

export const REDUCTIONS = ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

export function checkReduction(r: unknown): Reduction {
  if (r === null || r === undefined) return r === null ? 'none' : 'sum_over_batch_size';
  if (typeof r === 'string' && (REDUCTIONS as readonly string[]).includes(r)) return r as Reduction;
  throw new LosscError(
    'option',
    `Invalid value for argument \`reduction\`: ${JSON.stringify(r)} (expected one of ${REDUCTIONS.join(', ')} or null)`,
  );
}

/** Keras's `squeeze_or_expand_to_same_rank` on shapes: fix a rank difference of one trailing unit axis. */
export function alignShapes(a: readonly number[], b: readonly number[]): [readonly number[], readonly number[]] {
  const ra = a.length;
  const rb = b.length;
  if (ra === rb + 1 && a[ra - 1] === 1) return rb === 1 ? [a, [...b, 1]] : [a.slice(0, -1), b];
  if (rb === ra + 1 && b[rb - 1] === 1) return ra === 1 ? [[...a, 1], b] : [a, b.slice(0, -1)];
  return [a, b];
}

/** The same on tensors (a reshape where a unit axis is added or dropped). */
export function align(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [sa, sb] = alignShapes(a.shape, b.shape);
  return [sa.length === a.rank ? a : tf.reshape(a, [...sa]), sb.length === b.rank ? b : tf.reshape(b, [...sb])];
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function requireBroadcast(what: string, a: readonly number[], b: readonly number[], loss: string): number[] {
  const out = broadcastShape(a, b);
  if (!out) throw new LosscError('shape', `\`${loss}\`: ${what} of shapes [${a.join(', ')}] and [${b.join(', ')}] cannot broadcast`);
  return out;
}

/**
 * A Keras mask marks each per-sample value: it has the values' shape (up to a trailing unit axis,
 * which `align` fixes). A mask that would only broadcast (`[false]` against 2 values) is a slip
 * that would silently mask everything or nothing, so it is refused.
 */
function requireMaskShape(mask: readonly number[], values: readonly number[], loss: string): readonly number[] {
  const [m, v] = alignShapes(mask, values);
  if (m.length === v.length && m.every((d, i) => d === v[i])) return m;
  throw new LosscError(
    'shape',
    `\`${loss}\`: the mask has shape [${mask.join(', ')}] but the per-sample loss has shape [${values.join(', ')}]; a mask has one entry per per-sample value`,
  );
}

/** The shapes of reduceLoss's inputs (the per-sample values as the loss's plan gives them). */
export interface ReduceShapes {
  values: readonly number[];
  outMask?: readonly number[];
  inMask?: readonly number[];
  sampleWeight?: readonly number[];
}

/**
 * Every check of reduceLoss, on shapes alone, so that a call refuses its inputs before any kernel
 * runs: an error thrown under tf.grad after kernels ran leaks the tensors tfjs saved for the
 * backward pass (the tape is never closed).
 */
export function checkReduceShapes({ values, outMask, inMask, sampleWeight }: ReduceShapes, reduction: Reduction, loss: string): void {
  // A loss of the whole batch cannot be per-sample anything (a number as the weight scales it).
  const perSample = sampleWeight !== undefined && sampleWeight.length > 0;
  if (values.length === 0 && (reduction === 'none' || perSample || inMask)) {
    const how = reduction === 'none' ? "left unreduced (reduction: 'none')" : perSample ? 'weighted per sample' : 'masked per sample';
    throw new LosscError('usage', `\`${loss}\` gives one number per batch, not one per sample, so it cannot be ${how}`);
  }
  const m = inMask ? requireMaskShape(inMask, values, loss) : undefined;
  const mask = m && outMask ? requireBroadcast('the mask and the loss mask', m, outMask, loss) : (m ?? outMask);
  let sw = sampleWeight;
  if (mask) {
    if (sw) {
      const [mw, s] = alignShapes(mask, sw);
      sw = requireBroadcast('the mask and the sample weight', mw, s, loss);
    } else sw = mask;
  }
  if (sw) {
    const [vv, ss] = alignShapes(values, sw);
    requireBroadcast('the per-sample loss and the sample weight', vv, ss, loss);
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** x (of `full`'s shape, or one that broadcasts to it) summed down to `shape`, which broadcasts to `full`: a broadcast's derivative. */
function sumTo(x: tf.Tensor, full: readonly number[], shape: readonly number[]): tf.Tensor {
  if (sameShape(x.shape, shape)) return x;
  const xb = sameShape(x.shape, full) ? x : tf.mul(x, tf.ones([...full]));
  const lead = full.length - shape.length;
  const axes = full.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && full[i] !== 1));
  const s = axes.length > 0 ? tf.sum(xb, axes) : xb;
  return sameShape(s.shape, shape) ? s : tf.reshape(s, [...shape]);
}

/** x / y for scalars, 0 where y is 0 (divide_no_nan): tfjs's Select alone (tf.where adds an Identity per argument). */
function divNoNan(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel('Select', { condition: tf.equal(y, 0), t: tf.scalar(0), e: tf.div(x, y) }) as tf.Tensor;
}

/** The 0/1 float of a mask (any dtype: nonzero counts), cast once where it is bool already. */
const maskFloat = (m: tf.Tensor) => tf.cast(m.dtype === 'bool' ? m : tf.notEqual(m, 0), 'float32');
const maskBool = (m: tf.Tensor) => (m.dtype === 'bool' ? m : tf.notEqual(m, 0));

export interface WrapperInput {
  /** The Keras mask attached to y_pred, if any. */
  inMask?: tf.Tensor;
  sampleWeight?: tf.Tensor;
  reduction: Reduction;
}

/**
 * Steps 5–7 of Keras's Loss.__call__ (mask, weights, reduction) as the reducer of the loss's
 * tape node (src/compile/compiled.ts), checked by checkReduceShapes beforehand. Its forward runs
 * off the tape, so the mask is not differentiated; the derivative is the closed form: with
 * P = v * w (aligned, broadcast) and the result r, d r / d v = sum-to-v(g * w) and
 * d r / d w = sum-to-w(g * v), where g = d r / d P is dy (none, sum), dy / size(P)
 * (sum_over_batch_size, mean) or dy / sum(w), 0 if that is 0 (mean_with_sample_weight, which
 * also subtracts dy * r / sum(w) from d r / d w).
 */
export function kerasReducer({ inMask, sampleWeight, reduction }: WrapperInput): Reducer {
  return new KerasReducer(inMask, sampleWeight && sampleWeight.dtype !== 'float32' ? tf.cast(sampleWeight, 'float32') : sampleWeight, reduction);
}

type Mode = 'as-is' | 'sum' | 'size' | 'zero' | 'weights';

/** One call's reducer: what its forward found (shapes, the case) is what its backward reads. */
class KerasReducer implements Reducer {
  readonly inputs: tf.Tensor[];
  private values: number[] = [];
  /** The shapes of P, of the values aligned to the weight, of the sample weight aligned to the mask, of the weight. */
  private full: number[] = [];
  private aligned: number[] = [];
  private swAligned: number[] = [];
  private wShape: number[] = [];
  private masked = false;
  private mode: Mode = 'as-is';
  private size = 0;
  /** Where the kept tensors are: the aligned weight, the aligned mask weight, sum(w), the result. */
  private readonly at = { w: -1, mw: -1, s: -1, out: -1 };

  constructor(
    private readonly inMask: tf.Tensor | undefined,
    private readonly sw: tf.Tensor | undefined,
    private readonly reduction: Reduction,
  ) {
    this.inputs = sw ? [sw] : [];
  }

  /** The mask as a weight (0/1, or for a mean total / valid where valid), if there is a mask. */
  private maskWeight(v: tf.Tensor, outMask: tf.Tensor | undefined): tf.Tensor | undefined {
    const m = this.inMask && align(this.inMask, v)[0];
    const mask = m && outMask ? tf.logicalAnd(maskBool(m), maskBool(outMask)) : (m ?? outMask);
    if (!mask) return undefined;
    const mw = maskFloat(mask);
    if (this.reduction !== 'sum_over_batch_size' && this.reduction !== 'mean') return mw;
    // The mean over the valid entries: total / valid (0 where no entry is valid, as then every
    // entry of the mask is 0, so total / max(valid, 1) gives Keras's divide_no_nan exactly).
    return tf.mul(mw, tf.div(mw.size, tf.maximum(tf.sum(mw), 1)));
  }

  forward(v: tf.Tensor, outMask: tf.Tensor | undefined, [s]: tf.Tensor[], recording: boolean): { out: tf.Tensor; keep: tf.Tensor[] } {
    this.values = v.shape;
    const mw = this.maskWeight(v, outMask);
    let w = mw;
    let mwa: tf.Tensor | undefined;
    if (s && mw) {
      const [a, b] = align(mw, s);
      [mwa, this.swAligned] = [a, b.shape];
      w = tf.mul(a, b);
    } else if (s) [w, this.swAligned] = [s, s.shape];
    const [va, wa] = w ? align(v, w) : [v, undefined];
    const p = wa ? tf.mul(va, wa) : va;
    [this.full, this.aligned, this.masked, this.wShape] = [p.shape, va.shape, mwa !== undefined, w?.shape ?? []];
    const keep: tf.Tensor[] = [];
    const kept = (name: keyof KerasReducer['at'], t: tf.Tensor | undefined) => {
      if (recording && t) this.at[name] = keep.push(t) - 1;
    };
    kept('w', wa);
    kept('mw', mwa);
    const out = this.reduce(p, wa, kept);
    kept('out', this.mode === 'weights' ? out : undefined);
    return { out, keep };
  }

  /** Step 7 on the weighted values P; a scalar or an empty vector is returned as it is, whatever the reduction. */
  private reduce(p: tf.Tensor, wa: tf.Tensor | undefined, kept: (name: 'w' | 'mw' | 's' | 'out', t: tf.Tensor) => void): tf.Tensor {
    this.mode = 'as-is';
    if (this.reduction === 'none' || p.rank === 0 || (p.rank === 1 && p.shape[0] === 0)) return p;
    const total = tf.sum(p);
    this.mode = 'sum';
    if (this.reduction === 'sum') return total;
    if (this.reduction === 'mean_with_sample_weight' && wa) {
      this.mode = 'weights';
      const sum = tf.sum(wa);
      kept('s', sum);
      return divNoNan(total, sum);
    }
    // sum_over_batch_size, mean, and mean_with_sample_weight with no weight: sum / size, 0 if empty
    this.size = p.size;
    this.mode = this.size === 0 ? 'zero' : 'size';
    return this.size === 0 ? tf.scalar(0) : tf.div(total, this.size);
  }

  /** d r / d P (of P's shape, or a scalar). */
  private dP(dy: tf.Tensor, kept: tf.Tensor[]): tf.Tensor {
    if (this.mode === 'size') return tf.div(dy, this.size);
    if (this.mode === 'weights') return divNoNan(dy, kept[this.at.s]!);
    return dy;
  }

  seed(dy: tf.Tensor, kept: tf.Tensor[]): tf.Tensor {
    if (this.mode === 'zero') return tf.zeros(this.values);
    const g = this.dP(dy, kept);
    const w = kept[this.at.w];
    const d = w ? sumTo(tf.mul(g, w), this.full, this.aligned) : sameShape(g.shape, this.aligned) ? g : tf.mul(tf.ones(this.aligned), g);
    return sameShape(d.shape, this.values) ? d : tf.reshape(d, this.values);
  }

  inputGradient(_j: number, dy: tf.Tensor, kept: tf.Tensor[], values: () => tf.Tensor): tf.Tensor {
    const shape = this.sw!.shape;
    if (this.mode === 'zero') return tf.zeros(shape);
    const g = this.dP(dy, kept);
    let dw = sumTo(tf.mul(g, tf.reshape(values(), this.aligned)), this.full, kept[this.at.w]!.shape);
    // g is 0 where sum(w) is 0, and so is this
    if (this.mode === 'weights') dw = tf.sub(dw, tf.mul(g, kept[this.at.out]!));
    dw = tf.reshape(dw, this.wShape);
    if (this.masked) dw = sumTo(tf.mul(dw, kept[this.at.mw]!), this.wShape, this.swAligned);
    return tf.reshape(dw, shape);
  }
}
