// Models that survive save and load: N steps, save, load, M more steps gives the weights of N + M
// steps without the break, for one loss of every stdlib family, a user's compiled loss and
// regularizer, and the activity-regularization layer; plain tf.loadLayersModel predicts; bad
// records fail with errors naming the loss.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, layers, loadModel, losses, regularizers, saveModel, LosscError, MODEL_FORMAT, type LossFunction } from '../src/index.js';
import { memoryStore } from './helpers/memory-io.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 3;
const M = 3;
const TOL = 1e-5;

interface Case {
  name: string;
  /** A fresh model with the same initial weights each time (seeded initializers). */
  make: () => tf.LayersModel;
  compileArgs: () => tf.ModelCompileArgs;
  x: () => tf.Tensor;
  y: () => tf.Tensor;
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

function dense(inputShape: number[], units: number, activation: 'linear' | 'sigmoid' | 'softmax', extra: Partial<Parameters<typeof tf.layers.dense>[0]> = {}): tf.layers.Layer {
  return tf.layers.dense({ units, inputShape, activation, kernelInitializer: seeded(7), biasInitializer: 'zeros', ...extra });
}

function mlp(out: number, activation: 'linear' | 'sigmoid' | 'softmax', extra: Partial<Parameters<typeof tf.layers.dense>[0]> = {}, more: tf.layers.Layer[] = []): () => tf.LayersModel {
  return () => tf.sequential({ layers: [dense([4], 5, 'linear', { kernelInitializer: seeded(3) }), ...more, dense([5], out, activation, extra)] });
}

const x4 = () => tf.randomNormal([12, 4], 0, 1, 'float32', 11);
const oneHot = (c: number) => () => tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2].map((v) => v % c), 'int32'), c).toFloat();
const binary = (c: number) => () => tf.randomUniform([12, c], 0, 1, 'float32', 5).round();

const userSource = `
# A user's definitions, with underscores everywhere (tfjs-layers camelCases strings in layer configs).
def sq_err_(a, b) = (a - b)^2
loss my_scaled__mse(y_true, y_pred; scale_by = 1.0) = scale_by * mean(sq_err_(y_true, y_pred), axis = -1)
regularizer my_l2_x(w; l2_factor = 0.01, mode_name = "snake_case_Value") =
  if mode_name == "snake_case_Value" then l2_factor * sum(w^2) else 0 * sum(w)
`;

const adam = () => tf.train.adam(0.05);

const CASES: Case[] = [
  { name: 'regression: huber', make: mlp(3, 'linear'), compileArgs: () => ({ optimizer: adam(), loss: losses.huber({ delta: 0.5 }), metrics: ['mse', losses.mae()] }), x: x4, y: () => tf.randomNormal([12, 3], 0, 1, 'float32', 2) },
  { name: 'probabilistic: categorical cross-entropy from logits', make: mlp(3, 'linear', { kernelRegularizer: regularizers.l1_l2({ l1: 1e-3, l2: 1e-3 }) }), compileArgs: () => ({ optimizer: adam(), loss: losses.categorical_crossentropy({ from_logits: true, label_smoothing: 0.1 }) }), x: x4, y: oneHot(3) },
  { name: 'hinge: squared hinge', make: mlp(2, 'linear'), compileArgs: () => ({ optimizer: tf.train.rmsprop(0.01), loss: losses.squared_hinge() }), x: x4, y: () => binary(2)().mul(2).sub(1) },
  { name: 'segmentation: dice', make: mlp(4, 'sigmoid', { kernelRegularizer: regularizers.orthogonal({ factor: 0.01, mode: 'columns' }) }), compileArgs: () => ({ optimizer: adam(), loss: losses.dice() }), x: x4, y: binary(4) },
  { name: 'similarity: cosine similarity', make: mlp(3, 'linear'), compileArgs: () => ({ optimizer: tf.train.momentum(0.05, 0.9), loss: losses.cosine_similarity({ axis: -1 }) }), x: x4, y: () => tf.randomNormal([12, 3], 0, 1, 'float32', 3) },
  { name: 'custom: focal loss', make: mlp(1, 'sigmoid'), compileArgs: () => ({ optimizer: adam(), loss: losses.focal_loss({ gamma: 2, alpha: 0.25 }), metrics: [losses.binary_crossentropy()] }), x: x4, y: binary(1) },
  {
    name: 'sequence: ctc (integer targets)',
    make: () => tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6, 3], kernelInitializer: seeded(9) })] }),
    compileArgs: () => ({ optimizer: adam(), loss: losses.ctc() }),
    x: () => tf.randomNormal([5, 6, 3], 0, 1, 'float32', 4),
    y: () => tf.tensor2d([[1, 2], [3, 0], [2, 2], [1, 3], [3, 1]], undefined, 'int32'),
  },
  {
    name: "a user's compiled loss and regularizer",
    make: () => {
      const m = compile(userSource);
      return mlp(3, 'linear', { kernelRegularizer: m.my_l2_x({ l2_factor: 0.02 }) })();
    },
    compileArgs: () => ({ optimizer: adam(), loss: compile(userSource).my_scaled__mse({ scale_by: 2 }), metrics: [compile(userSource).myScaled_Mse()] }),
    x: x4,
    y: () => tf.randomNormal([12, 3], 0, 1, 'float32', 8),
  },
  {
    name: 'the activity-regularization layer ({ l1, l2 } and a user regularizer)',
    make: mlp(3, 'softmax', {}, [layers.activityRegularization({ l1: 0.01, l2: 0.02 }), layers.activityRegularization({ regularizer: compile(userSource).my_l2_x({ l2_factor: 0.05 }) })]),
    compileArgs: () => ({ optimizer: adam(), loss: losses.categorical_crossentropy() }),
    x: x4,
    y: oneHot(3),
  },
];

