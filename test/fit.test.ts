// What a Keras user writes in compile and fit, with lossc losses in tfjs-layers: integer labels,
// class weights, sample weights (trainStep), names in the history, activity regularization
// (against a float64 computation of the same training by hand), and the errors.

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, layers, losses, regularizers, trainStep, LosscError, type LossFunction } from '../src/index.js';
import { errorOf } from './helpers/source.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LABELS = [0, 2, 1, 1, 0, 2, 2, 0, 1, 0];

function classifier(seed = 1): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }) })] });
}

const xs = () => tf.randomNormal([LABELS.length, 4], 0, 1, 'float32', 21);

function maxDiff(a: tf.LayersModel, b: tf.LayersModel): number {
  return Math.max(...a.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, b.getWeights()[i]!))).dataSync()[0]!)));
}

async function fitted(loss: LossFunction | string, y: tf.Tensor, args: tf.ModelFitArgs = {}, metrics?: tf.ModelCompileArgs['metrics']): Promise<{ model: tf.Sequential; history: tf.History }> {
  const model = classifier();
  model.compile({ optimizer: tf.train.sgd(0.5), loss: loss as never, metrics });
  const history = await model.fit(xs(), y, { epochs: 3, batchSize: LABELS.length, shuffle: false, verbose: 0, ...args });
  return { model, history };
}

describe('integer labels through fit', () => {
  const oneHot = () => tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3).toFloat();

  it('sparse_categorical_crossentropy trains on labels [N], [N, 1] (int or float) as categorical does on one-hot rows', async () => {
    const reference = await fitted(losses.categorical_crossentropy(), oneHot());
    for (const y of [tf.tensor1d(LABELS, 'int32'), tf.tensor2d(LABELS, [LABELS.length, 1], 'int32'), tf.tensor2d(LABELS, [LABELS.length, 1])]) {
      const sparse = await fitted(losses.sparse_categorical_crossentropy(), y);
      expect(maxDiff(sparse.model, reference.model)).toBeLessThan(1e-6);
      expect(sparse.history.history.loss).toEqual(reference.history.history.loss);
    }
  });

  it("the 'accuracy' metric is the sparse one, as Keras picks it", async () => {
    const { model, history } = await fitted(losses.sparse_categorical_crossentropy(), tf.tensor1d(LABELS, 'int32'), { epochs: 1 }, ['accuracy']);
    expect(Object.keys(history.history)).toEqual(['loss', 'acc']);
    // The accuracy of the batch before the step: the argmax of the initial model's predictions.
    const before = classifier().predict(xs()) as tf.Tensor;
    const hand = (before.argMax(-1).arraySync() as number[]).filter((p, i) => p === LABELS[i]).length / LABELS.length;
    expect(history.history.acc![0]).toBeCloseTo(hand, 6);
    model.dispose();
  });

  it("any lossc loss declaring `y_true: int[...]` (stdlib or the user's) takes integer labels", async () => {
    const y = tf.tensor1d(LABELS, 'int32');
    const gce = await fitted(losses.categorical_generalized_cross_entropy({ q: 0.7 }), y);
    expect(gce.history.history.loss!.every(Number.isFinite)).toBe(true);
    const { nll } = compile('loss nll(y_true: int[...], y_pred: [..., C]) = -log(sum(one_hot(y_true, size(y_pred, axis = -1)) * y_pred, axis = -1))');
    const mine = await fitted(nll(), y);
    const reference = await fitted(losses.sparse_categorical_crossentropy(), y);
    expect(maxDiff(mine.model, reference.model)).toBeLessThan(1e-5);
  });

  it('batch_hard_triplet_loss (y_true: int[N]) gets the labels [N] Keras gives it, not tfjs-layers\' [N, 1]', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: losses.batch_hard_triplet_loss({ margin: 0.5 }) });
    const h = await model.fit(xs(), tf.tensor1d(LABELS, 'int32'), { epochs: 3, batchSize: LABELS.length, shuffle: false, verbose: 0 });
    const want = losses.batch_hard_triplet_loss({ margin: 0.5 })(tf.tensor1d(LABELS, 'int32'), model.predict(xs()) as tf.Tensor).dataSync()[0]!;
    const after = await model.evaluate(xs(), tf.tensor1d(LABELS, 'int32'), { batchSize: LABELS.length });
    expect((after as tf.Scalar).dataSync()[0]).toBeCloseTo(want, 5);
    expect((h.history.loss as number[])[2]).toBeLessThan((h.history.loss as number[])[0]!);
  });

  it('tfjs-layers still checks shapes for losses that do not declare integer targets', async () => {
    await expect(fitted(losses.categorical_crossentropy(), tf.tensor1d(LABELS, 'int32'))).rejects.toThrow(/expected a batch of elements where each example has shape \[3\]/);
  });
});

