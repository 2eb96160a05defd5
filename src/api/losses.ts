// The JavaScript API: every stdlib loss as `losses.name(options)` (and its camelCase twin), and
// `compile(source)` for a user's own definitions. Each gives a function
// `(yTrue, yPred, sampleWeight?) => tf.Tensor` with Keras's semantics and lossc's gradient.

import * as tf from '@tensorflow/tfjs';
import { hasAttribute, type Definition } from '../../grammar/ast.js';
import { CompiledDefinition } from '../compile/compiled.js';
import { FastPath } from '../compile/fast.js';
import { LosscError } from '../errors.js';
import { addNamed, namedRegistry } from './registry.js';
import type { Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { align, alignShapes, checkReduceShapes, checkReduction, kerasReducer, type Reduction } from '../keras/wrapper.js';
import type { StdlibLosses } from './typed.js';

export type { OptionValue } from './stdlib-types.js';

export interface LossOptions {
  reduction?: Reduction | null;
  /** The bare function (Keras's `keras.losses.name(y_true, y_pred)`): per-sample values. */
  call?: 'function' | 'class';
  [option: string]: unknown;
}

export interface CallExtras {
  /** A Keras mask attached to y_pred (true: counted). */
  mask?: tf.Tensor;
}

export interface LossFunction {
  (yTrue: tf.Tensor, yPred: tf.Tensor, sampleWeight?: tf.Tensor | number | null, extras?: CallExtras): tf.Tensor;
  /** The loss's name (as in Keras). */
  readonly lossName: string;
  /** The compiled definition (plans, cache). */
  readonly compiled: CompiledDefinition;
  /** Its reduction, and whether it is the bare per-sample function (`call: 'function'`). */
  readonly reduction: Reduction;
  readonly bare: boolean;
}

/** camelCase → snake_case for option names (fromLogits → from_logits). */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function toStatic(v: unknown, name: string, loss: string): Static {
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new LosscError('option', `option \`${name}\` of \`${loss}\` must be finite, got ${v}`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => toStatic(x, name, loss));
  throw new LosscError('option', `option \`${name}\` of \`${loss}\` must be a number, boolean, string, list or null, got ${typeof v}`);
}

/** Make the Keras-semantics function for a `loss` definition. */
export function makeLoss(lib: Library, def: Definition, opts: LossOptions = {}): LossFunction {
  const options: Record<string, Static> = {};
  let reduction: Reduction = 'sum_over_batch_size';
  let bare = false;
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    const key = snake(k);
    if (key === 'reduction') reduction = checkReduction(v);
    else if (key === 'call') bare = v === 'function';
    else if (key === 'name' || key === 'dtype') continue; // accepted for Keras compatibility
    else options[key] = toStatic(v, key, def.name);
  }
  const compiled = new CompiledDefinition(lib, def, options);
  const alignInputs = !hasAttribute(def, 'no_align');
  const fast = !bare && reduction !== 'none' && reduction !== 'mean_with_sample_weight' ? new FastPath(compiled.pipeline, reduction) : undefined;
  const fn = (yTrue: tf.Tensor, yPred: tf.Tensor, sampleWeight?: tf.Tensor | number | null, extras?: CallExtras): tf.Tensor => {
    if (!(yTrue instanceof tf.Tensor) || !(yPred instanceof tf.Tensor)) {
      throw new LosscError('usage', `\`${def.name}\` takes tf.Tensors (yTrue, yPred)`);
    }
    if (fast && (sampleWeight === undefined || sampleWeight === null) && !extras?.mask) {
      // tidy returns what the scope returns (undefined when the fast path does not apply).
      const out = tf.tidy(() => {
        const [a, b] = alignInputs ? align(yTrue, yPred) : [yTrue, yPred];
        return fast.tryCall([a, b]);
      }) as tf.Tensor | undefined;
      if (out) return out;
    }
    if (!bare) {
      // The wrapper's shape errors before any kernel runs: thrown under tf.grad later, they
      // would leak the tensors tfjs saved for the backward pass.
      const [st, sp] = alignInputs ? alignShapes(yTrue.shape, yPred.shape) : [yTrue.shape, yPred.shape];
      const out = compiled.outputShapes([[...st], [...sp]]);
      const swShape = sampleWeight === undefined || sampleWeight === null ? undefined : typeof sampleWeight === 'number' ? [] : sampleWeight.shape;
      checkReduceShapes({ values: out.value, outMask: out.mask, inMask: extras?.mask?.shape, sampleWeight: swShape }, reduction, def.name);
    }
    return tf.tidy(() => {
      // A cast to the dtype a tensor has is one more kernel (a Cast) for nothing.
      const yt = yTrue.dtype === 'float32' ? yTrue : tf.cast(yTrue, 'float32');
      const yp = yPred.dtype === 'float32' ? yPred : tf.cast(yPred, 'float32');
      if (bare) return compiled.apply([yt, yp]).value;
      const [a, b] = alignInputs ? align(yt, yp) : [yt, yp];
      const sw = sampleWeight === undefined || sampleWeight === null ? undefined : typeof sampleWeight === 'number' ? tf.scalar(sampleWeight) : sampleWeight;
      return compiled.applyReduced([a, b], kerasReducer({ inMask: extras?.mask, sampleWeight: sw, reduction }));
    });
  };
  Object.defineProperty(fn, 'lossName', { value: def.name });
  Object.defineProperty(fn, 'compiled', { value: compiled });
  Object.defineProperty(fn, 'reduction', { value: reduction });
  Object.defineProperty(fn, 'bare', { value: bare });
  // tfjs-layers names a metric (and logs it) by its function's name.
  Object.defineProperty(fn, 'name', { value: def.name });
  return fn as LossFunction;
}

export type LossFactory = (opts?: LossOptions) => LossFunction;

/** Every stdlib loss, `losses.binary_crossentropy(...)` and `losses.binaryCrossentropy(...)` (parsed on first use), with typed options. */
export const losses: StdlibLosses = namedRegistry<LossFactory>('loss', () => {
  const lib = Library.stdlib();
  const out: Record<string, LossFactory> = {};
  for (const name of lib.names()) {
    const entry = lib.get(name)!;
    if (entry.kind === 'loss') addNamed(out, name, (opts?: LossOptions) => makeLoss(lib, entry.def, opts));
  }
  return out;
}) as unknown as StdlibLosses;
