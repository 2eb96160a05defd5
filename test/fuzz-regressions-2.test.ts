// Regressions of the fuzzer's findings F12, F13, F16 and F17 (FUZZ_FINDINGS.md, issue 10): each
// program is checked on both compiled paths against the float64 reference, or for the typed error.

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile } from '../src/index.js';
import { LosscError } from '../src/errors.js';
import { Library } from '../src/lower/library.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { bothPaths, reference } from './helpers/paths.js';
import { sig } from './helpers/source.js';

const Y_TRUE = [
  [0, 1, 0, 1],
  [1, 0, 1, 0],
];
// Logits 100 * y_pred from -150 to 150: exp overflows float32 past 88.
const Y_PRED = [
  [1.5, 0.95, -0.3, 0.01],
  [-1.5, 0.9, 0.2, -0.95],
];

/**
 * Both paths against the float64 reference of `exact` (the same function written stably, where
 * float64 itself would round the naive formula: 1 - sigmoid(150) is 0 there too).
 */
function expectStable(source: string, exact = source) {
  const ref = reference(exact, Y_TRUE, Y_PRED);
  const { fused, general } = bothPaths(source, Y_TRUE, Y_PRED);
  for (const [path, got] of [['fused', fused], ['op-by-op', general]] as const) {
    expect(Number.isFinite(got.value), `${path} value ${got.value}`).toBe(true);
    expect(Math.abs(got.value - ref.value), `${path} value ${got.value}, reference ${ref.value}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.value)));
    got.grad.forEach((g, i) => {
      expect(Number.isFinite(g), `${path} gradient ${g}`).toBe(true);
      expect(Math.abs(g - ref.grad[i]!), `${path} gradient ${g}, reference ${ref.grad[i]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref.grad[i]!)));
    });
  }
}

describe('F16: the naive sigmoid exp(z) / (1 + exp(z)) at large logits', () => {
  for (const form of ['exp(z) / (1 + exp(z))', 'exp(z) / (exp(z) + 1)', '1 / (1 + exp(-z))', '1 / (exp(-z) + 1)', '1 / (1 + exp(z))', '1 / (exp(z) + 1)']) {
    it(`${form} is the sigmoid on both paths`, () => {
      expectStable(`loss f(y_true, y_pred) =\n  let z = 100 * y_pred\n  mean(${form}, axis = -1)\n`);
    });
  }
});

describe('F17: log(1 - sigmoid(z)) at large logits', () => {
  const forms: [string, string][] = [
    ['log(1 - sigmoid(z))', '-softplus(z)'],
    ['log(sigmoid(z))', '-softplus(-z)'],
    ['log(sigmoid(-z))', '-softplus(z)'],
    ['log(1 - sigmoid(-z))', '-softplus(-z)'],
  ];
  const program = (body: string) => `loss f(y_true, y_pred) =\n  let z = 100 * y_pred\n  mean(${body}, axis = -1)\n`;
  for (const [form, exact] of forms) {
    it(`${form} is ${exact} on both paths`, () => expectStable(program(form), program(exact)));
  }
  it("the fuzzer's program (seed 10300924)", () => {
    const seed = (body: string) => `loss f(y_true, y_pred) =
  let z = 100 * y_pred
  let d = 100 * (y_pred - y_true)
  sqrt(sum(d^2, axis = -1)) + mean(${body}, axis = -1)
`;
    expectStable(seed('log(1 - sigmoid(z))'), seed('-softplus(z)'));
  });
});

type LossFn = ReturnType<ReturnType<typeof compile>['losses'][string]>;

/** The error lowering `body` as the loss f gives, at [2, 3] inputs. */
function loweringError(body: string): LosscError {
  const source = `loss f(y_true, y_pred) =\n  ${body}\n`;
  try {
    lowerDefinition(Library.fromSource(source), 'f', { signature: sig({ y_true: [2, 3], y_pred: [2, 3] }) });
  } catch (e) {
    if (e instanceof LosscError) return e;
    throw e;
  }
  throw new Error(`no error from ${body}`);
}

describe('F13: a wrong size(...) as the depth of one_hot', () => {
  it('one_hot(y_pred, size()) is size\'s arity error, located at the size call', () => {
    const e = loweringError('one_hot(y_pred, size())');
    expect(e.kind).toBe('arity');
    expect(e.message).toMatch(/`size` needs 1 argument\(s\) \(x\).*`x` is missing/);
    expect([e.span?.line, e.span?.column]).toEqual([2, 19]);
  });
  it('size with an unknown, repeated or non-constant argument gives size\'s own errors', () => {
    expect(loweringError('one_hot(y_pred, size(y_pred, axes = 1))').message).toMatch(/`size` has no argument `axes`/);
    expect(loweringError('one_hot(y_pred, size(y_pred, 1, axis = 1))').message).toMatch(/argument `axis` of `size` is given twice/);
    expect(loweringError('one_hot(y_pred, size(y_pred, 1, 2))').message).toMatch(/`size` takes at most 2 argument/);
    expect(loweringError('one_hot(y_pred, size(y_pred, axis = y_pred))').message).toMatch(/`axis` of `size` must be a compile-time constant/);
    expect(loweringError('one_hot(y_pred, size(y_pred))').message).toMatch(/needs a single axis/);
  });
  it('one_hot itself with too few arguments or a tensor depth', () => {
    expect(loweringError('one_hot(y_pred)').kind).toBe('arity');
    expect(loweringError('one_hot(y_pred, y_true)').message).toMatch(/depth of one_hot must be a compile-time constant/);
  });
});

describe('F12: a typed error thrown under tf.grad leaves no tensor behind', () => {
  const source = `loss f(y_true, y_pred) =
  masked(where(y_pred >= 0.5, .5, min(y_pred)), bool(norm(y_true - 1)))
`;
  const kerasMask = tf.ones([2]);
  const calls: [string, (f: LossFn, t: tf.Tensor, p: tf.Tensor) => tf.Tensor][] = [
    ['no sample weight', (f, t, p) => f(t, p)],
    ['a sample weight', (f, t, p) => f(t, p, 2)],
    ['a Keras mask', (f, t, p) => f(t, p, undefined, { mask: kerasMask })],
  ];
  for (const [what, call] of calls) {
    it(`the mask of shape [2] against values [2, 3], ${what}`, () => {
      const f = compile(source).losses.f!();
      const t = tf.tensor([[0, 1, 2], [1, 1, 1]]);
      const p = tf.tensor([[0.2, 0.7, 0.4], [0.9, 0.1, 0.6]]);
      const before = tf.memory().numTensors;
      for (const under of ['plain', 'tf.grad', 'tf.valueAndGrad']) {
        const run = () => {
          if (under === 'plain') return tf.dispose(call(f, t, p));
          if (under === 'tf.grad') return tf.dispose(tf.grad((q: tf.Tensor) => call(f, t, q))(p));
          const r = tf.valueAndGrad((q: tf.Tensor) => call(f, t, q) as tf.Scalar)(p);
          tf.dispose([r.value, r.grad]);
        };
        expect(run, under).toThrow(LosscError);
        expect(tf.memory().numTensors, under).toBe(before);
      }
      tf.dispose([t, p]);
    });
  }
});