async function train(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = await model.trainOnBatch(x, y);
    out.push(Array.isArray(r) ? r[0]! : r);
  }
  return out;
}

function maxWeightDiff(a: tf.LayersModel, b: tf.LayersModel): number {
  const wa = a.getWeights();
  const wb = b.getWeights();
  expect(wa.length).toBe(wb.length);
  return Math.max(...wa.map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, wb[i]!))).dataSync()[0]!)));
}

const measured: Record<string, number> = {};

describe('save → load → resume', () => {
  afterAll(() => {
    console.log('max |weight difference| after resume:', JSON.stringify(measured));
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const x = c.x();
      const y = c.y();
      const a = c.make();
      a.compile(c.compileArgs());
      const first = await train(a, x, y, N);
      const store = memoryStore();
      await saveModel(a, store);
      const b = await loadModel(store);
      const resumed = await train(b, x, y, M);

      const whole = c.make();
      whole.compile(c.compileArgs());
      const straight = await train(whole, x, y, N + M);
      const diff = maxWeightDiff(b, whole);
      measured[c.name] = diff;
      expect(diff).toBeLessThan(TOL);
      // The losses reported after the load continue the same curve, and training moved the weights.
      resumed.forEach((l, i) => expect(Math.abs(l - straight[N + i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(l))));
      expect(first.every(Number.isFinite)).toBe(true);
      expect(maxWeightDiff(a, whole)).toBeGreaterThan(1e-4);

      // Plain tf.loadLayersModel loads the same file to predict (its lossc regularizers and layers included).
      const plain = await tf.loadLayersModel(store);
      const same = tf.tidy(() => tf.max(tf.abs(tf.sub(plain.predict(x) as tf.Tensor, a.predict(x) as tf.Tensor))).dataSync()[0]!);
      expect(same).toBe(0);
      for (const m of [a, b, whole, plain]) m.dispose();
      tf.dispose([x, y]);
    }, 30_000);
  }
});

