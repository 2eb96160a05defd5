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
import { derivative, type Derivative } from '../pipeline/derivative.js';
import { LosscError, didYouMean } from '../errors.js';
import { Library, hostOf, type ImportOptions } from '../lower/library.js';
import type { ImportHost, ImportResolver } from '../lower/loader.js';
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

/** Where a string's imports come from: a folder (Node entry) or a resolver. */
export interface CompileOptions {
  root?: string;
  resolve?: ImportResolver | Readonly<Record<string, string>>;
}

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

/** The host of `opts`, recording the text of every file it gives (so a saved model carries its imports). */
function recording(opts: ImportOptions, into: Record<string, string>): ImportOptions {
  const host = hostOf(opts);
  if (!host) return opts;
  const rec: ImportHost = {
    read(path, from) {
      const text = host.read(path, from);
      if (text !== undefined) into[path] = text;
      return text;
    },
    display: (path) => host.display(path),
  };
  return { host: rec, dir: opts.dir };
}

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
 * or every name is typed as a loss factory. Its imports may name only the stdlib unless a
 * string's second argument gives `root` (a folder, Node entry) or `resolve`.
 */
export function compile<const S extends string>(source: S, options?: CompileOptions): Compiled<DefinedNames<S>>;
export function compile<D extends Definitions = Record<string, 'loss'>>(strings: TemplateStringsArray, ...values: number[]): Compiled<D>;
export function compile(strings: TemplateStringsArray | string, ...values: unknown[]): CompileResult {
  const text = sourceText(strings, typeof strings === 'string' ? [] : values);
  const imports: Record<string, string> = {};
  const opts = typeof strings === 'string' ? recording(importOptions(values[0]), imports) : {};
  const lib = Library.fromSource(text, '<compile>', opts);
  checkDefinitions(lib);
  rememberSource(lib, { text, imports });
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
