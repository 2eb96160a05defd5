// `compile(source)`: a user's own definitions, compiled once and called many times.
//
//   const { focal } = compile(`loss focal(y_true, y_pred; gamma = 2.0) = ...`);
//   model.compile({ optimizer: 'adam', loss: focal({ gamma: 3 }) });
//
// or as a tagged template: compile`loss my_mse(y_true, y_pred) = mean((y_true - y_pred)^2, axis = -1)`.
// Interpolated values are not spliced into the source as text: only numbers are accepted, and
// they are written as numeric literals, so nothing a user passes is ever run as code.
//
// Every error the source holds whatever the tensors (syntax, names, arity, options, dtypes) is
// reported by `compile` itself. The result is a plain object: reading a name it does not define
// gives undefined, as for any object (TypeScript catches the typo, see `Compiled`).

import * as tf from '@tensorflow/tfjs';
import { derivative, type Derivative } from '../autodiff/derivative.js';
import { LosscError } from '../errors.js';
import { Library } from '../lower/library.js';
import type { Static } from '../lower/builtins.js';
import { CompiledDefinition } from '../compile/compiled.js';
import { makeLoss, snake, type LossFactory, type LossOptions } from './losses.js';
import { addNamed } from './registry.js';
import { makeRegularizer, type RegularizerFactory } from './regularizers.js';
import { checkDefinitions } from './check.js';
import { rememberSource } from './serial.js';
import type { CamelCase, DefinedNames } from './source-types.js';

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

/** What a source defines, by name: `{ focal: 'loss', smooth: 'regularizer' }`. */
export type Definitions = Record<string, 'loss' | 'regularizer'>;

type Factory<K> = K extends 'regularizer' ? RegularizerFactory : LossFactory;

/** The result of `compile`, typed by what the source defines (snake_case names and their camelCase twins). */
export type Compiled<D extends Definitions> = CompiledModule & { readonly [K in keyof D as K | CamelCase<K & string>]: Factory<D[K]> };

/** The result of `compile` when the defined names are not known to the type checker. */
export type CompileResult = Compiled<Record<string, 'loss' | 'regularizer'>>;

function sourceText(strings: TemplateStringsArray | string, values: unknown[]): string {
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
 * Compile lossc source. Given a string literal, the result is typed by the names it defines;
 * as a tagged template, name them in the type argument (`` compile<{ focal: 'loss' }>`...` ``),
 * or every name is typed as a loss factory.
 */
export function compile<const S extends string>(source: S): Compiled<DefinedNames<S>>;
export function compile<D extends Definitions = Record<string, 'loss'>>(strings: TemplateStringsArray, ...values: number[]): Compiled<D>;
export function compile(strings: TemplateStringsArray | string, ...values: unknown[]): CompileResult {
  const text = sourceText(strings, values);
  const lib = Library.fromSource(text, '<compile>');
  checkDefinitions(lib);
  rememberSource(lib, text);
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
  // The module's own members win a clash with a definition's name (reach it through `.losses`).
  return { ...losses, ...regularizers, ...module } as unknown as CompileResult;
}
