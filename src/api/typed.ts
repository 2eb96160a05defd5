// The types of `losses` and `regularizers`: every stdlib definition by name (and camelCase twin),
// with its own options typed (from stdlib-types.ts, generated from the stdlib), so
// `losses.huber({ delta: 'x' })` and `losses.mse({ dleta: 1 })` are type errors.

import type { Reduction } from '../keras/wrapper.js';
import type { LossFunction } from './losses.js';
import type { LosscRegularizer } from './regularizers.js';
import type { CamelCase } from './source-types.js';
import type { StdlibLossOptions, StdlibRegularizerOptions } from './stdlib-types.js';

/** An options object that takes each snake_case name or its camelCase twin. */
export type WithCamel<O> = { [K in keyof O as K | CamelCase<K & string>]?: O[K] };

/** Options every loss takes (Keras's Loss constructor arguments). */
export interface CommonLossOptions {
  reduction?: Reduction | null;
  /** The bare function (Keras's `keras.losses.name(y_true, y_pred)`): per-sample values. */
  call?: 'function' | 'class';
  name?: string;
  dtype?: string;
}

export type StdlibLosses = {
  readonly [K in keyof StdlibLossOptions as K | CamelCase<K & string>]: (options?: WithCamel<StdlibLossOptions[K]> & CommonLossOptions) => LossFunction;
};

export type StdlibRegularizers = {
  readonly [K in keyof StdlibRegularizerOptions as K | CamelCase<K & string>]: (options?: WithCamel<StdlibRegularizerOptions[K]>) => LosscRegularizer;
};