describe('what is saved', () => {
  it("a regularizer's source survives tfjs-layers' snake_case/camelCase rewriting byte for byte", async () => {
    const m = compile(userSource);
    const model = tf.sequential({ layers: [dense([4], 2, 'linear', { kernelRegularizer: m.my_l2_x({ l2_factor: 0.5, mode_name: 'snake_case_Value' }) })] });
    const store = memoryStore();
    await model.save(store); // tfjs's own save, no lossc record
    const loaded = await tf.loadLayersModel(store);
    const reg = (loaded.layers[0] as unknown as { kernelRegularizer: tf.serialization.Serializable }).kernelRegularizer;
    expect(reg.getClassName()).toBe('LosscRegularizer');
    const config = reg.getConfig() as { name: string; options: Record<string, unknown>; source: string };
    expect(config.name).toBe('my_l2_x');
    expect(Buffer.from(config.source, 'hex').toString('utf8')).toBe(userSource);
    expect(Buffer.from((config.options.mode_name as { hex: string }).hex, 'hex').toString('utf8')).toBe('snake_case_Value');
    expect(config.options.l2_factor).toBe(0.5);
    // The penalty is the same: 0.5 * sum(w^2) (the string option selected the branch).
    const w = loaded.layers[0]!.getWeights()[0]!;
    const penalty = (reg as unknown as { apply(x: tf.Tensor): tf.Scalar }).apply(w);
    expect(penalty.dataSync()[0]).toBeCloseTo(0.5 * w.square().sum().dataSync()[0]!, 5);
  });

  it('fromConfig rebuilds a regularizer alone and ignores the custom_objects tfjs-layers passes', () => {
    const reg = regularizers.l2({ l2: 0.25 }) as unknown as tf.serialization.Serializable;
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap['LosscRegularizer']!;
    const again = fromConfig(cls, { ...reg.getConfig(), customObjects: { anything: 1 } }) as unknown as { apply(x: tf.Tensor): tf.Scalar; getConfig(): unknown };
    expect(again.getConfig()).toEqual(reg.getConfig());
    expect(again.apply(tf.tensor1d([1, 2])).dataSync()[0]).toBeCloseTo(1.25, 6);
  });

  it('records each loss and metric with its name, options, reduction and the format version', async () => {
    const model = mlp(3, 'linear')();
    const { my_scaled__mse } = compile(userSource);
    model.compile({ optimizer: 'adam', loss: my_scaled__mse({ scale_by: 3, reduction: 'sum' }), metrics: [losses.huber({ delta: 2 }), 'mse'] });
    const store = memoryStore();
    await saveModel(model, store);
    const meta = (JSON.parse(store.json!) as { userDefinedMetadata: { lossc: Record<string, unknown> } }).userDefinedMetadata.lossc;
    expect(meta.format).toBe(MODEL_FORMAT);
    expect(meta.loss).toEqual({ lossc: { name: 'my_scaled__mse', options: { scale_by: 3 }, reduction: 'sum', bare: false, source: userSource } });
    expect(meta.metrics).toEqual([{ lossc: { name: 'huber', options: { delta: 2 }, reduction: 'sum_over_batch_size', bare: false } }, { tfjs: 'mse' }]);
    expect((meta.optimizer as { className: string }).className).toBe('Adam');
    const back = await loadModel(store);
    const loss = (back as unknown as { loss: LossFunction }).loss;
    expect(loss.lossName).toBe('my_scaled__mse');
    expect(loss.reduction).toBe('sum');
    // The user's own metadata is kept, and the model's own is left as it was.
    expect(model.getUserDefinedMetadata()).toBeUndefined();
  });

  it("the optimizer's saved state is what makes the resume exact (without it, Adam starts over)", async () => {
    const c = CASES[0]!;
    const x = c.x();
    const y = c.y();
    const a = c.make();
    a.compile(c.compileArgs());
    await train(a, x, y, N);
    const withState = memoryStore();
    const without = memoryStore();
    await saveModel(a, withState);
    await saveModel(a, without, { includeOptimizer: false });
    const b1 = await loadModel(withState);
    const b2 = await loadModel(without);
    await train(b1, x, y, M);
    await train(b2, x, y, M);
    expect(maxWeightDiff(b1, b2)).toBeGreaterThan(1e-3);
    for (const m of [a, b1, b2]) m.dispose();
    tf.dispose([x, y]);
  });

  it('a source that imports files carries their text (the files are not needed to load it)', async () => {
    const files = { 'lib/base.loss': 'def sq_(a, b) = (a - b)^2\n' };
    const text = 'import "lib/base.loss"\nloss imported_mse(y_true, y_pred) = mean(sq_(y_true, y_pred), axis = -1)\nregularizer imported_l2(w; k = 0.1) = k * sum(sq_(w, 0))\n';
    const m = compile(text, { resolve: files });
    const model = mlp(3, 'linear', { kernelRegularizer: m.imported_l2() })();
    model.compile({ optimizer: 'sgd', loss: m.imported_mse() });
    const store = memoryStore();
    await saveModel(model, store);
    const json = JSON.parse(store.json!) as { userDefinedMetadata: { lossc: { loss: { lossc: { source: string; imports: Record<string, string> } } } } };
    expect(json.userDefinedMetadata.lossc.loss.lossc.imports).toEqual(files);
    // A source text lossc has not compiled in this process (so nothing is cached): the import
    // is resolved from the saved record.
    json.userDefinedMetadata.lossc.loss.lossc.source += '# saved elsewhere\n';
    store.json = JSON.stringify(json).replace(/"source":"([0-9a-f]+)"/, (_, hex: string) => `"source":"${hex}${Buffer.from('# saved elsewhere\n').toString('hex')}"`);
    const back = await loadModel(store);
    const x = x4();
    const y = tf.randomNormal([12, 3], 0, 1, 'float32', 2);
    const [a, b] = [model, back].map((mm) => (mm.evaluate(x, y) as tf.Scalar).dataSync()[0]!);
    expect(b).toBeCloseTo(a!, 6);
  });

  it("keeps the user's own metadata next to lossc's", async () => {
    const model = mlp(1, 'linear')();
    model.compile({ optimizer: 'sgd', loss: losses.mse() });
    model.setUserDefinedMetadata({ mine: 'kept' });
    const store = memoryStore();
    await saveModel(model, store);
    const back = await loadModel(store);
    expect(back.getUserDefinedMetadata()).toMatchObject({ mine: 'kept' });
    expect(model.getUserDefinedMetadata()).toEqual({ mine: 'kept' });
  });
});

