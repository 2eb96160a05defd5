// Saving and loading a compiled tfjs-layers model with its lossc losses and metrics, so that
// training resumes after a load:
//
//   await saveModel(model, handler);           // topology, weights, optimizer state, losses
//   const again = await loadModel(handler);    // compiled again, same losses, same optimizer state
//   await again.fit(x, y, { epochs: 3 });
//
// tfjs-layers saves only losses given by name, so lossc writes its own record into the model's
// userDefinedMetadata (under `lossc`): each loss and metric (definition name, options, reduction,
// and for a user's definition its source), the optimizer's class and config, and a format
// version. The optimizer's weights go in the weights file, marked as tfjs marks them, with no
// tfjs training config: a plain tf.loadLayersModel still loads the model (uncompiled) to predict.

import * as tf from '@tensorflow/tfjs';
import { CompiledDefinition } from '../compile/compiled.js';
import { LosscError } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import type { Reduction } from '../keras/wrapper.js';
import { makeLoss, type LossFunction } from './losses.js';
import { MODEL_FORMAT, definitionFor, importsOf, libraryFor, sourceOf } from './serial.js';

/** One loss or metric as saved: a lossc definition, a tfjs-layers name, or a tf.metrics function. */
export type SavedFunction =
  | { lossc: { name: string; options: Record<string, Static>; reduction: Reduction; bare: boolean; source?: string; imports?: Record<string, string> } }
  | { tfjs: string }
  | { tfjsMetric: string };

type Slot<T> = T | T[] | { [output: string]: T };

export interface LosscModelRecord {
  format: number;
  loss: Slot<SavedFunction>;
  metrics?: Slot<SavedFunction>;
  optimizer: { className: string; config: tf.serialization.ConfigDict };
}

export interface SaveModelOptions {
  /** Save the optimizer's state (its moments and step count) to resume training exactly; default true. */
  includeOptimizer?: boolean;
}

type LossOrMetric = string | ((a: tf.Tensor, b: tf.Tensor) => tf.Tensor);

function isLosscLoss(f: unknown): f is LossFunction {
  return typeof f === 'function' && (f as Partial<LossFunction>).compiled instanceof CompiledDefinition;
}

function mapSlot<A, B>(slot: Slot<A>, f: (a: A, where: string) => B): Slot<B> {
  if (Array.isArray(slot)) return slot.map((a, i) => f(a, `output ${i}`));
  if (slot !== null && typeof slot === 'object' && !('lossc' in slot || 'tfjs' in slot || 'tfjsMetric' in slot)) {
    const out: { [k: string]: B } = {};
    for (const [k, v] of Object.entries(slot as { [k: string]: A })) out[k] = f(v, `output \`${k}\``);
    return out;
  }
  return f(slot as A, 'the model');
}

function describe(f: LossOrMetric, what: 'loss' | 'metric', where: string): SavedFunction {
  if (typeof f === 'string') return { tfjs: f };
  if (isLosscLoss(f)) {
    const source = sourceOf(f.compiled.lib);
    const spec = { name: f.compiled.name, options: { ...f.compiled.options }, reduction: f.reduction, bare: f.bare };
    if (source === undefined) return { lossc: spec };
    return { lossc: Object.keys(source.imports).length ? { ...spec, source: source.text, imports: source.imports } : { ...spec, source: source.text } };
  }
  const metrics = tf.metrics as unknown as Record<string, unknown>;
  const key = Object.keys(metrics).find((k) => metrics[k] === f);
  if (key) return { tfjsMetric: key };
  throw new LosscError(
    'usage',
    `cannot save the ${what} of ${where} (\`${f.name || 'anonymous'}\`): only lossc losses, tfjs-layers ${what} names and tf.metrics functions can be saved`,
  );
}