describe('class weights and sample weights', () => {
  const y = () => tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3).toFloat();
  const classWeight = { 0: 1, 1: 4, 2: 0.5 };
  const sampleWeight = () => tf.tensor1d(LABELS.map((c) => classWeight[c as 0 | 1 | 2]));

  async function stepped(loss: LossFunction, sw: tf.Tensor): Promise<tf.Sequential> {
    const model = classifier();
    model.compile({ optimizer: tf.train.sgd(0.5), loss });
    for (let i = 0; i < 3; i++) await trainStep(model, xs(), y(), { sampleWeight: sw });
    return model;
  }

  it("classWeight with the default reduction is Keras's weighted mean (tfjs-layers' own weighting of per-sample values agrees)", async () => {
    const lossc = await fitted(losses.categorical_crossentropy(), y(), { classWeight });
    // Independent: tfjs-layers multiplies per-sample values by the class weights and takes the mean.
    const tfjs = await fitted(losses.categorical_crossentropy({ reduction: 'none' }), y(), { classWeight });
    const plain = await fitted(losses.categorical_crossentropy(), y());
    expect(maxDiff(lossc.model, tfjs.model)).toBeLessThan(1e-6);
    expect(maxDiff(lossc.model, plain.model)).toBeGreaterThan(1e-3);
    // trainStep with the same weights as sample weights is the same training.
    expect(maxDiff(await stepped(losses.categorical_crossentropy(), sampleWeight()), lossc.model)).toBeLessThan(1e-6);
  });

  it("every reduction is weighted as Keras weights it ('sum', 'mean_with_sample_weight')", async () => {
    for (const reduction of ['sum', 'mean_with_sample_weight'] as const) {
      const viaFit = await fitted(losses.categorical_crossentropy({ reduction }), y(), { classWeight });
      const viaStep = await stepped(losses.categorical_crossentropy({ reduction }), sampleWeight());
      expect(maxDiff(viaFit.model, viaStep)).toBeLessThan(1e-6);
    }
    // Integer labels give the classes directly; a class not listed weighs 1, as in Keras 3.
    const sparse = await fitted(losses.sparse_categorical_crossentropy(), tf.tensor1d(LABELS, 'int32'), { classWeight: { 1: 4, 2: 0.5 } });
    const dense = await fitted(losses.categorical_crossentropy(), y(), { classWeight });
    expect(maxDiff(sparse.model, dense.model)).toBeLessThan(1e-6);
  });

  it('fitDataset weighs classes the same way', async () => {
    const viaFit = await fitted(losses.categorical_crossentropy(), y(), { classWeight });
    const model = classifier();
    model.compile({ optimizer: tf.train.sgd(0.5), loss: losses.categorical_crossentropy() });
    const ds = tf.data.zip({ xs: tf.data.array(tf.unstack(xs())), ys: tf.data.array(tf.unstack(y())) }).batch(LABELS.length);
    await model.fitDataset(ds as never, { epochs: 3, verbose: 0, classWeight });
    expect(maxDiff(model, viaFit.model)).toBeLessThan(1e-6);
  });

  it('a class of the targets beyond the class weights is an error naming it', async () => {
    await expect(fitted(losses.categorical_crossentropy(), y(), { classWeight: { 0: 1, 1: 2 } })).rejects.toThrow(/classWeight for `categorical_crossentropy` has no weight for class 2/);
  });

  it('trainStep: a zero sample weight removes a sample (under reduction sum, the same as training without it)', async () => {
    const keep = LABELS.map((_, i) => (i % 3 === 0 ? 0 : 1));
    const weighted = classifier();
    weighted.compile({ optimizer: tf.train.sgd(0.5), loss: losses.categorical_crossentropy({ reduction: 'sum' }) });
    const lossValue = await trainStep(weighted, xs(), y(), { sampleWeight: keep });
    const idx = keep.flatMap((k, i) => (k ? [i] : []));
    const subset = classifier();
    subset.compile({ optimizer: tf.train.sgd(0.5), loss: losses.categorical_crossentropy({ reduction: 'sum' }) });
    const sub = (t: tf.Tensor) => tf.gather(t, tf.tensor1d(idx, 'int32'));
    const h = await subset.fit(sub(xs()), sub(y()), { epochs: 1, batchSize: idx.length, shuffle: false, verbose: 0 });
    expect(maxDiff(weighted, subset)).toBeLessThan(1e-6);
    expect(lossValue).toBeCloseTo(h.history.loss![0] as number, 5);
  });

  it('trainStep needs a lossc loss or an optimizer, and says so', async () => {
    const model = classifier();
    await expect(trainStep(model, xs(), y())).rejects.toThrow(/compile the model with a lossc loss/);
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await expect(trainStep(model, xs(), y())).rejects.toBeInstanceOf(LosscError);
  });
});

