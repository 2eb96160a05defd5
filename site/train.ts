// Training in the page: a small tfjs model fitted with the chosen loss (lossc's compiled value
// and symbolic gradient), on synthetic data whose kind follows the plot input: probabilities
// for p_t, logits for logit, a regression with outliers for residual, ±1 labels for margin.

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../grammar/ast.js';
import { makeLoss } from '../src/api/losses.js';
import { LosscError } from '../src/errors.js';
import type { Static } from '../src/lower/builtins.js';
import type { Library } from '../src/lower/library.js';
import { mappingNamed, mappingOptions } from '../src/plot/mappings.js';

interface Task {
  /** What the targets are. */
  targets: 'binary' | 'onehot' | 'regression' | 'signed';
  /** The last layer's units and activation. */
  units: number;
  activation: 'sigmoid' | 'softmax' | 'linear';
  doc: string;
}

/** One task per plot input (src/plot/mappings.ts). */
const TASKS: Record<string, Task> = {
  p_t: { targets: 'binary', units: 1, activation: 'sigmoid', doc: 'binary labels (25% positives), a sigmoid output' },
  p_t_onehot: { targets: 'onehot', units: 2, activation: 'softmax', doc: 'one-hot labels of two classes, a softmax output' },
  logit: { targets: 'binary', units: 1, activation: 'linear', doc: 'binary labels (25% positives), a logit output' },
  logit_onehot: { targets: 'onehot', units: 2, activation: 'linear', doc: 'one-hot labels of two classes, logits out' },
  residual: { targets: 'regression', units: 1, activation: 'linear', doc: 'a linear regression with 5% outliers, a linear output' },
  margin: { targets: 'signed', units: 1, activation: 'linear', doc: 'labels -1 and +1, a linear score' },
};

export function taskDoc(over: string): string {
  const t = TASKS[over];
  return t ? `A dense 2 → 16 → ${t.units} network trained for 20 epochs with Adam on 256 points: ${t.doc}.` : '';
}

/** A seeded uniform generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function data(task: Task, n: number): { x: number[][]; y: number[][] } {
  const u = rng(7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const x: number[][] = [];
  const y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = [normal(), normal()];
    x.push([a, b]);
    const positive = a + 0.5 * b + 0.4 * normal() > 0.8;
    if (task.targets === 'binary') y.push([positive ? 1 : 0]);
    else if (task.targets === 'onehot') y.push(positive ? [1, 0] : [0, 1]);
    else if (task.targets === 'signed') y.push([positive ? 1 : -1]);
    else y.push([1.5 * a - b + 0.2 * normal() + (u() < 0.05 ? 8 : 0)]);
  }
  return { x, y };
}

export interface TrainRequest {
  library: Library;
  def: Definition;
  over: string;
  options: Record<string, Static>;
  epochs?: number;
}

/** Train; `onEpoch` gets each epoch's mean training loss. Returns them all. */
export async function train(req: TrainRequest, onEpoch: (epoch: number, loss: number) => void): Promise<number[]> {
  const task = TASKS[req.over];
  if (!task) throw new LosscError('usage', `no training task for the plot input \`${req.over}\``);
  const options = mappingOptions(req.over, mappingNamed(req.over), req.def, req.options);
  const loss = makeLoss(req.library, req.def, options);
  const { x, y } = data(task, 256);
  const xs = tf.tensor2d(x);
  const ys = tf.tensor2d(y);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: task.units, activation: task.activation, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: (a: tf.Tensor, b: tf.Tensor) => loss(a, b) });
  const losses: number[] = [];
  try {
    await model.fit(xs, ys, {
      epochs: req.epochs ?? 20,
      batchSize: 128,
      shuffle: false,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          const v = Number(logs?.loss);
          losses.push(v);
          onEpoch(epoch + 1, v);
          await tf.nextFrame();
        },
      },
    });
  } finally {
    model.dispose();
    xs.dispose();
    ys.dispose();
  }
  return losses;
}
