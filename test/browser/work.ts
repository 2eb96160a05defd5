// The work the browser test does on one backend (test/browser/page.ts in Chromium, and
// test/browser.test.ts in Node for the reference numbers): every case's value and gradient, a
// user's compiled loss, Keras's clipping at the ends, two model.fit curves, leaks.

import * as tf from '@tensorflow/tfjs';
import { compile, losses, type LossFactory } from '../../src/index.js';
import { fusedCodegenAvailable, lastFuseRefusal } from '../../src/compile/fused.js';
import type { BackendAnswer, FitSpec, LossCase, Nested, Request, ValueGrad } from './protocol.js';

function valueGrad(f: (yt: tf.Tensor, yp: tf.Tensor) => tf.Tensor, yTrue: Nested, yPred: Nested): ValueGrad {
  return tf.tidy(() => {
    const yt = tf.tensor(yTrue as number[]);
    const yp = tf.tensor(yPred as number[]);
    const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => tf.sum(f(yt, p)) as tf.Scalar)(yp);
    return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
  });
}

function runCase(c: LossCase): ValueGrad {
  const fn = (losses as unknown as Record<string, LossFactory>)[c.name]!(c.options);
  return valueGrad(fn, c.yTrue, c.yPred);
}

/** The four trainings: a softmax layer or logits, with lossc's categorical_crossentropy or tfjs's. */
export const FITS = ['lossc-softmax', 'tfjs-softmax', 'lossc-logits', 'tfjs-logits'] as const;
export type FitMode = (typeof FITS)[number];

/** model.fit of dense(tanh) → dense (softmax or linear), from the given weights, full batch, SGD, no shuffling. */
async function fit(spec: FitSpec, mode: FitMode): Promise<number[]> {
  const [k1, , k2] = spec.weights;
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [k1!.shape[0]!], units: k1!.shape[1]!, activation: 'tanh' }),
      tf.layers.dense({ units: k2!.shape[1]!, activation: mode.endsWith('softmax') ? 'softmax' : 'linear' }),
    ],
  });
  const weights = spec.weights.map((w) => tf.tensor(w.values, w.shape));
  model.setWeights(weights);
  tf.dispose(weights);
  const loss = {
    'lossc-softmax': losses.categorical_crossentropy!(),
    'tfjs-softmax': 'categoricalCrossentropy',
    'lossc-logits': losses.categorical_crossentropy!({ from_logits: true }),
    'tfjs-logits': (y: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.NONE),
  }[mode];
  const optimizer = tf.train.sgd(spec.learningRate);
  model.compile({ optimizer, loss });
  const x = tf.tensor2d(spec.x);
  const y = tf.tensor2d(spec.y);
  const h = await model.fit(x, y, { epochs: spec.epochs, batchSize: spec.x.length, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return h.history.loss as number[];
}

function clipping(): { bce: number[]; clipped: number[] } {
  return tf.tidy(() => {
    const bce = losses.binary_crossentropy!({ reduction: 'none' })(tf.tensor2d([[1], [0], [1], [0]]), tf.tensor2d([[0], [1], [1], [0]]));
    const m = compile`loss c(y_true, y_pred) = sum(clip(y_pred, epsilon, 1 - epsilon), axis = -1)`;
    const clipped = m.losses.c!({ reduction: 'none' })(tf.zeros([2, 1]), tf.tensor2d([[0], [1]]));
    return { bce: Array.from(bce.dataSync()), clipped: Array.from(clipped.dataSync()) };
  });
}

/** Everything, on the current backend. */
export async function work(req: Request): Promise<BackendAnswer> {
  const t0 = performance.now();
  const before = tf.memory().numTensors;
  const cases = req.cases.map(runCase);
  const mod = compile(req.user.source);
  const user = valueGrad(mod.losses[req.user.loss]!(req.user.options), req.user.yTrue, req.user.yPred);
  const clip = clipping();
  const curves = {} as Record<FitMode, number[]>;
  for (const mode of FITS) curves[mode] = await fit(req.fit, mode);
  const leaked = tf.memory().numTensors - before;
  return {
    backend: tf.getBackend(),
    epsilon: tf.backend().epsilon(),
    floatPrecision: tf.backend().floatPrecision(),
    cases,
    user,
    clipping: clip,
    fit: curves,
    leaked,
    fusedAvailable: fusedCodegenAvailable(),
    fusedRefusal: lastFuseRefusal() ?? null,
    millis: performance.now() - t0,
  };
}

