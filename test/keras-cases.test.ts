// Every reference case from Keras's own test suites (test/fixtures/keras_cases.json), run through
// `lossc eval`'s request handler on the cpu backend, within each case's own tolerance and
// again against the float32 reference value with tight tolerances.
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { answer } from '../src/cli/eval.js';
import { kerasCases, mismatch } from './helpers/arrays.js';


const cases = kerasCases();



describe('Keras reference cases', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it('the case file is there', () => {
    expect(cases.length).toBeGreaterThan(200);
  });
  for (const c of cases) {
    it(c.id, () => {
      const before = tf.memory().numTensors;
      const out = answer({ id: c.id, loss: c.loss, options: c.options, reduction: c.reduction, call: c.call, y_true: c.y_true, y_pred: c.y_pred, sample_weight: c.sample_weight, mask: c.mask });
      expect(tf.memory().numTensors).toBe(before);
      if ('error' in out) throw new Error(`${out.error.kind}: ${out.error.message}`);
      const problem = mismatch(out.value, c.expected, c.rtol, c.atol);
      expect(problem, `against expected ${JSON.stringify(c.expected)}`).toBeUndefined();
      const tight = mismatch(out.value, c.expected_ref, 1e-5, 1e-6);
      expect(tight, `against expected_ref ${JSON.stringify(c.expected_ref)}`).toBeUndefined();
    });
  }
});
