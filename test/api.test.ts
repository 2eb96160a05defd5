// The JavaScript API end to end: errors before any tensor exists, no leaks, training a tfjs-layers
// model (stdlib loss and a user's own compiled loss), class weights, and the wasm backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { compile, losses, regularizers, LosscError, type LossFactory } from '../src/index.js';
import { editDistance } from '../src/errors.js';
import { errorOf } from './helpers/source.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function leakFree<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const out = f();
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}


describe('errors through the API', () => {
  it('an unknown loss suggests the nearest name', () => {
    // @ts-expect-error a JS caller's typo, checked at run time
    const e = errorOf(() => losses.binary_crossentropi);
    expect(e.kind).toBe('name');
    expect(e.message).toContain('did you mean `binary_crossentropy`');
  });
  it('swapped neighbouring letters count as one typo', () => {
    // @ts-expect-error a JS caller's typo, checked at run time
    expect(errorOf(() => losses.huber!({ dleta: 2 })).message).toMatch(/no option `dleta`.*did you mean `delta`/);
    // @ts-expect-error a JS caller's typo, checked at run time
    expect(errorOf(() => losses.hubre).message).toContain('did you mean `huber`');
    expect(editDistance('dleta', 'delta')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('abc', 'ca')).toBe(3); // optimal string alignment: no edit of a swapped pair
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('an unknown or mistyped option is reported before any tensor exists', () => {
    leakFree(() => {
      // @ts-expect-error a JS caller's typo, checked at run time
      expect(errorOf(() => losses.huber!({ delt: 2 })).message).toMatch(/no option `delt`.*did you mean `delta`/);
      // @ts-expect-error a JS caller's wrong type, checked at run time
      expect(errorOf(() => losses.binary_crossentropy!({ from_logits: 'yes' })).message).toMatch(/from_logits.*takes a boolean/);
      expect(errorOf(() => losses.mse!({ reduction: 'average' as never })).message).toMatch(/Invalid value for argument `reduction`/);
    });
  });
  it('shapes that cannot broadcast name the loss, the inputs and their shapes', () => {
    const f = losses.mean_squared_error!();
    const a = tf.zeros([2, 3]);
    const b2 = tf.zeros([2, 4]);
    const e = leakFree(() => errorOf(() => f(a, b2)));
    expect(e.kind).toBe('shape');
    expect(e.message).toContain('y_true [2, 3]');
    expect(e.message).toContain('y_pred [2, 4]');
    tf.dispose([a, b2]);
  });
  it('custom losses check their inputs and options', () => {
    const yt = tf.zeros([2, 1]);
    const yp = tf.zeros([2, 10]);
    leakFree(() => {
      expect(errorOf(() => losses.triplet_loss!()(yt, yp)).message).toMatch(/triplet_loss.*\[2, 10\].*not divisible by 3/s);
      expect(errorOf(() => losses.fbeta_loss!({ beta: 0 })(yt, yp)).message).toMatch(/beta.*must be > 0/);
      const c3 = tf.zeros([2, 3]);
      expect(errorOf(() => losses.categorical_focal_loss!({ alpha: [0.1, 0.2, 0.3, 0.4] })(c3, c3)).message).toMatch(/alpha.*one value per class.*\[4\].*\[2, 3\]/s);
      c3.dispose();
    });
    tf.dispose([yt, yp]);
  });
  it('a regularizer refuses a non-float weight', () => {
    const w = tf.zeros([2, 2], 'int32');
    expect(errorOf(() => regularizers.l2!().apply(w)).message).toMatch(/float weight.*int32/);
    w.dispose();
  });
  it('compile reports syntax errors with a caret, and never runs interpolated text', () => {
    expect(errorOf(() => compile('loss f(y_true, y_pred) = mean((y_true - y_pred)^2, axis = )')).kind).toBe('syntax');
    // @ts-expect-error only numbers can be interpolated (checked at run time for JS callers)
    expect(errorOf(() => compile`loss f(y_true, y_pred) = ${'process.exit(1)'}`).message).toMatch(/only finite numbers/);
  });
});

describe('no tensor leaks', () => {
  it('compile, call, gradient and a failing call leave numTensors unchanged', () => {
    const yt = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
    const yp = tf.tensor2d([[0.2, 2.0, -1.0], [1.5, 0.3, 0.1]]);
    const wrong = tf.zeros([3, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const f = losses.categorical_crossentropy!({ from_logits: true, label_smoothing: 0.1 });
      tf.dispose(f(yt, yp));
      tf.dispose(tf.grad((p: tf.Tensor) => f(yt, p))(yp));
      tf.dispose(tf.valueAndGrad((p: tf.Tensor) => f(yt, p as tf.Tensor) as tf.Scalar)(yp) as unknown as tf.Tensor[]);
      expect(() => f(yt, wrong)).toThrow(LosscError);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([yt, yp, wrong]);
  });
});

function classification(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D; labels: number[] } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const xs: number[][] = [];
  const ys: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    xs.push([k + rand() * 0.8, (2 - k) + rand() * 0.8]);
    ys.push([0, 1, 2].map((j) => (j === k ? 1 : 0)));
    labels.push(k);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys), labels };
}

describe('training a tfjs-layers model', () => {
  it('with losses.categorical_crossentropy({ from_logits: true }): the loss goes down, nothing leaks', async () => {
    const before = tf.memory().numTensors;
    const { x, y } = classification(60, 3);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    const optimizer = tf.train.adam(0.1);
    model.compile({ optimizer, loss: losses.categorical_crossentropy!({ from_logits: true }) });
    const h = await model.fit(x, y, { epochs: 15, batchSize: 20, verbose: 0, shuffle: false });
    const l = h.history.loss as number[];
    expect(l[l.length - 1]!).toBeLessThan(l[0]! * 0.5);
    model.dispose();
    optimizer.dispose(); // its moment estimates are tensors too
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("with a user's own compiled loss and a lossc regularizer", async () => {
    const { x, y } = classification(60, 5);
    const { my_cce } = compile`
      # Cross-entropy from logits, written by hand.
      loss my_cce(y_true, y_pred) = -sum(y_true * log(exp(y_pred) / sum(exp(y_pred), axis = -1, keepdims = true)), axis = -1)`;
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 3, kernelRegularizer: regularizers.l2!({ l2: 1e-3 }), kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })],
    });
    model.compile({ optimizer: tf.train.adam(0.1), loss: (my_cce as (o?: object) => (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)() });
    const h = await model.fit(x, y, { epochs: 15, batchSize: 20, verbose: 0, shuffle: false });
    const l = h.history.loss as number[];
    expect(l.every(Number.isFinite)).toBe(true);
    expect(l[l.length - 1]!).toBeLessThan(l[0]! * 0.5);
    model.dispose();
    tf.dispose([x, y]);
  });

  it("classWeight weights each sample's loss (reduction: 'none')", async () => {
    const { x, y } = classification(30, 7);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
    const perSample = losses.categorical_crossentropy!({ from_logits: true, reduction: 'none' });
    model.compile({ optimizer: tf.train.sgd(0), loss: perSample });
    const classWeight = { 0: 1, 1: 0, 2: 3 };
    const h = await model.fit(x, y, { epochs: 1, batchSize: 30, verbose: 0, shuffle: false, classWeight });
    const expected = tf.tidy(() => {
      const l = perSample(y, model.predict(x) as tf.Tensor);
      const w = tf.tensor1d(Array.from(tf.argMax(y, 1).dataSync()).map((k) => classWeight[k as 0 | 1 | 2]));
      return tf.mean(tf.mul(l, w)).dataSync()[0]!;
    });
    expect((h.history.loss as number[])[0]).toBeCloseTo(expected, 5);
    model.dispose();
    tf.dispose([x, y]);
  });
});

