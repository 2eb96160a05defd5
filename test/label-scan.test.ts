// The class labels a sparse loss reads are y_true cast to float and back (its `int[...]` type,
// then the stdlib's cast): they are scanned in place on the call's data, not evaluated by the
// reference evaluator on every call (15 µs a call for sparse CCE [32] before), with the same
// verdict as the evaluation for every kind of bad label.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkLabels, type LabelCheck } from '../src/compile/labels.js';
import { losses } from '../src/index.js';

const verdict = (check: LabelCheck, xs: tf.Tensor[]) => {
  try {
    checkLabels(check, xs, 'loss');
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('labels cast from y_true', () => {
  // [loss, whether its labels are y_true cast (scanned in place)]; the others check computed labels
  const cases: Array<[string, () => ReturnType<NonNullable<typeof losses.sparse_categorical_crossentropy>>, boolean]> = [
    ['sparse_categorical_crossentropy', () => losses.sparse_categorical_crossentropy!(), true],
    ['sparse_categorical_crossentropy, ignore_class', () => losses.sparse_categorical_crossentropy!({ ignore_class: 0 }), false],
    ['categorical_generalized_cross_entropy', () => losses.categorical_generalized_cross_entropy!(), true],
  ];
  it.each(cases)('%s: scanned in place where they are y_true, with the verdict of evaluating them', (name, make, direct) => {
    const loss = make();
    const yp = tf.fill([4, 3], 1 / 3);
    const entry = loss.compiled.entry([{ shape: [4] }, yp]);
    const check = entry.labels!;
    if (direct) expect(check.checks.map((c) => c.direct), name).toEqual([0]);
    // the same checks with every label evaluated (what a cast chain cost before)
    const evaluated: LabelCheck = { ...check, checks: check.checks.map((c) => ({ ...c, direct: undefined })) };
    const data: Array<[number[], 'float32' | 'int32']> = [
      [[0, 1, 2, 1], 'float32'],
      [[0, 2.7, 1.2, 0.5], 'float32'],
      [[0, -0.5, 1, 2], 'float32'],
      [[0, -1, 1, 2], 'float32'],
      [[0, 3, 1, 2], 'float32'],
      [[0, NaN, 1, 2], 'float32'],
      [[0, 1e9, 1, 2], 'float32'],
      [[0, 1, 2, 16777217], 'int32'],
      [[0, 1, -2147483647, 2], 'int32'],
      [[2, 1, 0, 0], 'int32'],
    ];
    for (const [values, dtype] of data) {
      const yt = tf.tensor1d(values, dtype);
      expect(verdict(check, [yt, yp]), `${name}: ${values.join(', ')} (${dtype})`).toBe(verdict(evaluated, [yt, yp]));
      yt.dispose();
    }
    yp.dispose();
  });
});
