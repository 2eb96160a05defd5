// `compile(source)`: a user's own definitions, compiled once and called many times.
//
//   const { focal } = compile(`loss focal(y_true, y_pred; gamma = 2.0) = ...`);
//   model.compile({ optimizer: 'adam', loss: focal({ gamma: 3 }) });
//
// or as a tagged template: compile`loss my_mse(y_true, y_pred) = mean((y_true - y_pred)^2, axis = -1)`.
// Interpolated values are not spliced into the source as text: only numbers are accepted, and
// they are written as numeric literals, so nothing a user passes is ever run as code.

import * as tf from '@tensorflow/tfjs';
import { derivative, type Derivative } from '../autodiff/derivative.js';
import { LosscError, didYouMean } from '../errors.js';
import { Library, type ImportOptions } from '../lower/library.js';
import type { Static } from '../lower/builtins.js';
import { CompiledDefinition } from '../compile/compiled.js';
import { makeLoss, snake, type LossFactory, type LossOptions } from './losses.js';
import { addNamed } from './registry.js';
import { makeRegularizer, type RegularizerFactory } from './regularizers.js';

export interface CompiledModule {
  /** Every `loss` of the source, by name (and camelCase twin). */
  losses: Record<string, LossFactory>;
  /** Every `regularizer` of the source, as tfjs-layers regularizer factories. */
  regularizers: Record<string, RegularizerFactory>;
  /** The derivative of one of the source's losses, printable. */
  derivative(loss: string, wrt: string | string[], options?: Record<string, Static>): Derivative;
  /** The library (stdlib + imports + the source's definitions). */
  library: Library;
  /** Any definition as a plain function of its tensor parameters (per-sample values, lossc's gradient). */
  fn(name: string, options?: Record<string, unknown>): (...xs: tf.Tensor[]) => tf.Tensor;
}

export type CompileResult = CompiledModule & Record<string, LossFactory | RegularizerFactory | unknown>;

/** `compile(text, { root, resolve })`: the import options of a string's second argument. */
function importOptions(v: unknown): ImportOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new LosscError('usage', 'compile(text, options): options must be an object ({ root } or { resolve })');
  const { root, resolve, ...rest } = v as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new LosscError('usage', `compile(text, options): unknown option \`${unknown[0]}\`${didYouMean(unknown[0]!, ['root', 'resolve'])}`);
  if (root !== undefined && typeof root !== 'string') throw new LosscError('usage', 'compile(text, { root }): root must be a folder name (a string)');
  if (resolve !== undefined && (resolve === null || (typeof resolve !== 'function' && typeof resolve !== 'object'))) {
    throw new LosscError('usage', 'compile(text, { resolve }): resolve must be a function (path, from) => text or a { path: text } record');
  }
  return { root, resolve } as ImportOptions;
}

function sourceOf(strings: TemplateStringsArray | string, values: unknown[]): string {
  if (typeof strings === 'string') return strings;
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new LosscError('value', `only finite numbers can be interpolated into lossc source, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
    }
    out += `(${String(v)})` + (strings[i + 1] ?? '');
  });
  return out;
}

/**
 * Compile lossc source (a string, or used as a tagged template). Its imports may name only the
 * stdlib unless a string's second argument gives `root` (a folder, Node entry) or `resolve`.
 */
export function compile(strings: TemplateStringsArray | string, ...values: unknown[]): CompileResult {
  const text = sourceOf(strings, typeof strings === 'string' ? [] : values);
  const lib = Library.fromSource(text, '<compile>', typeof strings === 'string' ? importOptions(values[0]) : {});
  const losses: Record<string, LossFactory> = {};
  const regularizers: Record<string, RegularizerFactory> = {};
  for (const def of lib.own) {
    if (def.kind === 'loss') addNamed(losses, def.name, (opts?: LossOptions) => makeLoss(lib, def, opts));
    else if (def.kind === 'regularizer') addNamed(regularizers, def.name, (opts?: Record<string, unknown>) => makeRegularizer(lib, def, opts));
  }
  const module: CompiledModule = {
    losses,
    regularizers,
    library: lib,
    derivative: (loss, wrt, options) => derivative(loss, wrt, { library: lib, options }),
    fn(name, options = {}) {
      const def = lib.require(name).def;
      const opts: Record<string, Static> = {};
      for (const [k, v] of Object.entries(options)) opts[snake(k)] = v as Static;
      const compiled = new CompiledDefinition(lib, def, opts);
      return (...xs: tf.Tensor[]) => tf.tidy(() => compiled.apply(xs.map((x) => tf.cast(x, 'float32'))).value);
    },
  };
  const all: Record<string, unknown> = { ...losses, ...regularizers };
  return new Proxy(module as CompileResult, {
    get(target, prop) {
      if (typeof prop !== 'string' || prop in target) return Reflect.get(target, prop);
      if (prop in all) return all[prop];
      if (prop === 'then' || prop === 'toJSON' || prop.startsWith('__')) return undefined;
      throw new LosscError('name', `the compiled source defines no loss or regularizer \`${prop}\`${didYouMean(prop, Object.keys(all))}`);
    },
  });
}