describe('what fails, and says why', () => {
  async function saved(edit: (meta: { format: number; loss: { lossc: { source?: string; name: string } } }) => void) {
    const model = mlp(3, 'linear')();
    model.compile({ optimizer: 'adam', loss: compile(userSource).my_scaled__mse() });
    const store = memoryStore();
    await saveModel(model, store);
    const json = JSON.parse(store.json!) as { userDefinedMetadata: { lossc: Parameters<typeof edit>[0] } };
    edit(json.userDefinedMetadata.lossc);
    store.json = JSON.stringify(json);
    return store;
  }

  async function loadError(store: tf.io.IOHandler): Promise<LosscError> {
    try {
      await loadModel(store);
    } catch (e) {
      expect(e).toBeInstanceOf(LosscError);
      return e as LosscError;
    }
    throw new Error('loadModel did not fail');
  }

  it('a model saved by a newer format', async () => {
    const e = await loadError(await saved((m) => (m.format = MODEL_FORMAT + 1)));
    expect(e.message).toContain('`my_scaled__mse`');
    expect(e.message).toMatch(/format 2.*reads format 1/);
  });

  it('a source that no longer compiles', async () => {
    const e = await loadError(await saved((m) => (m.loss.lossc.source = m.loss.lossc.source!.replace('sq_err_(y_true', 'sq_er_(y_true'))));
    expect(e.message).toContain('cannot load the loss `my_scaled__mse` of the model: its saved source no longer compiles');
    expect(e.message).toContain('did you mean `sq_err_`');
  });

  it('a loss the source no longer defines', async () => {
    const e = await loadError(await saved((m) => (m.loss.lossc.name = 'gone')));
    expect(e.message).toMatch(/cannot load the loss `gone` of the model: unknown loss `gone`/);
  });

  it("tfjs's own model.save with includeOptimizer says to use saveModel (instead of writing a training config it cannot load)", async () => {
    const model = mlp(1, 'linear')();
    model.compile({ optimizer: 'adam', loss: losses.mse(), metrics: [losses.huber()] });
    await expect(model.save(memoryStore(), { includeOptimizer: true })).rejects.toThrow(/use lossc's saveModel/);
    const store = memoryStore();
    await model.save(store); // without the optimizer: topology and weights, loadable to predict
    expect((await tf.loadLayersModel(store)).layers).toHaveLength(2);
  });

  it("an optimizer whose state tfjs cannot read is named, with the way out", async () => {
    const model = mlp(1, 'linear')();
    model.compile({ optimizer: tf.train.adamax(0.01), loss: losses.mse() });
    await expect(saveModel(model, memoryStore())).rejects.toThrow(/cannot read the state of the Adamax optimizer.*includeOptimizer: false/);
    const store = memoryStore();
    await saveModel(model, store, { includeOptimizer: false });
    expect((await loadModel(store)).optimizer.getClassName()).toBe('Adamax');
  });

  it('saving a model whose loss is a plain JS function', async () => {
    const model = mlp(1, 'linear')();
    const mine = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.square(tf.sub(a, b)));
    model.compile({ optimizer: 'sgd', loss: mine });
    const e = await saveModel(model, memoryStore()).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(LosscError);
    expect((e as Error).message).toMatch(/cannot save the loss of the model \(`mine`\)/);
    const uncompiled = await saveModel(mlp(1, 'linear')(), memoryStore()).then(() => undefined, (x: unknown) => x);
    expect((uncompiled as Error).message).toMatch(/compile the model first/);
  });
});
