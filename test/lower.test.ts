// Lowering (src/lower): syntax tree → IR. Names resolved, defs inlined, options substituted
// (symbolic for printing, constants for compiling), compile-time `if` folded, lets, destructuring
// of split, keyword arguments; and every error a user can cause there, with its place.

import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import { Library } from '../src/lower/library.js';
import '../src/node/files.js';
import { evalStatic, lowerDefinition } from '../src/lower/lower.js';
import { parseExpression } from '../grammar/index.js';
import { printBody, printExpr } from '../src/print/text.js';
import { errorOf, expectError, expectLocated, lowerSource, sig } from './helpers/source.js';

const yt = b.input('y_true', ['N', 'D']);
const yp = b.input('y_pred', ['N', 'D']);
const c = b.constant;

/** The value of `loss t(y_true, y_pred) = <body>`. */
const value = (body: string, opts = {}) => lowerSource(`loss t(y_true, y_pred${body.startsWith(';') ? '' : ''}) =\n  ${body}`, 't', opts).value;
/** The value of a whole program's definition `t`. */
const prog = (text: string, opts = {}) => lowerSource(text, 't', opts).value;

describe('names', () => {
  it('parameters are the inputs, with their annotated shapes and dtypes', () => {
    const l = lowerSource('loss t(y_true: int[N], y_pred: [N, C]) = -sum(one_hot(y_true, size(y_pred, axis = -1)) * y_pred, axis = -1)', 't');
    expect(l.inputs.map((n) => [n.attrs.name, n.shape, n.dtype])).toEqual([
      ['y_true', ['N'], 'int32'],
      ['y_pred', ['N', 'C'], 'float32'],
    ]);
    expect(l.value.shape).toEqual(['N']);
  });

  it('unannotated parameters are [N, D] floats; `...` is one batch axis N', () => {
    expect(lowerSource('loss t(a, b: [..., 3]) = a', 't').inputs.map((n) => n.shape)).toEqual([['N', 'D'], ['N', 3]]);
  });

  it('named constants: epsilon, pi, inf', () => {
    expect(value('y_pred + epsilon')).toBe(b.add(yp, c(1e-7)));
    expect(value('y_pred * pi')).toBe(b.mul(yp, c(Math.PI)));
    expect(value('min(y_pred, inf)')).toBe(b.minimum(yp, c(Infinity)));
  });

  it('`-inf` written together is the constant -inf; `-(inf)` is a negation, folded, that prints as written', () => {
    expect(value('max(y_pred, -inf)')).toBe(b.maximum(yp, c(-Infinity)));
    expect(value('max(y_pred, -(inf))')).toBe(b.maximum(yp, b.shownConstant(-Infinity, b.neg(c(Infinity)))));
    // The same in an option default and in a compile-time value.
    expect(prog('loss t(y_true, y_pred; lo = -inf) = max(y_pred, lo)', { symbolic: false })).toBe(b.maximum(yp, c(-Infinity)));
    expect(evalStatic(Library.stdlib(), parseExpression('-inf'))).toBe(-Infinity);
    // A user's own `inf` is not folded.
    expect(value('let inf = y_true\n  y_pred - -inf')).toBe(b.sub(yp, b.neg(yt)));
  });

  it('a program\'s own definition shadows the prelude\'s', () => {
    expect(prog('def relu(x) = x * 2\nloss t(y_true, y_pred) = relu(y_pred)')).toBe(b.mul(yp, c(2)));
    expect(value('relu(y_pred)')).toBe(b.maximum(yp, c(0)));
  });

  it('a program\'s own helper does not change the stdlib definitions that call one of that name', () => {
    const v = prog('def relu(x) = x * 100\nloss t(y_true, y_pred) = hinge(y_true, y_pred) - relu(y_pred)');
    expect(v).toBe(b.sub(lowerDefinition(Library.stdlib(), 'hinge', { symbolic: true }).value, b.mul(yp, c(100))));
  });

  it('identical sub-expressions are one node', () => {
    const v = value('(y_pred - y_true)^2 + (y_pred - y_true)');
    expect(v.args[0]!.args[0]).toBe(v.args[1]);
  });
});

