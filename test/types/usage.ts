// The API as a user writes it in a strict TypeScript project (test/types.test.ts compiles this
// folder with tsc; README's own example is checked there too).

import * as tf from '@tensorflow/tfjs';
import { losses, compile, regularizers, derivative, layers, saveModel, loadModel } from '../../src/index.js';

const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });

model.compile({ optimizer: 'adam', loss: losses.categorical_crossentropy({ from_logits: true }) });

const { focal } = compile<{ focal: 'loss' }>`
  loss focal(y_true, y_pred; gamma = 2.0) =
    let p_t = where(y_true > 0.5, y_pred, 1 - y_pred)
    mean((1 - p_t)^gamma * -log(clip(p_t, epsilon, 1)), axis = -1)`;
model.compile({ optimizer: 'adam', loss: focal({ gamma: 3 }), metrics: [losses.huber()] });

tf.layers.dense({ units: 8, kernelRegularizer: regularizers.l2({ l2: 1e-3 }) });
layers.activityRegularization({ l1: 0.01 });
layers.activityRegularization({ regularizer: regularizers.l1({ l1: 0.01 }) });
console.log(derivative('huber', 'y_pred').toString());

export async function resume(handler: tf.io.IOHandler): Promise<tf.LayersModel> {
  await saveModel(model, handler);
  return loadModel(handler);
}
