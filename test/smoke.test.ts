import { describe, it, expect } from 'vitest';
import { derivative } from '../src/autodiff/derivative.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { Library } from '../src/lower/library.js';
import { printBody } from '../src/print/text.js';

describe('smoke', () => {
  it('lowers and differentiates', () => {
    const lib = Library.stdlib();
    for (const n of ['mean_squared_error', 'huber', 'log_cosh', 'mean_absolute_error', 'mean_squared_logarithmic_error', 'mean_absolute_percentage_error']) {
      const l = lowerDefinition(lib, n, { symbolic: true });
      console.log(n, '\n', printBody(l.value).text);
      const d = derivative(n, 'y_pred');
      console.log('grad:\n', d.toString());
    }
  });
});
