// Keras's loss pipeline around a per-sample loss (keras_losses.md §1): rank alignment of y_true
// and y_pred, the Keras mask folded into the sample weight, weighting, and the reduction.
// These are a few tensor ops on the per-sample values, so tfjs's tape differentiates them; the
// per-sample loss itself carries lossc's symbolic gradient.

import * as tf from '@tensorflow/tfjs';
import { untaped } from '../compile/kernels.js';
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

/** divide-no-nan: x / y, and 0 where y is 0. */
function divNoNan(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const safe = tf.where(tf.equal(y, 0), tf.onesLike(y), y);
  return tf.where(tf.equal(y, 0), tf.zerosLike(tf.div(x, safe)), tf.div(x, safe));
}

export interface WrapperInput {
  /** Per-sample values of the loss, and its own output mask (sparse CCE ignore_class, Circle). */
  values: tf.Tensor;
  outMask?: tf.Tensor;
  /** The Keras mask attached to y_pred, if any. */
  inMask?: tf.Tensor;
  sampleWeight?: tf.Tensor;
  reduction: Reduction;
  loss: string;
}

/** Steps 5–7 of Keras's Loss.__call__: mask, weights, reduction. Call inside tf.tidy. */
export function reduceLoss({ values, outMask, inMask, sampleWeight, reduction, loss }: WrapperInput): tf.Tensor {
  checkReduceShapes({ values: values.shape, outMask: outMask?.shape, inMask: inMask?.shape, sampleWeight: sampleWeight?.shape }, reduction, loss);
  if (inMask) inMask = align(inMask, values)[0];
  let mask: tf.Tensor | undefined;
  if (inMask && outMask) {
    mask = tf.logicalAnd(tf.cast(inMask, 'bool'), tf.cast(outMask, 'bool'));
  } else mask = inMask ?? outMask;
  let sw = sampleWeight && sampleWeight.dtype !== 'float32' ? tf.cast(sampleWeight, 'float32') : sampleWeight;
  if (mask) {
    // A mask selects entries and is not differentiated, even when computed from y_pred.
    const given = mask;
    const m = untaped(() => tf.cast(tf.cast(given, 'bool'), 'float32'));
    let maskWeight = m;
    if (reduction === 'sum_over_batch_size' || reduction === 'mean') {
      const total = tf.scalar(m.size);
      const valid = tf.sum(m);
      maskWeight = tf.mul(m, divNoNan(total, valid));
    }
    if (sw) {
      const [mw, s] = align(maskWeight, sw);
      sw = tf.mul(mw, s);
    } else sw = maskWeight;
  }
  let v = values;
  if (sw) {
    const [vv, ss] = align(v, sw);
    v = tf.mul(vv, ss);
    sw = ss;
  }
  if (reduction === 'none') return v;
  // A scalar or an empty vector is returned as it is, whatever the reduction.
  if (v.rank === 0 || (v.rank === 1 && v.shape[0] === 0)) return v;
  const total = tf.sum(v);
  if (reduction === 'sum') return total;
  if (reduction === 'mean_with_sample_weight') {
    return divNoNan(total, sw ? tf.sum(sw) : tf.scalar(v.size));
  }
  return v.size === 0 ? tf.scalar(0) : tf.div(total, tf.scalar(v.size));
}
