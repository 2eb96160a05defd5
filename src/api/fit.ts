// lossc losses in tfjs-layers' own `compile` and `fit`, with Keras's behaviour where tfjs-layers
// special-cases only its own losses. Installed once when lossc is imported, on
// tf.LayersModel.prototype (tf.Sequential delegates to it); models without lossc losses are
// untouched.
//
// - Integer targets: tfjs-layers checks each target's shape against the model's output, except
//   for its own sparse cross-entropy (exempted by identity). A lossc loss whose y_true is
//   declared `int[...]` checks its own shapes, so its output's shape check is dropped (the
//   target may be [N], [N, 1] or any shape the loss accepts), and the `accuracy` metric is the
//   sparse one, as Keras picks it for a sparse loss. tfjs-layers makes a target [N] into [N, 1];
//   for such a loss a [N, 1] target of a [N, C] output (C > 1) is given to it as [N], as Keras
//   gives it (Keras's sparse cross-entropy squeezes it the same way).
// - classWeight: tfjs-layers multiplies the loss's value by per-sample weights and takes the
//   mean, which is wrong for a loss that already reduced its values. For a lossc loss the class
//   weights become Keras's sample weights instead (class id from an integer label or from the
//   argmax of a one-hot row, 1 for a class not listed, as Keras 3 does), passed to the loss, so
//   every reduction gives what Keras gives.
// - model.save(handler, { includeOptimizer: true }) writes a training config that names each
//   loss and metric, which tfjs-layers cannot do for a function (it writes `{}` and an unloadable
//   name): for a model with lossc losses or metrics it is an error pointing at saveModel.

import * as tf from '@tensorflow/tfjs';
import { CompiledDefinition } from '../compile/compiled.js';
import { LosscError } from '../errors.js';
import type { LossFunction } from './losses.js';

type Fn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

interface ModelInternals {
  lossFunctions: Fn[];
  feedOutputShapes: Array<Array<number | null> | null>;
  outputNames: string[];
  metrics: unknown;
}

function isLosscLoss(f: unknown): f is LossFunction {
  return typeof f === 'function' && (f as Partial<LossFunction>).compiled instanceof CompiledDefinition;
}

/** The lossc loss behind a model's loss function (itself, or the one `squeezingLabels` wraps). */
function losscBehind(f: unknown): LossFunction | undefined {
  const inner = (f as { losscLoss?: unknown } | undefined)?.losscLoss ?? f;
  return isLosscLoss(inner) ? inner : undefined;
}

/** Undo tfjs-layers' [N] -> [N, 1] of integer targets (see the top of this file). */
function squeezeLabels(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const r = yTrue.rank;
  return r >= 2 && r === yPred.rank && yTrue.shape[r - 1] === 1 && yPred.shape[r - 1] !== 1 ? tf.squeeze(yTrue, [r - 1]) : yTrue;
}

function squeezingLabels(f: LossFunction): Fn {
  const g = (yt: tf.Tensor, yp: tf.Tensor) => tf.tidy(() => f(squeezeLabels(yt, yp), yp));
  return Object.defineProperties(g, { losscLoss: { value: f }, name: { value: f.lossName } });
}

/** Does the loss declare integer targets (`y_true: int[...]`)? */
export function takesIntegerTargets(f: unknown): boolean {
  return isLosscLoss(f) && f.compiled.def.params[0]?.type?.dtype === 'int';
}

const ACCURACY = new Set(['accuracy', 'acc']);
const sparseAccuracy: Fn = Object.defineProperty((a: tf.Tensor, b: tf.Tensor) => tf.metrics.sparseCategoricalAccuracy(a, b), 'name', { value: 'acc' });

function sparseMetrics(metrics: unknown, sparse: boolean[], names: string[]): unknown {
  const swap = (m: unknown, sparseOutput: boolean) => (sparseOutput && typeof m === 'string' && ACCURACY.has(m) ? sparseAccuracy : m);
  const swapAll = (m: unknown, s: boolean) => (Array.isArray(m) ? m.map((x) => swap(x, s)) : swap(m, s));
  if (metrics === null || metrics === undefined || !sparse.some(Boolean)) return metrics;
  if (Array.isArray(metrics) || typeof metrics !== 'object') return sparse.length === 1 ? swapAll(metrics, sparse[0]!) : metrics;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metrics)) out[k] = swapAll(v, sparse[names.indexOf(k)] ?? false);
  return out;
}

/** The per-sample weights Keras makes from class weights, for a batch of targets. */
function classSampleWeights(yTrue: tf.Tensor, classWeight: Record<number, number>, loss: string): tf.Tensor {
  const keys = Object.keys(classWeight).map(Number);
  if (!keys.length || keys.some((k) => !Number.isInteger(k) || k < 0)) {
    throw new LosscError('value', `classWeight for \`${loss}\` must map class ids (integers >= 0) to weights, got ${JSON.stringify(classWeight)}`);
  }
  const table = Array.from({ length: Math.max(...keys) + 1 }, (_, i) => classWeight[i] ?? 1);
  if (yTrue.rank > 2) throw new LosscError('shape', `classWeight for \`${loss}\` needs targets of rank 1 or 2 (as Keras), got shape [${yTrue.shape.join(', ')}]; pass sample weights to a training step instead`);
  const ids = yTrue.rank === 2 && yTrue.shape[1]! > 1 ? tf.argMax(yTrue, 1) : tf.cast(tf.reshape(yTrue, [-1]), 'int32');
  const max = tf.max(ids).dataSync()[0]!;
  if (max >= table.length || tf.min(ids).dataSync()[0]! < 0) {
    throw new LosscError('value', `classWeight for \`${loss}\` has no weight for class ${max} of the targets (its classes: ${keys.join(', ')})`);
  }
  return tf.gather(tf.tensor1d(table), ids);
}