describe('definitions are inlined', () => {
  it('a def becomes its body with the arguments in place', () => {
    expect(prog('def sq(x) = x * x\nloss t(y_true, y_pred) = sq(y_pred - y_true)')).toBe(b.mul(b.sub(yp, yt), b.sub(yp, yt)));
  });

  it('a loss may call another loss, and an alias is the same node', () => {
    expect(lowerDefinition(Library.stdlib(), 'mse', { symbolic: true }).value).toBe(
      lowerDefinition(Library.stdlib(), 'mean_squared_error', { symbolic: true }).value,
    );
  });

  it('defs call defs, and inlining twice with the same arguments gives one node', () => {
    const v = prog('def f(x) = exp(x)\ndef g(x) = f(x) + f(x)\nloss t(y_true, y_pred) = g(y_pred) * g(y_pred)');
    const e = b.exp(yp);
    expect(v).toBe(b.mul(b.add(e, e), b.add(e, e)));
  });

  it('a parameter annotated int converts its argument', () => {
    const v = prog('def f(l: int) = l\nloss t(y_true, y_pred) = float(f(y_true))');
    expect(v).toBe(b.cast(b.cast(yt, 'int32'), 'float32'));
  });

  it('parameters can be passed by name', () => {
    expect(value('huber(y_pred = y_pred, y_true = y_true)')).toBe(value('huber(y_true, y_pred)'));
    expect(value('huber(y_true, y_pred = y_pred)')).toBe(value('huber(y_true, y_pred)'));
  });
});

describe('options', () => {
  const src = 'loss t(y_true, y_pred; gamma = 2.0, flag = false) = if flag then y_pred else y_pred^gamma';

  it('stay symbolic (named params carrying their value) when printing', () => {
    const v = prog(src);
    expect(v).toBe(b.pow(yp, b.param('gamma', 2)));
    expect(printExpr(v)).toBe('y_pred^gamma');
  });

  it('become constants when compiling', () => {
    expect(prog(src, { symbolic: false })).toBe(b.pow(yp, c(2)));
  });

  it('given a value, become that constant even when printing', () => {
    expect(prog(src, { options: { gamma: 3 } })).toBe(b.pow(yp, c(3)));
    expect(lowerSource(src, 't', { options: { gamma: 3 } }).options).toEqual({ gamma: 3, flag: false });
  });

  it('number options accept lists (per-class values) as literal tensors', () => {
    expect(prog('loss t(y_true, y_pred; w = 1.0) = y_pred * w', { symbolic: false, options: { w: [1, 2] } })).toBe(
      b.mul(yp, b.tensorConst([1, 2], [2])),
    );
  });

  it('pass into inlined definitions by keyword, symbolic or fixed', () => {
    expect(printExpr(prog('loss t(y_true, y_pred; a = 0.5) = softmax(y_pred * a, axis = 0)'))).toBe(
      'exp(y_pred * a - logsumexp(y_pred * a, axis = 0, keepdims = true))',
    );
    const d = lowerSource('loss t(y_true, y_pred; d = 2.0) = huber(y_true, y_pred, delta = d)', 't');
    expect(printBody(d.value, { hints: d.hints }).text).toContain('t1 <= d');
    const fixed = prog('loss t(y_true, y_pred; d = 2.0) = huber(y_true, y_pred, delta = d)', { symbolic: false });
    expect(fixed).toBe(lowerDefinition(Library.stdlib(), 'huber', { options: { delta: 2 } }).value);
  });

  it('a def\'s own defaults are constants (only the top level\'s options are symbolic)', () => {
    expect(value('huber(y_true, y_pred)')).toBe(lowerDefinition(Library.stdlib(), 'huber', { options: { delta: 1 } }).value);
  });

  it('every option\'s value is reported, defaults filled in', () => {
    expect(lowerDefinition(Library.stdlib(), 'huber', { symbolic: true }).options).toEqual({ delta: 1 });
  });
});

