// Golden printed derivatives: the formulas a person reads from `derivative(loss, 'y_pred')` (and
// `lossc grad`), exactly. And for every stdlib loss: the printed derivative is valid lossc that,
// pasted into a definition body, evaluates to the same gradient, which agrees with central
// finite differences of the loss itself.

import { describe, expect, it } from 'vitest';
import { Library } from '../src/lower/library.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { displaySignature, type TensorType } from '../src/lower/signature.js';
import { derivative, type Derivative } from '../src/pipeline/derivative.js';
import { showStatic, type Static } from '../src/lower/builtins.js';
import { evaluate } from '../src/eval/reference.js';
import { toLatex } from '../src/print/latex.js';
import type { NdArray } from '../src/eval/ndarray.js';
import type { Dim } from '../src/ir/shape.js';
import { numericGrad, randArray, randLabels, rng, uniform } from './helpers/numeric.js';

const lib = Library.stdlib();
const has = (name: string) => lib.get(name) !== undefined;
/** `it`, or `it.todo` naming what is missing while the stdlib engineer writes it. */
const itIf = (names: string[]) => (names.every(has) ? it : (title: string) => it.todo(`${title} (waiting for ${names.filter((n) => !has(n)).join(', ')} in stdlib/)`));

describe('golden derivatives', () => {
  it('mean squared error: 2 * (y_pred - y_true) / size(y_pred, axis = -1)', () => {
    expect(derivative('mean_squared_error', 'y_pred').toString()).toBe('2 * (y_pred - y_true) / size(y_pred, axis = -1)');
    expect(derivative('mse', 'y_pred').toString()).toBe('2 * (y_pred - y_true) / size(y_pred, axis = -1)');
  });

  it('mean squared error with respect to y_true is the negation', () => {
    expect(derivative('mean_squared_error', 'y_true').toString()).toBe('2 * (y_true - y_pred) / size(y_pred, axis = -1)');
  });

  it('huber: a where between the residual and delta * sign(residual)', () => {
    const d = derivative('huber', 'y_pred');
    expect(d.toString()).toBe(
      ['let e = y_pred - y_true', 'where(abs(e) <= delta, e, delta * sign(e)) / size(y_pred, axis = -1)'].join('\n'),
    );
    // With the option fixed it becomes a number.
    expect(derivative('huber', 'y_pred', { options: { delta: 2 } }).toString()).toBe(
      ['let e = y_pred - y_true', 'where(abs(e) <= 2, e, 2 * sign(e)) / size(y_pred, axis = -1)'].join('\n'),
    );
    expect(derivative('huber_loss', 'y_pred').toString()).toBe(d.toString());
  });

  it('mean absolute error and log-cosh', () => {
    expect(derivative('mean_absolute_error', 'y_pred').toString()).toBe('-(sign(y_true - y_pred) / size(y_pred, axis = -1))');
    expect(derivative('log_cosh', 'y_pred').toString()).toBe('(1 - 2 * sigmoid(2 * (y_true - y_pred))) / size(y_pred, axis = -1)');
  });

  itIf(['kl_divergence'])('kl divergence: -y / p inside the clipping range', () => {
    expect(derivative('kl_divergence', 'y_pred').toString()).toBe(
      'where(y_pred >= epsilon and y_pred <= 1, -(clip(y_true, epsilon, 1) / clip(y_pred, epsilon, 1)), 0)',
    );
  });

  itIf(['triplet_loss'])('triplet loss: the derivative of a split is one concat of the parts\' derivatives', () => {
    const lines = derivative('triplet_loss', 'y_pred').toString().split('\n');
    expect(lines[0]).toBe('let [a, p, n] = split(y_pred, 3, axis = -1)');
    expect(lines[lines.length - 1]).toMatch(/^concat\(\[.*\], axis = -1\)$/);
    expect(lines.join('\n')).not.toContain('broadcast_like');
  });

  itIf(['binary_crossentropy'])('binary cross-entropy from logits: sigmoid(y_pred) - y_true, over the mean\'s size', () => {
    const d = derivative('binary_crossentropy', 'y_pred', { options: { from_logits: true } });
    expect(d.toString()).toBe('(sigmoid(y_pred) - y_true) / size(y_pred, axis = -1)');
    // Label smoothing moves the target: y (1 - ls) + ls / 2, kept whole as the forward computes it.
    const s = derivative('binary_crossentropy', 'y_pred', { options: { from_logits: true, label_smoothing: 0.1 } });
    expect(s.toString()).toBe('(sigmoid(y_pred) - (0.9 * y_true + 0.05)) / size(y_pred, axis = -1)');
  });

  itIf(['categorical_crossentropy'])('categorical cross-entropy from logits: softmax(y_pred) times the label sum, minus y_true', () => {
    const d = derivative('categorical_crossentropy', 'y_pred', { options: { from_logits: true } });
    expect(d.toString()).toBe(
      'sum(y_true, axis = -1, keepdims = true) * exp(y_pred - logsumexp(y_pred, axis = -1, keepdims = true)) - y_true',
    );
  });

  itIf(['sparse_categorical_crossentropy'])('sparse categorical cross-entropy from logits: the same with one-hot labels', () => {
    const text = derivative('sparse_categorical_crossentropy', 'y_pred', { options: { from_logits: true } }).toString();
    expect(text).toContain('one_hot(');
    expect(text).toContain('exp(y_pred - logsumexp(y_pred, axis = -1, keepdims = true))');
    expect(text).not.toMatch(/log\((sigmoid|exp)\(/);
  });

  itIf(['binary_focal_crossentropy'])('binary focal cross-entropy keeps gamma symbolic and differentiates (1 - p_t)^gamma', () => {
    const text = derivative('binary_focal_crossentropy', 'y_pred').toString();
    expect(text).toContain('^gamma');
    expect(text).toContain('^(gamma - 1)');
    expect(text).toContain('gamma');
    expect(text).toMatch(/where\(y_pred >= epsilon and y_pred <= 1 - epsilon/);
  });

  itIf(['focal_loss'])('focal loss keeps alpha and gamma symbolic', () => {
    const text = derivative('focal_loss', 'y_pred').toString();
    expect(text).toContain('gamma - 1');
    expect(text).toContain('alpha');
  });
});

describe('printed as written', () => {
  const pinball = Library.fromSource(
    'loss pinball(y_true, y_pred; tau = 0.5) =\n  let e = y_true - y_pred\n  mean(max(tau * e, (tau - 1) * e), axis = -1)',
    'pinball.loss',
  );

  it('1 - epsilon prints as written in text and LaTeX (its value, 0.9999999, is what is computed)', () => {
    const d = derivative('focal_loss', 'y_pred');
    expect(d.toString()).toContain('clip(y_pred, epsilon, 1 - epsilon)');
    expect(d.toString()).not.toContain('0.9999999');
    expect(d.toLatex()).toContain('\\operatorname{clip}(y_{\\mathrm{pred}}, \\epsilon, 1 - \\epsilon)');
    expect(d.toLatex()).not.toContain('0.9999999');
  });

  it('an option given as 0.9 prints as 0.9 in what is folded from it, not as float32 digits', () => {
    const d = derivative('pinball', 'y_pred', { library: pinball, options: { tau: 0.9 } });
    expect(d.toString()).toBe(
      [
        'let t1 = 0.9 * (y_true - y_pred)',
        'let t2 = (1 - 0.9) * (y_pred - y_true)',
        'where(t1 < t2, (1 - 0.9) / size(y_pred, axis = -1), 0) - where(t1 >= t2, 0.9 / size(y_pred, axis = -1), 0)',
      ].join('\n'),
    );
    expect(d.toString()).not.toMatch(/0\.0999|0\.1000/);
    expect(d.toLatex()).toContain('1 - 0.9');
  });

  it('LaTeX labels a derivative\'s result \\partial L / \\partial input, and sets a truth value in brackets', () => {
    const d = derivative('huber', 'y_pred');
    const last = d.toLatex().split('\n').at(-2)!;
    expect(last.startsWith('\\frac{\\partial \\mathcal{L}}{\\partial y_{\\mathrm{pred}}} &= ')).toBe(true);
    expect(derivative('mean_squared_error', 'y_pred').toLatex()).toMatch(/^\\frac\{\\partial \\mathcal\{L\}\}\{\\partial y_\{\\mathrm\{pred\}\}\} = /);
    expect(derivative('mean_squared_error', ['y_true', 'y_pred']).toLatex()).toContain(
      '\\left(\\frac{\\partial \\mathcal{L}}{\\partial y_{\\mathrm{true}}}, \\frac{\\partial \\mathcal{L}}{\\partial y_{\\mathrm{pred}}}\\right)',
    );
    const lib = Library.fromSource('loss pick(y_true, y_pred) =\n  let t = y_true == 1\n  mean(where(t, y_pred, 0) + float(t), axis = -1)', 'pick.loss');
    const pick = lowerDefinition(lib, 'pick', { symbolic: true });
    const tex = toLatex(pick.value, { hints: pick.hints });
    expect(tex).toContain('t &= \\left[y_{\\mathrm{true}} = 1\\right] \\\\');
  });
});

// ---- every stdlib loss: printed derivative == IR derivative == finite differences -------------

/** Concrete shapes for a definition's parameters: N = 3, every other symbol 12 (divisible by 2, 3, 4). */
function concreteSignature(name: string): Record<string, TensorType> {
  const sig = displaySignature(lib.get(name)!.def);
  const out: Record<string, TensorType> = {};
  for (const [k, t] of Object.entries(sig)) {
    out[k] = { dtype: t.dtype, shape: t.shape.map((d: Dim) => (typeof d === 'number' ? d : d === 'N' ? 3 : 12)) };
  }
  return out;
}

/** Inputs in the losses' usual domain: probabilities in (0.05, 0.95), labels 0..2. */
function inputsFor(signature: Record<string, TensorType>, seed: number): Record<string, NdArray> {
  const r = rng(seed);
  const out: Record<string, NdArray> = {};
  for (const [k, t] of Object.entries(signature)) {
    const shape = t.shape as number[];
    out[k] = t.dtype === 'int32' ? randLabels(shape, 3, r) : randArray(shape, r, uniform(0.05, 0.95));
  }
  return out;
}

/** The printed derivative as the body of a definition with the loss's inputs and options. */
function pasted(name: string, d: Derivative): string {
  const def = lib.get(name)!.def;
  const params = def.params.map((p) => p.name).join(', ');
  const options = Object.entries(d.lowered.options)
    .map(([k, v]) => `${k} = ${showStatic(v as Static)}`)
    .join(', ');
  const body = d.toString().split('\n').map((l) => `  ${l}`);
  return [`loss pasted_derivative(${params}${options ? `; ${options}` : ''}) =`, ...body].join('\n');
}

const sameOrBothNaN = (a: number, b: number, rtol: number) =>
  (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= rtol * Math.max(1, Math.abs(a));

/** Losses whose derivative is defined by clipping or a max: only checked where smooth (below). */
const losses = lib
  .names()
  .filter((n) => lib.get(n)!.def.kind === 'loss')
  .sort();

describe('every stdlib loss', () => {
  it('there are losses to check', () => {
    expect(losses.length).toBeGreaterThan(10);
  });

  for (const name of losses) {
    const params = lib.get(name)!.def.params;
    const wrt = params.find((p) => p.name === 'y_pred') ? 'y_pred' : params[params.length - 1]!.name;
    it(`${name}: the printed derivative is valid lossc with the same value, and matches finite differences`, () => {
      const signature = concreteSignature(name);
      const d = derivative(name, wrt, { signature });
      const text = pasted(name, d);
      const back = lowerDefinition(Library.fromSource(text, `${name}.grad.loss`), 'pasted_derivative', { signature });
      const inputs = inputsFor(signature, name.length * 7919);
      const [want, got] = evaluate([d.grads[0]!, back.value], inputs);
      expect(got!.shape, text).toEqual(want!.shape);
      want!.data.forEach((w, i) => {
        if (!sameOrBothNaN(w, got!.data[i]!, 1e-9)) expect.fail(`${name}: printed derivative gives ${got!.data[i]} where the IR gives ${w}\n${text}`);
      });
      // The derivative agrees with finite differences of the loss (values are away from kinks).
      const loss = lowerDefinition(lib, name, { signature });
      const fd = numericGrad(loss.value, wrt, inputs, 1e-6);
      want!.data.forEach((w, i) => {
        if (!sameOrBothNaN(w, fd[i]!, 1e-4)) expect.fail(`${name}: d/d${wrt}[${i}] is ${w}, finite differences say ${fd[i]}\n${d.toString()}`);
      });
    });
  }
});