/** The lossc record of a compiled model (what saveModel writes under userDefinedMetadata.lossc). */
export function modelRecord(model: tf.LayersModel): LosscModelRecord {
  if (!model.optimizer) throw new LosscError('usage', 'saveModel: compile the model first (it has no optimizer, loss or metrics to save)');
  const m = model as unknown as { loss: Slot<LossOrMetric>; metrics?: Slot<LossOrMetric> | Slot<LossOrMetric[]> };
  const record: LosscModelRecord = {
    format: MODEL_FORMAT,
    loss: mapSlot(m.loss, (f, where) => describe(f, 'loss', where)),
    optimizer: { className: model.optimizer.getClassName(), config: model.optimizer.getConfig() },
  };
  if (m.metrics !== undefined && m.metrics !== null) {
    const list = Array.isArray(m.metrics) ? m.metrics : typeof m.metrics === 'object' ? m.metrics : [m.metrics];
    record.metrics = mapSlot(list as Slot<LossOrMetric>, (f, where) => describe(f, 'metric', where));
  }
  return record;
}

function saveHandler(handlerOrUrl: tf.io.IOHandler | string): tf.io.IOHandler {
  if (typeof handlerOrUrl !== 'string') return handlerOrUrl;
  const found = tf.io.getSaveHandlers(handlerOrUrl);
  if (found.length !== 1) throw new LosscError('usage', `saveModel: ${found.length ? 'more than one' : 'no'} tfjs save handler for \`${handlerOrUrl}\``);
  return found[0]!;
}

function loadHandler(handlerOrUrl: tf.io.IOHandler | string): tf.io.IOHandler {
  if (typeof handlerOrUrl !== 'string') return handlerOrUrl;
  const found = tf.io.getLoadHandlers(handlerOrUrl);
  if (found.length !== 1) throw new LosscError('usage', `loadModel: ${found.length ? 'more than one' : 'no'} tfjs load handler for \`${handlerOrUrl}\``);
  return found[0]!;
}

async function optimizerWeights(optimizer: tf.Optimizer): ReturnType<tf.Optimizer["getWeights"]> {
  try {
    return await optimizer.getWeights();
  } catch (e) {
    throw new LosscError('usage', `saveModel: tfjs cannot read the state of the ${optimizer.getClassName()} optimizer (${(e as Error).message}); save with { includeOptimizer: false } (training then resumes with a fresh optimizer state)`);
  }
}

/** Save a model with its lossc losses, metrics and optimizer state (see the top of this file). */
export async function saveModel(model: tf.LayersModel, handlerOrUrl: tf.io.IOHandler | string, options: SaveModelOptions = {}): Promise<tf.io.SaveResult> {
  const handler = saveHandler(handlerOrUrl);
  if (!handler.save) throw new LosscError('usage', 'saveModel: the IOHandler has no `save` method');
  const record = modelRecord(model);
  const before = model.getUserDefinedMetadata();
  let artifacts: tf.io.ModelArtifacts | undefined;
  model.setUserDefinedMetadata({ ...(before ?? {}), lossc: record as unknown as object });
  try {
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
  } finally {
    if (before === undefined) delete (model as unknown as { userDefinedMetadata?: object }).userDefinedMetadata;
    else model.setUserDefinedMetadata(before);
  }
  const out = artifacts!;
  if (options.includeOptimizer !== false) {
    const weights = await optimizerWeights(model.optimizer);
    const { data, specs } = await tf.io.encodeWeights(weights, 'optimizer');
    for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
    out.weightSpecs = [...(out.weightSpecs ?? []), ...specs];
    out.weightData = tf.io.concatenateArrayBuffers([...[out.weightData ?? new ArrayBuffer(0)].flat(), data]);
  }
  return handler.save(out);
}

export interface LoadModelOptions {
  /** Passed to tf.loadLayersModel. */
  strict?: boolean;
}

function whatOf(saved: SavedFunction, kind: 'loss' | 'metric', where: string): string {
  const name = 'lossc' in saved ? saved.lossc.name : 'tfjs' in saved ? saved.tfjs : saved.tfjsMetric;
  return `cannot load the ${kind} \`${name}\` of ${where}`;
}