describe('compile-time if', () => {
  const src = 'loss t(y_true, y_pred; from_logits = false, gamma = 2.0) =\n  if from_logits then sigmoid(y_pred) else (if gamma > 1 then y_pred^2 else y_pred)';
  it('is folded on a boolean option', () => {
    expect(prog(src)).toBe(b.pow(yp, c(2)));
    expect(prog(src, { options: { from_logits: true } })).toBe(b.sigmoid(yp));
    expect(prog(src, { options: { gamma: 0.5 } })).toBe(yp);
  });

  it('is folded inside lets, arguments and inlined definitions', () => {
    const t = 'loss t(y_true, y_pred; fl = false) =\n  let p = if fl then sigmoid(y_pred) else y_pred\n  mean(p, axis = -1)';
    expect(prog(t, { options: { fl: true } })).toBe(b.reduce('mean', b.sigmoid(yp), [-1]));
    expect(value('binary_crossentropy(y_true, y_pred, from_logits = true)')).toBe(
      lowerDefinition(Library.stdlib(), 'binary_crossentropy', { options: { from_logits: true } }).value,
    );
  });

  it('on a tensor, or a non-boolean, is an error pointing at the condition', () => {
    const e = expectError(() => value('if y_pred > 0 then 1 else 2'), 'type');
    expect(e.span?.column).toBe(6);
    expectError(() => prog('loss t(y_true, y_pred; g = 2) = if g then y_pred else y_true'), 'type', 'compile-time boolean', 'where(cond, a, b)');
  });
});

describe('lets', () => {
  it('name a sub-expression, recorded as a hint for printing', () => {
    const l = lowerSource('loss t(y_true, y_pred) =\n  let e = y_pred - y_true\n  e * e', 't');
    expect(l.value).toBe(b.mul(b.sub(yp, yt), b.sub(yp, yt)));
    expect(l.hints.get(l.value.args[0]!)).toBe('e');
  });

  it('can be compile-time values used as axes or options', () => {
    expect(value('let ax = -1\n  sum(y_pred, axis = ax)')).toBe(b.reduce('sum', yp, [1]));
    expect(value('let mode = "unused"\n  y_pred')).toBe(yp);
  });

  it('see the names bound before them: a let may shadow a parameter or an earlier let', () => {
    expect(value('let y_pred = y_pred * 2\n  y_pred + 1')).toBe(b.add(b.mul(yp, c(2)), c(1)));
    expect(value('let a = y_pred\n  let a = a + a\n  a')).toBe(b.add(yp, yp));
  });

  it('do not see themselves or later lets', () => {
    expectError(() => value('let a = a + 1\n  a'), 'name', 'unknown name `a`');
    expectError(() => value('let a = b + 1\n  let b = y_pred\n  a'), 'name', 'unknown name `b`');
  });

  it('are checked even when unused', () => {
    const e = expectError(() => value('let k = sum(y_pred, axis = 7)\n  y_pred'), 'shape', 'axis 7 is out of range');
    expect(e.span?.line).toBe(2);
    expectError(() => value('let k = nope\n  y_pred'), 'name', 'unknown name `nope`');
  });

  it('destructure a split into parts, `_` for parts not wanted', () => {
    const s = sig({ y_true: [2, 6], y_pred: [2, 6] });
    const l = lowerSource('loss t(y_true, y_pred) =\n  let [a, _, c] = split(y_pred, 3, axis = 1)\n  a * c', 't', { signature: s });
    const x = l.inputs[1]!;
    const part = (index: number) => Node.make('part', [x], { axis: 1, parts: 3, index });
    expect(l.value).toBe(b.mul(part(0), part(2)));
    expect(l.value.shape).toEqual([2, 2]);
    expect(l.hints.get(part(0))).toBe('a');
    // split's axis defaults to -1, and negative axes are normalised.
    expect(lowerSource('loss t(y_true, y_pred) =\n  let [a, b] = split(y_pred, 2)\n  a', 't', { signature: s }).value).toBe(
      Node.make('part', [x], { axis: 1, parts: 2, index: 0 }),
    );
  });

  it('destructure a list of tensors', () => {
    expect(value('let [a, b] = [y_true, y_pred]\n  a - b')).toBe(b.sub(yt, yp));
  });

  it('destructuring errors: wrong count, not a list, split not destructured', () => {
    expectError(() => value('let [a, b, c] = split(y_pred, 2)\n  a'), 'arity', 'gives 2 value(s) but 3 name(s)');
    expectError(() => value('let [a, b] = y_pred\n  a'), 'type', 'only a list or a call');
    expectError(() => value('split(y_pred, 2)'), 'type', 'destructure it with let [a, b, ...]');
  });
});

