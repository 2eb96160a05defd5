// Two references for Keras's steps 5–7 (mask, sample weight, reduction; keras_losses.md §1),
// which src/keras/wrapper.ts runs inside the loss's tape node with a closed-form derivative:
// - tapedReduce: the formulation it replaced, plain tfjs ops differentiated by tfjs's tape;
// - kerasReduce64: the same rules on float64 arrays, for finite differences.

import * as tf from '@tensorflow/tfjs';
import { untaped } from '../../src/compile/kernels.js';
import { broadcastShape, broadcastTo, fromData, sizeOf, type NdArray } from '../../src/eval/ndarray.js';
import { align, alignShapes, type Reduction } from '../../src/keras/wrapper.js';

/** divide-no-nan: x / y, and 0 where y is 0 (safe under the tape: no NaN reaches a gradient). */
function divNoNan(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const safe = tf.where(tf.equal(y, 0), tf.onesLike(y), y);
  return tf.where(tf.equal(y, 0), tf.zerosLike(tf.div(x, safe)), tf.div(x, safe));
}

export interface ReduceInput {
  values: tf.Tensor;
  outMask?: tf.Tensor;
  inMask?: tf.Tensor;
  sampleWeight?: tf.Tensor;
  reduction: Reduction;
}

/** The pre-session-6 reduceLoss: steps 5–7 as tfjs ops on the tape (call inside tf.tidy). */
export function tapedReduce({ values, outMask, inMask, sampleWeight, reduction }: ReduceInput): tf.Tensor {
  if (inMask) inMask = align(inMask, values)[0];
  const mask = inMask && outMask ? tf.logicalAnd(tf.cast(inMask, 'bool'), tf.cast(outMask, 'bool')) : (inMask ?? outMask);
  let sw = sampleWeight && sampleWeight.dtype !== 'float32' ? tf.cast(sampleWeight, 'float32') : sampleWeight;
  if (mask) {
    const m = untaped(() => tf.cast(tf.cast(mask, 'bool'), 'float32'));
    let maskWeight = m;
    if (reduction === 'sum_over_batch_size' || reduction === 'mean') maskWeight = tf.mul(m, divNoNan(tf.scalar(m.size), tf.sum(m)));
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
  if (reduction === 'none' || v.rank === 0 || (v.rank === 1 && v.shape[0] === 0)) return v;
  const total = tf.sum(v);
  if (reduction === 'sum') return total;
  if (reduction === 'mean_with_sample_weight') return divNoNan(total, sw ? tf.sum(sw) : tf.scalar(v.size));
  return v.size === 0 ? tf.scalar(0) : tf.div(total, tf.scalar(v.size));
}

const reshaped = (a: NdArray, shape: readonly number[]): NdArray => ({ ...a, shape: [...shape] });

function zip(a: NdArray, b: NdArray, f: (x: number, y: number) => number): NdArray {
  const shape = broadcastShape([a.shape, b.shape]);
  const [x, y] = [broadcastTo(a, shape).data, broadcastTo(b, shape).data];
  return fromData(shape, x.map((v, i) => f(v, y[i]!)));
}

const sum = (a: NdArray) => a.data.reduce((p, q) => p + q, 0);

/** The same rules in float64. */
export function kerasReduce64(values: NdArray, reduction: Reduction, given: { sampleWeight?: NdArray; inMask?: NdArray; outMask?: NdArray }): NdArray {
  const inMask = given.inMask && reshaped(given.inMask, alignShapes(given.inMask.shape, values.shape)[0]);
  const mask = inMask && given.outMask ? zip(inMask, given.outMask, (p, q) => (p !== 0 && q !== 0 ? 1 : 0)) : (inMask ?? given.outMask);
  let sw = given.sampleWeight;
  if (mask) {
    const m = fromData(mask.shape, mask.data.map((x) => (x !== 0 ? 1 : 0)));
    const valid = sum(m);
    const scale = reduction === 'sum_over_batch_size' || reduction === 'mean' ? (valid === 0 ? 0 : sizeOf(m.shape) / valid) : 1;
    const mw = fromData(m.shape, m.data.map((x) => x * scale));
    if (sw) {
      const [a, b] = alignShapes(mw.shape, sw.shape);
      sw = zip(reshaped(mw, a), reshaped(sw, b), (p, q) => p * q);
    } else sw = mw;
  }
  let v = values;
  if (sw) {
    const [a, b] = alignShapes(v.shape, sw.shape);
    sw = reshaped(sw, b);
    v = zip(reshaped(v, a), sw, (p, q) => p * q);
  }
  if (reduction === 'none' || v.shape.length === 0 || (v.shape.length === 1 && v.shape[0] === 0)) return v;
  const total = sum(v);
  const n = sizeOf(v.shape);
  const divisor = reduction === 'sum' ? 1 : reduction === 'mean_with_sample_weight' && sw ? sum(sw) : n;
  return fromData([], [divisor === 0 ? 0 : total / divisor]);
}
