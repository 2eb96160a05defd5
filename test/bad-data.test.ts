// Bad counts and bad data are typed LosscErrors, never a crash or a silent answer (issue 10,
// items 6-8): huge counts given to builtins (split parts, one_hot depth), `lossc eval` requests
// nested too deep, class labels outside [0, classes) and masks of another shape than the
// per-sample values, through `lossc eval` and the JS API alike (fast path, op-by-op path and
// tf.grad), without leaking tensors; and `lossc eval` keeping nothing of its malformed lines.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Readable } from 'node:stream';
import { answer, runEval, type EvalRequest } from '../src/cli/eval.js';
import { compile, losses, LosscError } from '../src/index.js';
import { sourceText } from '../src/errors.js';
import { errorOf, expectError, expectLocated } from './helpers/source.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The error answer of a request (fails if it answers a value), with no tensor left behind. */
function errorAnswer(req: EvalRequest): { kind: string; message: string } {
  const before = tf.memory().numTensors;
  const out = answer(req);
  expect(tf.memory().numTensors).toBe(before);
  if (!('error' in out)) expect.fail(`expected an error, got the value ${JSON.stringify(out.value)}`);
  return out.error;
}

/** The error `f` throws, and no tensor left behind (inputs made before are the caller's). */
function apiError(f: () => unknown): LosscError {
  const before = tf.memory().numTensors;
  const e = errorOf(f);
  expect(tf.memory().numTensors).toBe(before);
  return e;
}

describe('counts given to builtins', () => {
  const program = (body: string) => `loss f(y_true, y_pred) =\n  ${body}\n`;
  it.each([
    ['split(y_pred, 1e38)', 'let [a, b] = split(y_pred, 1e38)\n  a', 2, 16, 'split into 1e+38 parts'],
    ['split(y_pred, 2^40, axis = 0)', 'let [a, b] = split(y_pred, 2^40, axis = 0)\n  a', 2, 16, 'at most 1024'],
    ['one_hot depth 1e38', 'one_hot(int(y_true), 1e38) * 1', 2, 24, 'one_hot depth 1e+38'],
  ])('%s is a located limit error', (_name, body, line, column, text) => {
    const [yt, yp] = [tf.tensor([[1, 0]]), tf.tensor([[0.2, 0.8]])];
    const e = expectError(() => compile(program(body)).losses.f!()(yt, yp), 'limit', text);
    expectLocated(e, '<compile>', line, column);
    tf.dispose([yt, yp]);
  });

  it('a count within the limits still works', () => {
    const m = compile(program('let [a, b] = split(y_pred, 2)\n  sum(a - b, axis = -1)'));
    const v = m.losses.f!()(tf.tensor([[1, 2, 3, 5]]), tf.tensor([[1, 2, 3, 5]]));
    expect(v.dataSync()[0]).toBeCloseTo(-5, 5);
    v.dispose();
  });
});

describe('lossc eval: arrays nested too deeply', () => {
  it('a 100 000-deep array is a limit error, not an internal one', () => {
    const deep = JSON.parse('['.repeat(100_000) + '0' + ']'.repeat(100_000)) as unknown;
    const err = errorAnswer({ loss: 'mse', y_true: deep, y_pred: deep });
    expect(err.kind).toBe('limit');
    expect(err.message).toContain('y_true is nested more than 32 arrays deep');
  });
});

describe('lossc eval: numbers beyond float32', () => {
  it('a value that float32 cannot hold is a value error, not a silent Infinity', () => {
    const err = errorAnswer({ loss: 'mse', y_true: [1, 1e39], y_pred: [0, 0] });
    expect(err.kind).toBe('value');
    expect(err.message).toContain('y_true[1] is 1e+39, beyond the float32 range');
    expect(answer({ loss: 'mse', y_true: [3e38], y_pred: [3e38] })).toEqual({ id: null, value: 0 });
  });
});