describe('keyword arguments of built-ins', () => {
  it('positional and by name mean the same', () => {
    expect(value('sum(y_pred, -1)')).toBe(value('sum(y_pred, axis = -1)'));
    expect(value('sum(x = y_pred, axis = -1, keepdims = true)')).toBe(b.reduce('sum', yp, [1], true));
    expect(value('clip(y_pred, hi = 1, lo = 0)')).toBe(b.clip(yp, c(0), c(1)));
  });

  it('max and min reduce with an axis and compare elementwise with two arguments', () => {
    expect(value('max(y_pred, axis = 0)')).toBe(b.reduce('max', yp, [0]));
    expect(value('max(y_pred, y_true)')).toBe(b.maximum(yp, yt));
    expectError(() => value('max(y_pred, y_true, axis = 0)'), 'arity', 'takes no axis');
  });

  it('errors: unknown argument with a suggestion, given twice, missing, too many', () => {
    expectError(() => value('mean(y_pred, axs = -1)'), 'arity', 'no argument `axs`', 'did you mean `axis`');
    expectError(() => value('sum(y_pred, 1, axis = 0)'), 'arity', '`axis` of `sum` is given twice');
    expectError(() => value('clip(y_pred, 0)'), 'arity', '`hi` is missing');
    expectError(() => value('exp(y_true, y_pred)'), 'arity', 'at most 1 argument');
    expectError(() => value('sum(y_pred, axis = y_true)'), 'type', 'must be a compile-time constant');
    expectError(() => value('sum(y_pred, axis = 0.5)'), 'option', 'axis must be an integer');
  });
});