describe('names in the history', () => {
  it('losses and metrics show their own names', async () => {
    const { focal } = compile('loss focal(y_true, y_pred; gamma = 2.0) = mean((1 - y_pred)^gamma * y_true, axis = -1)');
    const seen: string[][] = [];
    const { history } = await fitted(losses.categorical_crossentropy(), tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3).toFloat(), {
      epochs: 1,
      callbacks: { onEpochEnd: async (_e, logs) => void seen.push(Object.keys(logs ?? {})) },
    }, [losses.focal_loss(), focal(), losses.huber()]);
    expect(Object.keys(history.history)).toEqual(['loss', 'focal_loss', 'focal', 'huber']);
    expect(seen[0]).toEqual(['loss', 'focal_loss', 'focal', 'huber']);
  });
});

describe('activity regularization', () => {
  // y = x W (3 -> 2, no bias), then the penalty of y; mse; plain SGD. By hand, in float64:
  // L = mean((y - t)^2) + l1 * sum|y| + l2 * sum(y^2) (Keras 3: not divided by the batch size),
  // dL/dy = 2 (y - t) / (N * 2) + l1 * sign(y) + 2 l2 y, dL/dW = x^T dL/dy.
  const X = [[0.5, -1, 2], [1.5, 0.2, -0.3], [-0.7, 0.8, 0.1], [0.3, 0.3, -1.2]];
  const T = [[1, 0], [0, 1], [0.5, -0.5], [-1, 2]];
  const W0 = [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]];
  const LR = 0.1;

  function byHand(l1: number, l2: number, steps: number): { w: number[][]; losses: number[] } {
    let w = W0.map((r) => [...r]);
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      const y = X.map((x) => [0, 1].map((j) => x.reduce((acc, xi, i) => acc + xi * w[i]![j]!, 0)));
      let loss = 0;
      const dy = y.map((r, n) => r.map((v, j) => {
        const e = v - T[n]![j]!;
        loss += (e * e) / (X.length * 2) + l1 * Math.abs(v) + l2 * v * v;
        return (2 * e) / (X.length * 2) + l1 * Math.sign(v) + 2 * l2 * v;
      }));
      out.push(loss);
      w = w.map((row, i) => row.map((v, j) => v - LR * X.reduce((acc, x, n) => acc + x[i]! * dy[n]![j]!, 0)));
    }
    return { w, losses: out };
  }

  function model(layer: tf.layers.Layer | undefined): tf.Sequential {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], useBias: false }), ...(layer ? [layer] : [])] });
    m.layers[0]!.setWeights([tf.tensor2d(W0)]);
    m.compile({ optimizer: tf.train.sgd(LR), loss: losses.mse() });
    return m;
  }

  async function trained(layer: tf.layers.Layer | undefined, steps = 4): Promise<{ w: number[][]; losses: number[] }> {
    const m = model(layer);
    const h = await m.fit(tf.tensor2d(X), tf.tensor2d(T), { epochs: steps, batchSize: X.length, shuffle: false, verbose: 0 });
    return { w: m.layers[0]!.getWeights()[0]!.arraySync() as number[][], losses: h.history.loss as number[] };
  }

  const close = (a: number[][], b: number[][]) => Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i]![j]!))));

  it('{ l1, l2 }: fit minimises the penalty of the output and reports it in the loss, as computed by hand', async () => {
    const want = byHand(0.05, 0.1, 4);
    const got = await trained(layers.activityRegularization({ l1: 0.05, l2: 0.1 }));
    expect(close(got.w, want.w)).toBeLessThan(1e-5);
    got.losses.forEach((l, i) => expect(l).toBeCloseTo(want.losses[i]!, 5));
    // And it matters: without the layer the weights are those of plain mse.
    const plain = await trained(undefined);
    expect(close(plain.w, byHand(0, 0, 4).w)).toBeLessThan(1e-5);
    expect(close(plain.w, got.w)).toBeGreaterThan(1e-2);
  });

  it('{ regularizer }: any lossc regularizer, stdlib or compiled', async () => {
    const l2 = await trained(layers.activityRegularization({ regularizer: regularizers.l2({ l2: 0.1 }) }));
    expect(close(l2.w, byHand(0, 0.1, 4).w)).toBeLessThan(1e-5);
    const { my_l1 } = compile('regularizer my_l1(w; k = 0.01) = k * sum(abs(w))');
    const mine = await trained(layers.activityRegularization({ regularizer: my_l1({ k: 0.05 }) }));
    expect(close(mine.w, byHand(0.05, 0, 4).w)).toBeLessThan(1e-5);
  });

  it('trainStep adds the penalty as fit does; prediction adds nothing and leaks nothing', async () => {
    const m = model(layers.activityRegularization({ l1: 0.05, l2: 0.1 }));
    const x = tf.tensor2d(X);
    const t = tf.tensor2d(T);
    const first = await trainStep(m, x, t);
    expect(first).toBeCloseTo(byHand(0.05, 0.1, 1).losses[0]!, 5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await trainStep(m, x, t);
    tf.dispose(m.predict(x));
    expect(tf.memory().numTensors).toBe(before);
    expect(close(m.layers[0]!.getWeights()[0]!.arraySync() as number[][], byHand(0.05, 0.1, 4).w)).toBeLessThan(1e-5);
  });

  it('either a regularizer or factors, not both', () => {
    expect(errorOf(() => layers.activityRegularization({ l1: 0.1, regularizer: regularizers.l2() })).message).toMatch(/either `regularizer` or `l1`\/`l2`/);
  });
});

