// Type-level checks of the typed API. Every `@ts-expect-error` must meet an error (tsc fails
// on an unused one), so a type that accepts too much fails test/types.test.ts.

import * as tf from '@tensorflow/tfjs';
import { compile, losses, regularizers, type LossFunction, type LosscRegularizer } from '../../src/index.js';

// Stdlib options are typed, in snake_case and camelCase.
losses.huber({ delta: 2 });
losses.binary_crossentropy({ from_logits: true, label_smoothing: 0.1, reduction: 'sum' });
losses.binaryCrossentropy({ fromLogits: true });
losses.sparse_categorical_crossentropy({ ignore_class: null });
regularizers.orthogonal({ factor: 0.1, mode: 'columns' });
// @ts-expect-error delta is a number
losses.huber({ delta: 'x' });
// @ts-expect-error from_logits is a boolean
losses.binary_crossentropy({ from_logits: 1 });
// @ts-expect-error no such option
losses.huber({ dleta: 1 });
// @ts-expect-error no such reduction
losses.mse({ reduction: 'average' });
// @ts-expect-error no such loss
losses.hubre();
// @ts-expect-error no such regularizer option
regularizers.l2({ l3: 1 });

// A string literal source types its result by the names it defines.
const m = compile('loss my_mse(y_true, y_pred) = mean((y_true - y_pred)^2, axis = -1)\nregularizer tiny(w; k = 0.1) = k * sum(w^2)');
const f: LossFunction = m.my_mse();
const g: LossFunction = m.myMse({ reduction: 'none' });
const r: LosscRegularizer = m.tiny({ k: 0.2 });
// @ts-expect-error a regularizer is not a loss
const notLoss: LossFunction = m.tiny();
// @ts-expect-error the source defines no `my_mae`
m.my_mae();
// camelCase twins as `camel` makes them at run time.
const twins = compile('loss a__b_c2_x(y_true, y_pred) = mean(y_pred, axis = -1)');
twins.a_BC2X();
// @ts-expect-error not the twin `camel` makes
twins.aBC2X();

// A tagged template names its definitions in the type argument (or all are losses).
const t = compile<{ smooth: 'regularizer'; focal: 'loss' }>`
  regularizer smooth(w; k = 0.1) = k * sum(w^2)
  loss focal(y_true, y_pred; gamma = 2.0) = mean((1 - y_pred)^gamma * y_true, axis = -1)`;
tf.layers.dense({ units: 2, kernelRegularizer: t.smooth() });
const l: LossFunction = t.focal({ gamma: 1 });
// @ts-expect-error only numbers are interpolated
export const interpolated = compile`loss f(y_true, y_pred) = ${'1'} * mean(y_pred, axis = -1)`;

// The result is an ordinary object.
const kind: string = typeof m;
const isObject: boolean = m instanceof Object;
export { f, g, r, notLoss, l, kind, isObject };