describe('other forms', () => {
  it('one_hot with a number or size(x, axis = k) as depth', () => {
    const l = lowerSource('loss t(y_true: int[N], y_pred: [N, C]) = one_hot(y_true, size(y_pred, axis = -1)) * y_pred', 't');
    const [lab, pred] = l.inputs as [Node, Node];
    expect(l.value).toBe(b.mul(Node.make('one_hot', [lab, pred], { axis: 1 }), pred));
    const l5 = lowerSource('loss t(y_true: int[N], y_pred: [N, 5]) = one_hot(y_true, 5) * y_pred', 't');
    expect(l5.value.args[0]).toBe(Node.make('one_hot', [l5.inputs[0]!], { depth: 5 }));
    expectError(() => lowerSource('loss t(y_true: int[N], y_pred) = one_hot(y_true, 0)', 't'), 'type', 'positive integer');
  });

  it('masked(values, mask) gives a mask at the top level and just the values inside', () => {
    const l = lowerSource('loss t(y_true, y_pred) = masked(mean(y_pred, axis = -1), mean(y_true, axis = -1) > 0)', 't');
    expect(l.value).toBe(b.reduce('mean', yp, [1]));
    expect(l.mask).toBe(b.compare('gt', b.reduce('mean', yt, [1]), c(0)));
    expectError(() => value('masked(y_pred, y_true)'), 'type', 'must be a comparison');
  });

  it('one_hot, masked and require are builtins like the others: keywords, arity, located errors', () => {
    const errorAt = (text: string) => errorOf(() => lowerDefinition(Library.fromSource(text, 'user.loss'), 't', { symbolic: true }));
    const l = lowerSource('loss t(y_true: int[N], y_pred: [N, 5]) = one_hot(depth = 5, labels = y_true) * y_pred', 't');
    expect(l.value.args[0]).toBe(Node.make('one_hot', [l.inputs[0]!], { depth: 5 }));
    // Float labels truncate to ints.
    expect(value('one_hot(sum(y_pred, axis = 1), 3)')).toBe(Node.make('one_hot', [b.cast(b.reduce('sum', yp, [1]), 'int32')], { depth: 3 }));
    let e = errorAt('loss t(y_true, y_pred) = one_hot(y_true, 2.5)');
    expect(e.message).toContain('the depth of one_hot must be a positive integer or size(x, axis = k), got 2.5');
    expectLocated(e, 'user.loss', 1, 42, '2.5');
    e = errorAt('loss t(y_true, y_pred) = one_hot(y_true, size(y_pred))');
    expect(e.message).toContain('one_hot depth size(x, axis = k) needs a single axis');
    expectLocated(e, 'user.loss', 1, 42, 'size');
    expectError(() => value('one_hot(y_true, 3, axis = 1)'), 'arity', '`one_hot` has no argument `axis`', '(it takes labels, depth)');
    expectError(() => value('masked(y_pred)'), 'arity', '`masked` needs 2 argument(s) (values, mask), got 1: `mask` is missing');
    e = errorAt('loss t(y_true, y_pred; k = 1) = require(k, "k", y_pred)');
    expect(e.message).toContain('the condition of require(...) must be true or false');
    expectLocated(e, 'user.loss', 1, 41, 'k');
    e = errorAt('loss t(y_true, y_pred; k = 1) = require(k > 1, "k must be > 1", y_pred)');
    expect(e.message).toContain('`t`: k must be > 1');
    expectLocated(e, 'user.loss', 1, 33, 'require');
    expectError(() => value('require(true, "m", y_pred, y_true)'), 'arity', '`require` takes at most 3 argument(s) (condition, message, value), got 4');
    // The condition guards the value: an unmet condition is reported before the value's errors.
    expectError(() => lowerSource('loss t(y_true, y_pred; k = 0) = require(k > 0, "k must be > 0", part(y_pred, 0, k))', 't'), 'option', 'k must be > 0');
  });

  it('the mask of masked is checked inside an expression too (where the values are what it gives)', () => {
    expect(value('2 * masked(y_pred, y_true > 0)')).toBe(b.mul(c(2), yp));
    expectError(() => value('2 * masked(y_pred, y_true)'), 'type', 'the mask of masked(values, mask) must be a comparison (bool)');
  });

  it('a definition named masked is called like any definition, at the result too', () => {
    // It used to be taken for the builtin at a body's result (only there), refusing a float "mask".
    expect(prog('def masked(a, b) = a * b\nloss t(y_true, y_pred) = masked(y_pred, y_true)')).toBe(b.mul(yp, yt));
    expect(lowerSource('def masked(a, b) = a * b\nloss t(y_true, y_pred) = masked(y_pred, y_true)', 't').mask).toBeUndefined();
  });

  it('a name or callee named after an Object method is unknown, not Object.prototype\'s', () => {
    expectError(() => value('toString(y_pred)'), 'name', 'unknown function `toString`');
    expectError(() => value('y_pred + constructor'), 'name', 'unknown name `constructor`');
  });

  it('indices takes its axis normalised, so either spelling is one node', () => {
    expect(value('float(indices(y_pred, axis = -1))')).toBe(value('float(indices(y_pred, axis = 1))'));
    expect(value('float(indices(y_pred, axis = -1))').args[0]!.attrs.axis).toBe(1);
    expectError(() => value('indices(y_pred, axis = 2)'), 'shape', 'out of range');
  });

  it('bools and ints used as numbers become floats', () => {
    expect(value('y_pred * (y_true > 0)')).toBe(b.mul(yp, b.cast(b.compare('gt', yt, c(0)), 'float32')));
    expect(value('where(y_true > 0, 1, y_pred)')).toBe(b.where(b.compare('gt', yt, c(0)), c(1), yp));
  });

  it('a loss must give floats; a def may give anything', () => {
    const e = expectError(() => value('y_pred < 1'), 'type', 'a loss must give float values, but `t` gives bool', 'float(...)');
    expect(e.span?.line).toBe(2);
    expectError(() => value('int(y_pred)'), 'type', 'gives int32');
    expect(value('float(y_pred < 1)').dtype).toBe('float32');
    expect(lowerSource('def t(x) = x < 1', 't').value.dtype).toBe('bool');
  });

  it('a tensor literal', () => {
    expect(value('y_pred * [1, 2]')).toBe(b.mul(yp, b.tensorConst([1, 2], [2])));
    expectError(() => value('y_pred * [[1, 2], [3]]'), 'shape', 'rectangular');
  });
});