describe('the wasm backend gives the cpu backend\'s values and gradients', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  const cases: Array<[string, Record<string, unknown>, number[][], number[][]]> = [
    ['binary_crossentropy', { from_logits: true, label_smoothing: 0.1 }, [[0, 1, 1], [1, 0, 0]], [[-2, 0.5, 3], [1, -1, 0.2]]],
    ['categorical_crossentropy', { from_logits: true }, [[0, 1, 0], [1, 0, 0]], [[0.2, 2.0, -1.0], [1.5, 0.3, 0.1]]],
    ['huber', { delta: 0.5 }, [[0, 1, 2], [1, 0, 0]], [[0.2, 2.0, -1.0], [1.5, 0.3, 0.1]]],
    ['focal_loss', { from_logits: true, gamma: 2 }, [[0, 1, 1], [1, 0, 0]], [[-2, 0.5, 3], [1, -1, 0.2]]],
    ['triplet_loss', {}, [[0], [0]], [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]]],
  ];
  for (const [name, opts, t, p] of cases) {
    it(name, async () => {
      const run = () =>
        tf.tidy(() => {
          const f = (losses as unknown as Record<string, LossFactory>)[name]!(opts);
          const yt = tf.tensor2d(t);
          const yp = tf.tensor2d(p);
          const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(yt, q) as tf.Scalar)(yp);
          return [value.dataSync()[0]!, ...Array.from(grad.dataSync())];
        });
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      const onWasm = run();
      onWasm.forEach((v, i) => expect(v).toBeCloseTo(onCpu[i]!, 5));
    });
  }
});