/** Per output: the class weights fit was given for it (tfjs-layers' reading of `classWeight`). */
function classWeightsByOutput(cw: unknown, names: string[]): Array<Record<number, number> | null> {
  if (cw === null || cw === undefined) return names.map(() => null);
  if (Array.isArray(cw)) return names.map((_, i) => (cw[i] as Record<number, number> | undefined) ?? null);
  const first = Object.values(cw as object)[0];
  if (typeof first === 'object' && first !== null) return names.map((n) => (cw as Record<string, Record<number, number>>)[n] ?? null);
  return names.map((_, i) => (i === 0 ? (cw as Record<number, number>) : null));
}

type Compile = tf.LayersModel['compile'];
type Fit = tf.LayersModel['fit'];
type FitDataset = tf.LayersModel['fitDataset'];
type ClassWeights = tf.ModelFitArgs['classWeight'];

/** Run a fit with the class weights of lossc losses given to the losses themselves (see the top). */
async function withClassWeights(model: tf.LayersModel, given: ClassWeights, run: (classWeight: ClassWeights) => Promise<tf.History>): Promise<tf.History> {
  const self = model as unknown as ModelInternals;
  const byOutput = classWeightsByOutput(given, model.outputNames);
  const behind = byOutput.map((_, i) => losscBehind(self.lossFunctions?.[i]));
  const taken = byOutput.map((cw, i) => cw !== null && behind[i] !== undefined && !behind[i]!.bare);
  if (!taken.some(Boolean)) return run(given);
  const saved = [...self.lossFunctions];
  taken.forEach((t, i) => {
    if (!t) return;
    const f = behind[i]!;
    const cw = byOutput[i]!;
    const squeeze = saved[i] !== f;
    self.lossFunctions[i] = (yt: tf.Tensor, yp: tf.Tensor) =>
      tf.tidy(() => {
        const y = squeeze ? squeezeLabels(yt, yp) : yt;
        return f(y, yp, classSampleWeights(y, cw, f.lossName));
      });
  });
  // The weights lossc applies are not applied again by tfjs-layers.
  const rest = byOutput.map((cw, i) => (taken[i] ? null : cw));
  try {
    return await run(rest.some((c) => c !== null) ? (rest as ClassWeights) : undefined);
  } finally {
    saved.forEach((f, i) => (self.lossFunctions[i] = f));
  }
}

function install(): void {
  const proto = tf.LayersModel.prototype as unknown as { compile: Compile; fit: Fit; fitDataset: FitDataset; getTrainingConfig: () => unknown; __losscFit?: true };
  if (proto.__losscFit) return;
  Object.defineProperty(proto, '__losscFit', { value: true });
  const compile = proto.compile;
  const fit = proto.fit;
  const fitDataset = proto.fitDataset;
  const getTrainingConfig = proto.getTrainingConfig;

  proto.getTrainingConfig = function (this: tf.LayersModel) {
    const { loss, metrics } = this as unknown as { loss: unknown; metrics: unknown };
    const all = [loss, metrics].flatMap((v) => (Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [v])).flat();
    if (all.some((f) => losscBehind(f))) {
      throw new LosscError('usage', "model.save with includeOptimizer cannot record lossc losses or metrics (tfjs-layers saves only names): use lossc's saveModel(model, handler), which saves them and the optimizer's state, and loadModel to resume");
    }
    return getTrainingConfig.call(this);
  };

  proto.compile = function (this: tf.LayersModel, args: tf.ModelCompileArgs) {
    const self = this as unknown as ModelInternals;
    const loss = args.loss as unknown;
    const list = Array.isArray(loss) ? loss : typeof loss === 'object' && loss !== null ? null : [loss];
    const outputs = this.outputNames.length;
    const sparse = this.outputNames.map((n, i) => takesIntegerTargets(list ? list[list.length === 1 ? 0 : i] : (loss as Record<string, unknown>)[n]));
    compile.call(this, { ...args, metrics: sparseMetrics(args.metrics, sparse, this.outputNames) as tf.ModelCompileArgs['metrics'] });
    self.metrics = args.metrics;
    for (let i = 0; i < outputs; i++) {
      if (!sparse[i]) continue;
      self.feedOutputShapes[i] = null;
      self.lossFunctions[i] = squeezingLabels(self.lossFunctions[i] as LossFunction);
    }
  } as Compile;

  proto.fit = async function (this: tf.LayersModel, x, y, args = {}) {
    return withClassWeights(this, args.classWeight, (classWeight) => fit.call(this, x, y, { ...args, classWeight }));
  } as Fit;
  proto.fitDataset = async function (this: tf.LayersModel, dataset, args) {
    return withClassWeights(this, args?.classWeight, (classWeight) => fitDataset.call(this, dataset, { ...args, classWeight }));
  } as FitDataset;
}

install();