// ---- errors with their place --------------------------------------------------------------------

describe('errors point at their place (file:line:col, the line, a caret)', () => {
  const at = (text: string) => errorOf(() => lowerSource(text, 't'));
  const file = (text: string, f = 'user.loss') => errorOf(() => lowerDefinition(Library.fromSource(text, f), 't', { symbolic: true }));

  it('unknown name, with "did you mean"', () => {
    const e = file('loss t(y_true, y_pred) =\n  mean(y_pre, axis = -1)');
    expect(e.kind).toBe('name');
    expect(e.message).toContain('unknown name `y_pre` (did you mean `y_pred`?)');
    expectLocated(e, 'user.loss', 2, 8, 'y_pre');
  });

  it('unknown name far from anything known: no suggestion', () => {
    const e = at('loss t(y_true, y_pred) = y_pred * zzzzzz');
    expect(e.message).toContain('unknown name `zzzzzz`');
    expect(e.message).not.toContain('did you mean');
  });

  it('unknown function, with "did you mean" (built-ins and stdlib definitions)', () => {
    const e = file('loss t(y_true, y_pred) = meen(y_pred)');
    expect(e.message).toContain('unknown function `meen` (did you mean `mean`?)');
    expectLocated(e, 'user.loss', 1, 26, 'meen');
    expect(at('loss t(y_true, y_pred) = hubber(y_true, y_pred)').message).toContain('did you mean `huber`?');
    expect(at('loss t(y_true, y_pred) = sofmax(y_pred)').message).toContain('did you mean `softmax`?');
  });

  it('a function used as a value', () => {
    const e = file('loss t(y_true, y_pred) = relu + 1');
    expect(e.message).toContain('`relu` is a function; call it as relu(...)');
    expectLocated(e, 'user.loss', 1, 26, 'relu');
  });

  it('arity: a def called with too many or too few tensors', () => {
    let e = file('def f(a) = a\nloss t(y_true, y_pred) = f(y_true, y_pred)');
    expect(e.kind).toBe('arity');
    expect(e.message).toContain('`f` takes 1 tensor argument(s) (a), got 2');
    expectLocated(e, 'user.loss', 2, 26, 'f');
    e = file('loss t(y_true, y_pred) = huber(y_true)');
    expect(e.message).toContain('`y_pred` is missing');
    e = file('loss t(y_true, y_pred) = huber(y_true, y_pred, 1.0)');
    expect(e.message).toContain('options are given by name (delta = ...)');
  });

  it('one binding for definitions and builtins: given twice and missing, located', () => {
    // A keyword naming an argument already given by position: at the keyword, for either callee.
    let e = file('def f(a, b) = a * b\nloss t(y_true, y_pred) = f(y_true, a = y_pred) + f(y_true, y_pred)');
    expect(e.message).toContain('argument `a` of `f` is given twice');
    expectLocated(e, 'user.loss', 2, 36, 'a');
    e = file('loss t(y_true, y_pred) =\n  where(y_true > 0, y_pred, cond = y_pred)');
    expect(e.message).toContain('argument `cond` of `where` is given twice');
    expectLocated(e, 'user.loss', 2, 29, 'cond');
    // Missing: at the call, naming how many were given (keywords count).
    e = file('def f(a, b) = a * b\nloss t(y_true, y_pred) = f(b = y_pred)');
    expect(e.message).toContain('`f` needs 2 tensor argument(s) (a, b), got 1: `a` is missing');
    expectLocated(e, 'user.loss', 2, 26, 'f');
    e = file('loss t(y_true, y_pred) = clip(y_pred, hi = 1)');
    expect(e.message).toContain('`clip` needs 3 argument(s) (x, lo, hi), got 2: `lo` is missing');
    expectLocated(e, 'user.loss', 1, 26, 'clip');
    // Tensor parameters by keyword work for definitions as for builtins.
    expect(prog('def f(a, b) = a - b\nloss t(y_true, y_pred) = f(b = y_true, a = y_pred)')).toBe(b.sub(yp, yt));
  });

  it('arity: a built-in with too many arguments', () => {
    const e = file('loss t(y_true, y_pred) =\n  exp(y_true, y_pred)');
    expect(e.kind).toBe('arity');
    expectLocated(e, 'user.loss', 2, 3, 'exp');
  });

  it('option of the wrong type, at a call', () => {
    let e = file('loss t(y_true, y_pred) = huber(y_true, y_pred, delta = true)');
    expect(e.kind).toBe('option');
    expect(e.message).toContain('option `delta` of `huber` takes a number, got true');
    expectLocated(e, 'user.loss', 1, 56, 'true');
    e = file('loss t(y_true, y_pred) = softmax(y_pred, axis = "x")');
    expect(e.message).toContain('takes a number, got "x"');
    e = file('loss t(y_true, y_pred) = binary_crossentropy(y_true, y_pred, from_logits = 1)');
    expect(e.message).toContain('takes a boolean, got 1');
  });

  it('unknown option at a call, with a suggestion', () => {
    const e = file('loss t(y_true, y_pred) = softmax(y_pred, axs = 0)');
    expect(e.kind).toBe('option');
    expect(e.message).toContain('`softmax` has no option `axs` (did you mean `axis`?)');
    expectLocated(e, 'user.loss', 1, 42, 'axs');
  });

  it('option of the wrong type, or unknown, given to lowerDefinition', () => {
    expectError(() => lowerDefinition(Library.stdlib(), 'huber', { options: { delta: 'big' } }), 'option', 'takes a number', '"big"');
    expectError(() => lowerDefinition(Library.stdlib(), 'huber', { options: { deltaa: 1 } }), 'option', 'no option `deltaa` (did you mean `delta`?)');
    expectError(() => lowerDefinition(Library.stdlib(), 'mse', { options: { delta: 1 } }), 'option', 'takes no options');
    expectError(() => lowerDefinition(Library.stdlib(), 'hubber'), 'name', 'did you mean `huber`');
  });

  it('shapes that cannot broadcast, an axis out of range, a split that does not divide', () => {
    let e = file('loss t(y_true: [N, 3], y_pred: [N, 4]) =\n  y_true + y_pred');
    expect(e.kind).toBe('shape');
    expect(e.message).toContain('shapes [N, 3] and [N, 4] of the operands of `+` cannot broadcast');
    expectLocated(e, 'user.loss', 2, 10, '+');
    e = file('loss t(y_true, y_pred) = mean(y_pred, axis = 2)');
    expect(e.message).toContain('axis 2 is out of range for a tensor of rank 2 (valid: -2 to 1)');
    expectLocated(e, 'user.loss', 1, 26, 'mean');
    e = file('loss t(y_true, y_pred: [N, 4]) =\n  let [a, b] = split(y_pred, 3, axis = -1)\n  a');
    expect(e.message).toContain('size 4 is not divisible by 3');
    expectLocated(e, 'user.loss', 2, 16, 'split');
  });

  it('an error inside a stdlib definition points at the user\'s call, naming the place inside', () => {
    let e = file('loss t(y_true, y_pred) = softmax(y_pred, axis = 5)');
    expect(e.kind).toBe('shape');
    expect(e.message).toMatch(/axis 5 is out of range .* \(in `softmax`, stdlib\/prelude\.loss:\d+:\d+\)/);
    expectLocated(e, 'user.loss', 1, 26, 'softmax');
    e = file('loss t(y_true: [N, 3], y_pred: [N, 4]) =\n  mean_squared_error(y_true, y_pred)');
    expect(e.message).toContain('[N, 3] and [N, 4]');
    expectLocated(e, 'user.loss', 2, 3, 'mean_squared_error');
    // A user's own helper is theirs to fix: its errors point inside it.
    e = file('def f(x) = x + [1, 2, 3]\nloss t(y_true: [N, 4], y_pred) =\n  f(y_true)');
    expectLocated(e, 'user.loss', 1, 14, '+');
  });

  it('recursion: a def calling itself', () => {
    const e = file('def f(x) = f(x) + 1\nloss t(y_true, y_pred) = f(y_pred)');
    expect(e.kind).toBe('recursion');
    expect(e.message).toContain('`f` calls itself (f → f)');
    expectLocated(e, 'user.loss', 1, 12, 'f');
  });

  it('recursion: mutual, through a let, and a loss calling itself', () => {
    let e = file('def f(x) = g(x)\ndef g(x) =\n  let y = f(x)\n  y\nloss t(y_true, y_pred) = f(y_pred)');
    expect(e.kind).toBe('recursion');
    expect(e.message).toContain('f → g → f');
    expectLocated(e, 'user.loss', 3, 11, 'f');
    e = file('loss t(y_true, y_pred) = t(y_true, y_pred)');
    expect(e.kind).toBe('recursion');
    expect(e.message).toContain('t → t');
  });

  it('a tensor where a compile-time value is needed', () => {
    const e = file('loss t(y_true, y_pred) = sum(y_pred, axis = y_true)');
    expect(e.kind).toBe('type');
    expect(e.message).toContain('the tensor `y_true` is a tensor, not a compile-time constant');
  });

  it('import errors: a missing file, a cycle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lossc-lower-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const main = join(dir, 'main.loss');
    writeFileSync(main, 'import "missing.loss"\nloss t(y_true, y_pred) = y_pred\n');
    let e = errorOf(() => Library.fromFile(main));
    expect(e.kind).toBe('import');
    expect(e.message).toContain('cannot find `missing.loss`');
    expectLocated(e, main, 1, 1, 'import "missing.loss"');

    writeFileSync(join(dir, 'a.loss'), 'import "b.loss"\ndef fa(x) = x\n');
    writeFileSync(join(dir, 'b.loss'), '# b imports a back\nimport "a.loss"\ndef fb(x) = x\n');
    writeFileSync(main, 'import "a.loss"\nloss t(y_true, y_pred) = fa(y_pred)\n');
    e = errorOf(() => Library.fromFile(main));
    expect(e.kind).toBe('import');
    expect(e.message).toContain('import cycle: main.loss → a.loss → b.loss → a.loss');
    expectLocated(e, join(dir, 'b.loss'), 2, 1);

    // A file importing itself.
    writeFileSync(main, 'import "main.loss"\nloss t(y_true, y_pred) = y_pred\n');
    expectError(() => Library.fromFile(main), 'import', 'import cycle');

    // Imports that work: definitions come into scope, relative to the importing file.
    writeFileSync(join(dir, 'c.loss'), 'def twice(x) = 2 * x\n');
    writeFileSync(main, 'import "c.loss"\nloss t(y_true, y_pred) = twice(y_pred)\n');
    expect(lowerDefinition(Library.fromFile(main), 't').value).toBe(b.mul(c(2), yp));
    expectError(() => Library.fromFile(join(dir, 'nope.loss')), 'import', 'cannot read file');
  });

  it('a name defined twice in one file', () => {
    const e = errorOf(() => Library.fromSource('def f(x) = x\ndef f(x) = 2 * x\n', 'dup.loss'));
    expect(e.kind).toBe('name');
    expect(e.message).toContain('`f` is defined twice in this file (first at line 1)');
    expectLocated(e, 'dup.loss', 2, 5, 'f');
  });

  it('a runaway chain of nested calls is refused', () => {
    const defs = Array.from({ length: 80 }, (_, i) => `def f${i}(x) = f${i + 1}(x)`);
    defs.push('def f80(x) = x', 'loss t(y_true, y_pred) = f0(y_pred)');
    expectError(() => lowerSource(defs.join('\n'), 't'), 'limit', 'nest more than');
  });
});