function rebuild(saved: SavedFunction, kind: 'loss' | 'metric', where: string): LossOrMetric {
  const what = whatOf(saved, kind, where);
  if ('tfjs' in saved && typeof saved.tfjs === 'string') return saved.tfjs;
  if ('tfjsMetric' in saved) {
    const f = (tf.metrics as unknown as Record<string, LossOrMetric>)[saved.tfjsMetric];
    if (typeof f !== 'function') throw new LosscError('value', `${what}: tf.metrics has no \`${saved.tfjsMetric}\``);
    return f;
  }
  if (!('lossc' in saved) || typeof saved.lossc?.name !== 'string') throw new LosscError('value', `${what}: the saved record is not one lossc writes`);
  const { name, options, reduction, bare, source, imports } = saved.lossc;
  const lib = libraryFor(typeof source === 'string' ? { text: source, imports: importsOf(imports, what) } : undefined, what);
  const def = definitionFor(lib, name, 'loss', what);
  try {
    return makeLoss(lib, def, { ...options, reduction, call: bare ? 'function' : undefined });
  } catch (e) {
    if (e instanceof LosscError) throw new LosscError(e.kind, `${what}: ${e.detail}`, e.span);
    throw e;
  }
}

function names(slot: Slot<SavedFunction> | undefined): string {
  if (!slot) return '';
  const list = Array.isArray(slot) ? slot : 'lossc' in slot || 'tfjs' in slot || 'tfjsMetric' in slot ? [slot as SavedFunction] : Object.values(slot);
  return list.map((s) => `\`${'lossc' in s ? s.lossc.name : 'tfjs' in s ? s.tfjs : s.tfjsMetric}\``).join(', ');
}

function makeOptimizer(saved: LosscModelRecord['optimizer']): tf.Optimizer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[saved?.className];
  if (!entry) throw new LosscError('value', `loadModel: unknown optimizer class \`${String(saved?.className)}\``);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, saved.config) as unknown as tf.Optimizer;
}

async function restoreOptimizerState(optimizer: tf.Optimizer, artifacts: tf.io.ModelArtifacts): Promise<void> {
  const specs = artifacts.weightSpecs ?? [];
  if (!artifacts.weightData || !specs.some((s) => s.group === 'optimizer')) return;
  const decoded = tf.io.decodeWeights(artifacts.weightData, specs);
  try {
    const weights = specs.filter((s) => s.group === 'optimizer').map((s) => ({ name: s.name, tensor: decoded[s.name]! }));
    await optimizer.setWeights(weights);
  } finally {
    tf.dispose(Object.values(decoded));
  }
}

/**
 * Load a model saved by saveModel, compiled again with its losses, metrics and optimizer state.
 * A model saved without lossc's record loads as tf.loadLayersModel loads it.
 */
export async function loadModel(handlerOrUrl: tf.io.IOHandler | string, options: LoadModelOptions = {}): Promise<tf.LayersModel> {
  const handler = loadHandler(handlerOrUrl);
  if (!handler.load) throw new LosscError('usage', 'loadModel: the IOHandler has no `load` method');
  const artifacts = await handler.load();
  const record = (artifacts.userDefinedMetadata as { lossc?: LosscModelRecord } | undefined)?.lossc;
  if (record && !(typeof record.format === 'number' && record.format <= MODEL_FORMAT)) {
    throw new LosscError(
      'value',
      `cannot load the losses ${names(record.loss)} of this model: it was saved in lossc model format ${String(record.format)}, and this lossc reads format ${MODEL_FORMAT} and older (upgrade lossc)`,
    );
  }
  // Check the losses before building the model, so a bad record leaves no model behind.
  const loss = record ? mapSlot(record.loss, (s, where) => rebuild(s, 'loss', where)) : undefined;
  const metrics = record?.metrics ? mapSlot(record.metrics, (s, where) => rebuild(s, 'metric', where)) : undefined;
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict: options.strict });
  if (!record) return model;
  const optimizer = makeOptimizer(record.optimizer);
  model.compile({ optimizer, loss: loss as never, metrics: metrics as never });
  await restoreOptimizerState(optimizer, artifacts);
  return model;
}