describe('errors and ordinary objects', () => {
  it('a loss giving one number per batch refuses reduction none and sample weights', () => {
    const yt = tf.tensor2d([[1], [0]]);
    const yp = tf.tensor2d([[0.8], [0.3]]);
    expect(errorOf(() => losses.fbeta_loss({ reduction: 'none' })(yt, yp)).message).toMatch(/`fbeta_loss` gives one number per batch.*reduction: 'none'/);
    expect(errorOf(() => losses.fbeta_loss()(yt, yp, tf.tensor1d([1, 2]))).message).toMatch(/`fbeta_loss` gives one number per batch.*weighted per sample/);
    expect(losses.fbeta_loss()(yt, yp).rank).toBe(0);
    // One number as the weight scales the whole loss (what the caller asked for).
    const one = losses.fbeta_loss()(yt, yp).dataSync()[0]!;
    expect(losses.fbeta_loss()(yt, yp, 2).dataSync()[0]).toBeCloseTo(2 * one, 6);
  });

  it('compile reports syntax, name and type errors when it is called', () => {
    expect(errorOf(() => compile('loss f(y_true, y_pred) = mean(y_pred,')).kind).toBe('syntax');
    expect(errorOf(() => compile('loss f(y_true, y_pred) = mean(sqaure(y_pred), axis = -1)')).message).toMatch(/did you mean `square`/);
    expect(errorOf(() => compile('loss f(y_true, y_pred) = y_pred > 0.5')).kind).toBe('type');
  });

  it("compile's result is an ordinary object (not a thenable; unknown keys are undefined)", async () => {
    const m = compile('loss f(y_true, y_pred) = mean(y_pred, axis = -1)');
    expect(typeof m).toBe('object');
    expect(m instanceof Object).toBe(true);
    const loose = m as unknown as Record<string | symbol, unknown>;
    expect(loose.nope).toBeUndefined();
    expect(loose[Symbol.toPrimitive]).toBeUndefined();
    expect(loose.then).toBeUndefined();
    expect(await Promise.resolve(m)).toBe(m);
    expect(() => String(m)).not.toThrow();
    expect(Object.keys(m)).toContain('f');
  });
});