describe('class labels outside [0, classes)', () => {
  const scores = [[0.5, 0.5], [0.9, 0.1]];
  it.each([
    ['7 of 2 classes', [7, 0], {}, 'a label is 7, outside the valid range [0, 2)'],
    ['-1 without ignore_class', [-1, 0], {}, 'a label is -1'],
    ['7 with ignore_class', [7, -1], { ignore_class: -1 }, 'a label is 7'],
  ])('lossc eval: %s is a value error', (_name, y_true, options, text) => {
    const err = errorAnswer({ loss: 'sparse_categorical_crossentropy', options, y_true, y_pred: scores });
    expect(err.kind).toBe('value');
    expect(err.message).toContain(text);
    expect(err.message).toContain('sparse_categorical_crossentropy');
  });

  it('labels in range, and -1 with ignore_class, answer values', () => {
    for (const [y_true, options] of [[[1, 0], {}], [[-1, 1], { ignore_class: -1 }], [[1.9, 0], {}]] as const) {
      const out = answer({ loss: 'sparse_categorical_crossentropy', options, y_true: [...y_true], y_pred: scores });
      expect('value' in out, JSON.stringify(out)).toBe(true);
    }
  });

  it.each([
    ['the fast path', undefined],
    ['the op-by-op path (a sample weight)', 1],
  ])('JS API, %s: a value error, also under tf.grad, with no tensor leaked', (_name, weight) => {
    const scce = losses.sparse_categorical_crossentropy!();
    const yp = tf.tensor([[0.5, 0.5], [0.9, 0.1]]);
    for (const labels of [[7, 0], [-1, 0], [Number.NaN, 1]]) {
      const yt = tf.tensor(labels);
      const e = apiError(() => scce(yt, yp, weight));
      expect(e.kind).toBe('value');
      expect(e.message).toContain(`a label is ${labels[0]}`);
      expect(apiError(() => tf.grad((p: tf.Tensor) => scce(yt, p, weight))(yp)).kind).toBe('value');
      yt.dispose();
    }
    // Labels of a good call afterwards still work (nothing cached the failure).
    const ok = tf.tensor([1, 0]);
    const v = scce(ok, yp, weight);
    expect(Number.isFinite(v.dataSync()[0])).toBe(true);
    tf.dispose([ok, v, yp]);
  });

  it('labels a program computes are checked too', () => {
    const m = compile('loss f(y_true, y_pred) = -sum(one_hot(int(y_true) + 1, size(y_pred, axis = -1)) * log(y_pred), axis = -1)\n');
    const f = m.losses.f!();
    const yp = tf.tensor([[0.5, 0.5]]);
    const bad = tf.tensor([1]);
    expect(apiError(() => f(bad, yp)).message).toContain('a label is 2, outside the valid range [0, 2)');
    const good = tf.tensor([0]);
    const v = f(good, yp);
    expect(v.dataSync()[0]).toBeCloseTo(Math.log(2), 5);
    tf.dispose([yp, bad, good, v]);
  });
});

describe('masks of another shape than the per-sample values', () => {
  const y = [[1, 2], [1, 2]];
  const p = [[0, 0], [0, 0]];
  it.each([
    ['[false] (would broadcast)', [false], '[1]'],
    ['a scalar', true, '[]'],
    ["y_pred's shape", [[true, false], [false, true]], '[2, 2]'],
    ['too many entries', [true, false, true], '[3]'],
  ])('lossc eval: a mask of %s is a shape error', (_name, mask, shown) => {
    const err = errorAnswer({ loss: 'mse', y_true: y, y_pred: p, mask });
    expect(err.kind).toBe('shape');
    expect(err.message).toContain(`the mask has shape ${shown} but the per-sample loss has shape [2]`);
  });

  it('a mask of the values\' shape, or with a trailing unit axis, is used', () => {
    expect(answer({ loss: 'mse', y_true: y, y_pred: p, mask: [true, false] })).toEqual({ id: null, value: 2.5 });
    expect(answer({ loss: 'mse', y_true: [[1, 2], [3, 4]], y_pred: p, mask: [[false], [true]] })).toEqual({ id: null, value: 12.5 });
  });

  it('JS API: the same shape error, no tensor leaked', () => {
    const mse = losses.mse!();
    const [yt, yp, mask] = [tf.tensor(y), tf.tensor(p), tf.tensor([false], [1], 'bool')];
    expect(apiError(() => mse(yt, yp, undefined, { mask })).kind).toBe('shape');
    tf.dispose([yt, yp, mask]);
  });
});

describe('lossc eval keeps nothing of malformed lines', () => {
  it('bad JSON lines get answers, and their text is not retained', async () => {
    const lines = ['{"loss": "mse", "y_true": [1], "y_pred": [2]}', 'not json ' + 'x'.repeat(10_000), '{"unterminated": '];
    const out: string[] = [];
    await runEval(Readable.from(lines.map((l) => l + '\n')), (l) => out.push(l));
    expect(out.map((l) => JSON.parse(l) as unknown)).toEqual([
      { id: null, value: 1 },
      { id: null, error: { kind: 'value', message: expect.stringContaining('line 2 is not valid JSON') } },
      { id: null, error: { kind: 'value', message: expect.stringContaining('line 3 is not valid JSON') } },
    ]);
    for (let n = 1; n <= 3; n++) expect(sourceText(`<stdin line ${n}>`)).toBeUndefined();
  });
});
