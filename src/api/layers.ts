// Keras's ActivityRegularization layer for tfjs-layers, with any lossc regularizer:
//
//   tf.layers.dense({ units: 8 }), layers.activityRegularization({ l1: 0.01 }), ...
//   layers.activityRegularization({ regularizer: regularizers.l2({ l2: 1e-3 }) })
//
// The layer passes its input through unchanged. In a training forward pass (fit,
// trainOnBatch) it computes the penalty of that input and hands it to tfjs-layers through the
// layer's own loss collection (`addLoss`), which fit adds to the training loss, minimises and
// reports, as it does weight regularizers. As in Keras 3, the penalty is not divided by the batch
// size (tf.keras 2 divided it). Prediction and evaluation add nothing (tfjs-layers evaluates
// without regularization losses). It is registered for serialisation as `ActivityRegularization`,
// so models with it save and load (Keras's `{ l1, l2 }` configs too).

import * as tf from '@tensorflow/tfjs';
import { LosscError } from '../errors.js';
import { regularizers, type LosscRegularizer } from './regularizers.js';

export interface ActivityRegularizationArgs {
  /** Keras's factors: the penalty is l1 * sum(|x|) + l2 * sum(x^2) (lossc's `l1_l2`). Default 0 each. */
  l1?: number;
  l2?: number;
  /** Any regularizer instead: a lossc one (stdlib or compiled) or a tfjs-layers one. */
  regularizer?: LosscRegularizer | tf.serialization.Serializable;
  name?: string;
  inputShape?: tf.Shape;
  batchInputShape?: tf.Shape;
  trainable?: boolean;
}

interface Penalty {
  apply(x: tf.Tensor): tf.Scalar;
}

function fromSaved(config: tf.serialization.ConfigDict): Penalty {
  const { className, config: inner } = config as { className?: string; config?: tf.serialization.ConfigDict };
  const entry = typeof className === 'string' ? tf.serialization.SerializationMap.getMap().classNameMap[className] : undefined;
  if (!entry) throw new LosscError('value', `ActivityRegularization: unknown regularizer class \`${String(className)}\` in the saved config`);
  return entry[1](entry[0], inner ?? {}) as unknown as Penalty;
}

/** Where a training step (train.ts) collects penalties itself: model.apply runs in a tidy that would free them. */
let collector: tf.Tensor[] | undefined;

/** Run `f` with this module's penalties kept in `into` (the caller disposes them). */
export function collectingPenalties<T>(into: tf.Tensor[], f: () => T): T {
  const outer = collector;
  collector = into;
  try {
    return f();
  } finally {
    collector = outer;
  }
}

export class ActivityRegularization extends tf.layers.Layer {
  static className = 'ActivityRegularization';
  readonly regularizer: Penalty;
  private readonly factors?: { l1: number; l2: number };
  /** Penalties of this step's training forward passes, taken by tfjs-layers' loss collection. */
  private pending: tf.Scalar[] = [];

  constructor(args: ActivityRegularizationArgs = {}) {
    super(args as tf.serialization.ConfigDict);
    this.supportsMasking = true;
    const given = args.regularizer as unknown;
    if (given !== undefined && given !== null) {
      if (args.l1 !== undefined || args.l2 !== undefined) {
        throw new LosscError('usage', 'activityRegularization takes either `regularizer` or `l1`/`l2`, not both');
      }
      if (typeof (given as Partial<Penalty>).apply === 'function') this.regularizer = given as Penalty;
      else if (typeof given === 'object' && 'className' in given) this.regularizer = fromSaved(given as tf.serialization.ConfigDict);
      else throw new LosscError('usage', 'activityRegularization: `regularizer` must be a regularizer (e.g. regularizers.l2({ l2: 0.01 }))');
    } else {
      this.factors = { l1: args.l1 ?? 0, l2: args.l2 ?? 0 };
      this.regularizer = regularizers.l1_l2(this.factors);
    }
    this.addLoss(() => this.takePenalty());
  }

  private takePenalty(): tf.Scalar {
    const live = this.pending.filter((p) => !p.isDisposed);
    this.pending = [];
    if (!live.length) return tf.scalar(0);
    return live.length === 1 ? live[0]! : (tf.addN(live) as tf.Scalar);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs?.training === true) {
      if (collector) collector.push(tf.keep(this.regularizer.apply(x)));
      else this.pending.push(this.regularizer.apply(x));
    }
    // A new tensor (sharing the data): tfjs-layers frees a layer's input after its last use when
    // predicting, which must not free this layer's output.
    return Array.isArray(inputs) ? inputs.map((t) => tf.clone(t)) : tf.clone(inputs);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const base = super.getConfig();
    if (this.factors) return { ...base, ...this.factors };
    const reg = this.regularizer as unknown as tf.serialization.Serializable;
    return { ...base, regularizer: { className: reg.getClassName(), config: reg.getConfig() } };
  }
}

tf.serialization.registerClass(ActivityRegularization);

/** Layers lossc adds to tfjs-layers. */
export const layers = {
  /** Keras's `ActivityRegularization`: `{ l1, l2 }` or `{ regularizer }` (see layers.ts). */
  activityRegularization: (args?: ActivityRegularizationArgs) => new ActivityRegularization(args),
};
