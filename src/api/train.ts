// One training step with per-sample weights, which tfjs-layers' fit does not take
// ("sampleWeight is not supported yet"):
//
//   const loss = await trainStep(model, x, y, { sampleWeight });
//
// It is `optimizer.minimize` over the model's forward pass (in training mode), the lossc loss
// called with the sample weights (Keras's semantics: weighting, then the loss's reduction), plus
// every penalty fit would add (weight regularizers, activity regularization).

import * as tf from '@tensorflow/tfjs';
import { CompiledDefinition } from '../compile/compiled.js';
import { LosscError } from '../errors.js';
import { collectingPenalties } from './layers.js';
import type { LossFunction } from './losses.js';

export interface TrainStepOptions {
  /** One weight per sample (or any shape Keras accepts for the loss); a number scales every sample. */
  sampleWeight?: tf.Tensor | number[] | number;
  /** The loss (default: the model's compiled loss, which must be a lossc loss of a single output). */
  loss?: LossFunction;
  /** The optimizer (default: the model's). */
  optimizer?: tf.Optimizer;
}

function modelLoss(model: tf.LayersModel): LossFunction {
  const loss = (model as unknown as { loss?: unknown }).loss;
  const f = Array.isArray(loss) && loss.length === 1 ? loss[0] : loss;
  if (typeof f !== 'function' || !((f as Partial<LossFunction>).compiled instanceof CompiledDefinition)) {
    throw new LosscError('usage', 'trainStep: compile the model with a lossc loss of its one output, or pass `loss`');
  }
  return f as LossFunction;
}

/** One step of training with sample weights; resolves to the step's loss (penalties included). */
export async function trainStep(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: tf.Tensor, options: TrainStepOptions = {}): Promise<number> {
  const loss = options.loss ?? modelLoss(model);
  const optimizer = options.optimizer ?? model.optimizer;
  if (!optimizer) throw new LosscError('usage', 'trainStep: the model has no optimizer (compile it, or pass `optimizer`)');
  const given = options.sampleWeight;
  const sw = given === undefined ? undefined : given instanceof tf.Tensor ? given : typeof given === 'number' ? tf.scalar(given) : tf.tensor1d(given);
  const kept: tf.Tensor[] = [];
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    const cost = optimizer.minimize(
      () =>
        collectingPenalties(kept, () => {
          const yPred = model.apply(x, { training: true }) as tf.Tensor;
          const terms = [loss(y, yPred, sw), ...(model.calculateLosses() as tf.Tensor[]), ...kept];
          return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
        }),
      true,
      variables,
    )!;
    const value = (await cost.data())[0]!;
    cost.dispose();
    return value;
  } finally {
    tf.dispose(kept);
    if (sw && sw !== given) sw.dispose();
  }
}
