// L2 weight regularization ("weight decay") with lossc's regularizers.l2 as a tfjs-layers
// kernelRegularizer. Trains the same small model on the same data at factors 0, 1e-3, 1e-2 and
// 1e-1 and reports the L2 norm of its kernels at the end: the larger the factor, the smaller the
// weights. Run: node dist/examples/l2.js

import * as tf from '@tensorflow/tfjs';
import { derivative, losses, regularizers } from '../src/index.js';
import { gaussian, rng, seededInit } from './common.js';

export interface L2Run {
  factor: number;
  /** sqrt of the sum of squares of every kernel weight (biases excluded) after training. */
  kernelNorm: number;
  /** The last epoch's training loss (cross-entropy plus the penalty). */
  loss: number;
  /** Accuracy on held-out data at threshold 0.5. */
  accuracy: number;
}

export interface L2Result {
  runs: L2Run[];
  text: string;
}

export const FACTORS = [0, 1e-3, 1e-2, 1e-1];

/** 10 features, two of them informative: the label is whether x0 + x1 (plus noise) is positive. */
function makeData(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const r = rng(seed);
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: 10 }, () => gaussian(r));
    xs.push(x);
    ys.push([x[0]! + x[1]! + 0.5 * gaussian(r) > 0 ? 1 : 0]);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys) };
}

function model(seed: number, factor: number): tf.Sequential {
  const reg = () => (factor > 0 ? regularizers.l2!({ l2: factor }) : undefined);
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [10], units: 16, activation: 'relu', kernelInitializer: seededInit(seed), kernelRegularizer: reg() }));
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: seededInit(seed + 1), kernelRegularizer: reg() }));
  return m;
}

function kernelNorm(m: tf.Sequential): number {
  return tf.tidy(() => {
    const kernels = m.layers.map((l) => l.getWeights()[0]!);
    return Math.sqrt(kernels.reduce((s, k) => s + tf.sum(tf.square(k)).dataSync()[0]!, 0));
  });
}

function accuracy(m: tf.Sequential, x: tf.Tensor2D, y: tf.Tensor2D): number {
  return tf.tidy(() => tf.mean(tf.equal(tf.greaterEqual(m.predict(x) as tf.Tensor, 0.5).cast('float32'), y).cast('float32')).dataSync()[0]!);
}

export async function runL2(opts: { epochs?: number; n?: number; factors?: number[]; quiet?: boolean } = {}): Promise<L2Result> {
  const epochs = opts.epochs ?? 60;
  const train = makeData(opts.n ?? 200, 41);
  const test = makeData(1000, 42);
  const out: string[] = [];
  out.push('regularizers.l2 (stdlib/regularizers.loss): l2 * sum(w^2); its derivative with respect to w:');
  out.push(`  ${derivative('l2', 'w').toString()}`, '');
  const runs: L2Run[] = [];
  for (const factor of opts.factors ?? FACTORS) {
    const m = model(3, factor);
    const optimizer = tf.train.adam(0.01);
    m.compile({ optimizer, loss: losses.binary_crossentropy!() });
    const h = await m.fit(train.x, train.y, { epochs, batchSize: 50, shuffle: false, verbose: 0 });
    const history = h.history.loss as number[];
    runs.push({ factor, kernelNorm: kernelNorm(m), loss: history[history.length - 1]!, accuracy: accuracy(m, test.x, test.y) });
    m.dispose();
    optimizer.dispose();
  }
  out.push(`after ${epochs} epochs on ${train.x.shape[0]} samples:`);
  out.push(`  ${'l2 factor'.padEnd(12)}${'kernel norm'.padStart(12)}${'train loss'.padStart(12)}${'held-out acc'.padStart(14)}`);
  for (const r of runs) {
    out.push(`  ${String(r.factor).padEnd(12)}${r.kernelNorm.toFixed(3).padStart(12)}${r.loss.toFixed(4).padStart(12)}${`${(r.accuracy * 100).toFixed(1)}%`.padStart(14)}`);
  }
  tf.dispose([train.x, train.y, test.x, test.y]);
  const text = out.join('\n');
  if (!opts.quiet) console.log(text);
  return { runs, text };
}

if (process.argv[1]?.endsWith('l2.js')) {
  await tf.setBackend('cpu');
  await runL2();
}
