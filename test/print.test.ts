import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as b from '../src/ir/build.js';
import { MAX_DEPTH, Node } from '../src/ir/node.js';
import { NameHints } from '../src/ir/names.js';
import {
  floatText,
  formatNumber,
  printBody,
  printDefinition,
  printExpr,
  toDot,
  toLatex,
  latexName,
  latexNumber,
} from '../src/print/index.js';

const x = b.input('x', ['N']);
const y = b.input('y', ['N']);
const z = b.input('z', ['N']);
const yTrue = b.input('y_true', ['N', 'D']);
const yPred = b.input('y_pred', ['N', 'D']);
const p = b.input('p', ['N'], 'bool');
const q = b.input('q', ['N'], 'bool');
const r = b.input('r', ['N'], 'bool');
const labels = b.input('labels', ['N'], 'int32');
const c = (v: number) => b.constant(v);
const part = (src: Node, index: number, parts: number, axis: number) => Node.make('part', [src], { axis, parts, index });

/** The name hints a lowering would record for these nodes (printers read them from opts.hints). */
function hintsOf(pairs: Array<[Node, string]>): NameHints {
  const hints = new NameHints();
  for (const [n, h] of pairs) hints.set(n, h);
  return hints;
}

describe('precedence and associativity', () => {
  const cases: Array<[string, Node, string]> = [
    ['left-assoc minus', b.sub(b.sub(x, y), z), 'x - y - z'],
    ['right operand of minus', b.sub(x, b.sub(y, z)), 'x - (y - z)'],
    ['right operand of plus', b.add(x, b.add(y, z)), 'x + (y + z)'],
    ['plus of negation', b.add(x, b.neg(y)), 'x + -y'],
    ['minus of negation', b.sub(x, b.neg(y)), 'x - -y'],
    ['times negative constant', b.mul(x, c(-2)), 'x * -2'],
    ['negative constant times', b.mul(c(-2), x), '-2 * x'],
    ['sum in product', b.mul(b.add(x, y), z), '(x + y) * z'],
    ['product in sum', b.add(b.mul(x, y), z), 'x * y + z'],
    ['left-assoc division', b.div(b.mul(x, y), z), 'x * y / z'],
    ['division of product', b.div(x, b.mul(y, z)), 'x / (y * z)'],
    ['product of division', b.mul(x, b.div(y, z)), 'x * (y / z)'],
    ['right-assoc power', b.pow(x, b.pow(y, z)), 'x^y^z'],
    ['left-nested power', b.pow(b.pow(x, y), z), '(x^y)^z'],
    ['minus of power', b.neg(b.pow(x, c(2))), '-x^2'],
    ['power of negation', b.pow(b.neg(x), c(2)), '(-x)^2'],
    ['negative constant base', b.pow(c(-2), x), '(-2)^x'],
    ['negative exponent', b.pow(x, c(-2)), 'x^-2'],
    ['negated exponent', b.pow(x, b.neg(y)), 'x^-y'],
    ['negated power exponent', b.pow(x, b.neg(b.pow(y, z))), 'x^-y^z'],
    ['sum exponent', b.pow(x, b.add(y, c(1))), 'x^(y + 1)'],
    ['product base', b.pow(b.mul(x, y), c(2)), '(x * y)^2'],
    ['call base', b.pow(b.exp(x), c(2)), 'exp(x)^2'],
    ['double negation', b.neg(b.neg(x)), '-(-x)'],
    ['negation of sum', b.neg(b.add(x, y)), '-(x + y)'],
    ['negation of product', b.neg(b.mul(x, y)), '-(x * y)'],
    ['product of negation', b.mul(b.neg(x), y), '-x * y'],
    ['power of power of negative', b.pow(b.pow(c(-2), x), y), '((-2)^x)^y'],
    ['comparison of sums', b.compare('lt', b.add(x, y), z), 'x + y < z'],
    ['comparison of negation', b.compare('ge', b.neg(x), y), '-x >= y'],
    ['comparison of comparison', b.compare('eq', b.compare('lt', x, y), p), '(x < y) == p'],
    ['comparison on the right', b.compare('ne', p, b.compare('gt', x, y)), 'p != (x > y)'],
    ['not of comparison', Node.make('not', [b.compare('lt', x, y)]), 'not x < y'],
    ['not of and', Node.make('not', [Node.make('and', [p, q])]), 'not (p and q)'],
    ['and of not', Node.make('and', [Node.make('not', [p]), q]), 'not p and q'],
    ['not not', Node.make('not', [Node.make('not', [p])]), 'not not p'],
    ['and binds tighter than or', Node.make('or', [Node.make('and', [p, q]), r]), 'p and q or r'],
    ['or inside and', Node.make('and', [p, Node.make('or', [q, r])]), 'p and (q or r)'],
    ['right-nested and', Node.make('and', [p, Node.make('and', [q, r])]), 'p and (q and r)'],
    ['left-nested or', Node.make('or', [Node.make('or', [p, q]), r]), 'p or q or r'],
    ['comparison of not', b.compare('eq', Node.make('not', [p]), q), '(not p) == q'],
    ['comparison in and', Node.make('and', [b.compare('lt', x, y), p]), 'x < y and p'],
    ['negative epsilon constant', b.mul(x, c(-1e-7)), 'x * -1e-7'],
    ['negation of epsilon', b.mul(x, b.neg(c(1e-7))), 'x * -epsilon'],
    ['negation of a literal', b.neg(c(3)), '-(3)'],
    ['negated literal exponent', b.pow(x, b.neg(c(2))), 'x^-(2)'],
    ['negation of a negative literal', b.neg(c(-3)), '-(-3)'],
    ['minus negative constant', b.sub(x, c(-3)), 'x - -3'],
  ];
  for (const [what, node, text] of cases) {
    it(what, () => expect(printExpr(node)).toBe(text));
  }
});

describe('every op', () => {
  const v = b.input('v', [3]);
  const m = b.input('m', ['N', 4, 5]);
  const a2 = b.input('A', [2, 3]);
  const b2 = b.input('B', [3, 2]);
  const cases: Array<[string, Node, string]> = [
    ['input', x, 'x'],
    ['param', b.param('gamma', 2), 'gamma'],
    ['vector param', b.param('weights', [1, 2]), 'weights'],
    ['tensor 2-d', b.tensorConst([1, 2, 3, 4], [2, 2]), '[[1, 2], [3, 4]]'],
    ['tensor 1-d', b.tensorConst([0.5, -1, 1e-7], [3]), '[0.5, -1, epsilon]'],
    ['int const', b.constant(3, 'int32'), 'int(3)'],
    ['bool const', b.constant(1, 'bool'), 'true'],
    ['false const', b.constant(0, 'bool'), 'false'],
    ['neg', b.neg(x), '-x'],
    ['exp', b.exp(x), 'exp(x)'],
    ['log', b.log(x), 'log(x)'],
    ['log1p', b.unary('log1p', x), 'log1p(x)'],
    ['expm1', b.unary('expm1', x), 'expm1(x)'],
    ['sqrt', b.sqrt(x), 'sqrt(x)'],
    ['abs', b.abs(x), 'abs(x)'],
    ['sign', b.sign(x), 'sign(x)'],
    ['sigmoid', b.sigmoid(x), 'sigmoid(x)'],
    ['softplus', b.softplus(x), 'softplus(x)'],
    ['tanh', b.tanh(x), 'tanh(x)'],
    ['cosh', b.unary('cosh', x), 'cosh(x)'],
    ['sinh', b.unary('sinh', x), 'sinh(x)'],
    ['cos', b.unary('cos', x), 'cos(x)'],
    ['sin', b.unary('sin', x), 'sin(x)'],
    ['floor', b.unary('floor', x), 'floor(x)'],
    ['stop_gradient', Node.make('stop_gradient', [x]), 'stop_gradient(x)'],
    ['not', Node.make('not', [p]), 'not p'],
    ['cast to float', b.cast(p, 'float32'), 'float(p)'],
    ['cast to int', b.cast(x, 'int32'), 'int(x)'],
    ['cast to bool', b.cast(x, 'bool'), 'bool(x)'],
    ['add', b.add(x, y), 'x + y'],
    ['sub', b.sub(x, y), 'x - y'],
    ['mul', b.mul(x, y), 'x * y'],
    ['div', b.div(x, y), 'x / y'],
    ['pow', b.pow(x, y), 'x^y'],
    ['maximum', b.maximum(x, y), 'max(x, y)'],
    ['minimum', b.minimum(x, c(0)), 'min(x, 0)'],
    ['lt', b.compare('lt', x, y), 'x < y'],
    ['le', b.compare('le', x, y), 'x <= y'],
    ['gt', b.compare('gt', x, y), 'x > y'],
    ['ge', b.compare('ge', x, y), 'x >= y'],
    ['eq', b.compare('eq', x, y), 'x == y'],
    ['ne', b.compare('ne', x, y), 'x != y'],
    ['and', Node.make('and', [p, q]), 'p and q'],
    ['or', Node.make('or', [p, q]), 'p or q'],
    ['where', b.where(p, x, c(0)), 'where(p, x, 0)'],
    ['clip', b.clip(x, c(1e-7), b.sub(c(1), c(1e-7))), 'clip(x, epsilon, 1 - epsilon)'],
    ['sum all', b.reduce('sum', yPred, null), 'sum(y_pred)'],
    ['sum all listed', b.reduce('sum', yPred, [0, 1]), 'sum(y_pred)'],
    ['sum last', b.reduce('sum', yPred, [-1]), 'sum(y_pred, axis = -1)'],
    ['sum last as 1', b.reduce('sum', yPred, [1]), 'sum(y_pred, axis = -1)'],
    ['sum first', b.reduce('sum', yPred, [0]), 'sum(y_pred, axis = 0)'],
    ['mean several', b.reduce('mean', m, [1, 2]), 'mean(m, axis = [1, 2])'],
    ['mean middle', b.reduce('mean', m, [1]), 'mean(m, axis = 1)'],
    ['max keepdims', b.reduce('max', yPred, [-1], true), 'max(y_pred, axis = -1, keepdims = true)'],
    ['min', b.reduce('min', yPred, [0]), 'min(y_pred, axis = 0)'],
    ['logsumexp', b.reduce('logsumexp', yPred, [-1]), 'logsumexp(y_pred, axis = -1)'],
    ['sum of scalar', b.reduce('sum', c(2), null), 'sum(2)'],
    ['size all', b.size(yPred, null), 'size(y_pred)'],
    ['size last', b.size(yPred, [-1]), 'size(y_pred, axis = -1)'],
    ['size several', b.size(m, [0, 1]), 'size(m, axis = [0, 1])'],
    ['indices', Node.make('indices', [yPred], { axis: 0 }), 'indices(y_pred, axis = 0)'],
    ['zeros_like', Node.make('broadcast_like', [c(0), yPred]), 'zeros_like(y_pred)'],
    ['ones_like', Node.make('broadcast_like', [c(1), yPred]), 'ones_like(y_pred)'],
    ['broadcast_like', b.broadcastLike(x, m), 'broadcast_like(x, m)'],
    ['broadcast_like of -0 (constants fold -0 into 0)', Node.make('broadcast_like', [c(-0), yPred]), 'zeros_like(y_pred)'],
    ['expand_dims last', b.expandDims(x, -1), 'expand_dims(x, axis = -1)'],
    ['expand_dims first', b.expandDims(x, 0), 'expand_dims(x, axis = 0)'],
    ['squeeze', b.squeeze(b.expandDims(x, 1), 1), 'squeeze(expand_dims(x, axis = -1), axis = -1)'],
    ['part (inline)', part(yPred, 1, 2, 1), 'part(y_pred, 1, 2, axis = -1)'],
    ['concat', Node.make('concat', [yTrue, yPred], { axis: 1 }), 'concat([y_true, y_pred], axis = -1)'],
    ['concat first', Node.make('concat', [yTrue, yPred, yTrue], { axis: 0 }), 'concat([y_true, y_pred, y_true], axis = 0)'],
    ['transpose', Node.make('transpose', [a2], { perm: [1, 0] }), 'transpose(A, perm = [1, 0])'],
    ['matmul', Node.make('matmul', [a2, b2]), 'matmul(A, B)'],
    ['one_hot size', Node.make('one_hot', [labels, yPred], { axis: 1 }), 'one_hot(labels, size(y_pred, axis = -1))'],
    ['one_hot depth', Node.make('one_hot', [labels], { depth: 3 }), 'one_hot(labels, 3)'],
    ['vector tensor input', b.add(v, c(1)), 'v + 1'],
  ];
  for (const [what, node, text] of cases) {
    it(what, () => expect(printExpr(node)).toBe(text));
  }
});

describe('numbers', () => {
  const cases: Array<[number, string]> = [
    [0.1, '0.1'],
    [1e-7, 'epsilon'],
    [-1e-7, '-1e-7'],
    [-Math.PI, '-3.1415927'],
    [2, '2'],
    [-3, '-3'],
    [1e30, '1e30'],
    [0.25, '0.25'],
    [0, '0'],
    [-0, '0'],
    [100, '100'],
    [1e3, '1e3'],
    [1.5, '1.5'],
    [1 / 3, '0.33333334'],
    [1e-8, '1e-8'],
    [2.5e-8, '2.5e-8'],
    [123.456, '123.456'],
    [65504, '65504'],
    [16777216, '16777216'],
    [3.4028234663852886e38, '3.4028235e38'],
    [1.401298464324817e-45, '1e-45'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [Math.PI, 'pi'],
  ];
  for (const [v, text] of cases) {
    it(`${v} → ${text}`, () => expect(printExpr(b.constant(v))).toBe(text));
  }

  it('int and bool constants', () => {
    expect(printExpr(b.constant(-3, 'int32'))).toBe('int(-3)');
    expect(printExpr(b.constant(7, 'int32'))).toBe('int(7)');
    expect(printExpr(b.constant(1, 'bool'))).toBe('true');
  });

  it('every float32 prints as the shortest text that reads back to it', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const v = Math.fround(f);
        const a = Math.abs(v);
        if (a === 0 || a === Math.fround(1e-7) || a === Math.fround(Math.PI)) return;
        const s = formatNumber(a);
        expect(Math.fround(Number(s))).toBe(a);
        expect(s).not.toMatch(/\.$|\.\d*0(e|$)|e\+/);
        // No shorter digit string reads back to the same float.
        const digits = s.replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
        if (digits.length > 1) {
          const shorter = a.toPrecision(digits.length - 1);
          expect(Math.fround(Number(shorter))).not.toBe(a);
        }
        expect(floatText(v)).toBe(v < 0 ? `-${s}` : s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('lets', () => {
  it('binds a node used twice, in dependency order', () => {
    const e = b.exp(x);
    const out = printBody(b.div(e, b.add(e, c(1))));
    expect(out.text).toBe('let t1 = exp(x)\nt1 / (t1 + 1)');
    expect(out.lets).toEqual([{ names: ['t1'], destructure: false, text: 'exp(x)' }]);
    expect(out.result).toBe('t1 / (t1 + 1)');
  });

  it('does not bind a node used once', () => {
    expect(printBody(b.log(b.add(b.exp(x), c(1)))).text).toBe('log(exp(x) + 1)');
  });

  it('counts an argument used twice by one node as two uses', () => {
    const e = b.exp(x);
    expect(printBody(b.mul(e, e)).text).toBe('let t1 = exp(x)\nt1 * t1');
  });

  it('repeats leaves and cheap wrappers of leaves', () => {
    const n = b.neg(x);
    const f = b.cast(p, 'float32');
    expect(printBody(b.add(b.mul(n, n), b.mul(f, f))).text).toBe('-x * -x + float(p) * float(p)');
    expect(printBody(b.add(b.mul(x, c(2)), b.mul(y, c(2)))).text).toBe('x * 2 + y * 2');
  });

  it('binds nested shared nodes innermost first and numbers them in that order', () => {
    const d = b.sub(x, y);
    const sq = b.mul(d, d);
    const out = printBody(b.div(sq, b.add(sq, c(1))));
    expect(out.text).toBe('let t1 = x - y\nlet t2 = t1 * t1\nt2 / (t2 + 1)');
  });

  it('uses name hints', () => {
    const d = b.sub(yPred, yTrue);
    const out = printBody(b.reduce('mean', b.mul(d, d), [-1]), { hints: hintsOf([[d, 'err']]) });
    expect(out.text).toBe('let err = y_pred - y_true\nmean(err * err, axis = -1)');
  });

  it('does not bind a hinted node used once', () => {
    const d = b.sub(yPred, yTrue);
    const out = printBody(b.abs(d), { hints: hintsOf([[d, 'err']]) });
    expect(out.text).toBe('abs(y_pred - y_true)');
  });

  it('ignores hints that are not unique, shadow an input or param, or are builtins', () => {
    const a = b.exp(x);
    const e = b.log(y);
    const s = b.sigmoid(z);
    const g = b.tanh(x);
    const gamma = b.param('gamma', 2);
    const root = b.add(b.add(b.mul(a, a), b.mul(e, e)), b.add(b.mul(s, s), b.mul(b.mul(g, g), gamma)));
    const out = printBody(root, { hints: hintsOf([[a, 'h'], [e, 'h'], [s, 'y'], [g, 'gamma']]) }).text;
    expect(out).toBe(
      'let t1 = exp(x)\nlet t2 = log(y)\nlet t3 = sigmoid(z)\nlet t4 = tanh(x)\n' +
        't1 * t1 + t2 * t2 + (t3 * t3 + t4 * t4 * gamma)',
    );
    expect(printBody(b.mul(a, a), { hints: hintsOf([[a, 'log']]) }).text).toBe('let t1 = exp(x)\nt1 * t1');
  });

  it('never generates a name that shadows an input, a hint or a reserved name', () => {
    const t1 = b.input('t1', ['N']);
    const e = b.exp(t1);
    const f = b.log(t1);
    const g = b.sqrt(t1);
    const out = printBody(b.add(b.mul(e, e), b.mul(b.mul(f, f), b.mul(g, g))), { reserved: ['t3'], hints: hintsOf([[f, 't2']]) });
    expect(out.text).toBe('let t4 = exp(t1)\nlet t2 = log(t1)\nlet t5 = sqrt(t1)\nt4 * t4 + t2 * t2 * (t5 * t5)');
  });

  it('takes names from opts.names before hints', () => {
    const e = b.exp(x);
    const out = printBody(b.mul(e, e), { names: new Map([[e, 'u']]), hints: hintsOf([[e, 'ex']]) });
    expect(out.text).toBe('let u = exp(x)\nu * u');
    expect(printBody(b.mul(e, e), { names: (n) => (n === e ? 'w' : undefined) }).text).toBe('let w = exp(x)\nw * w');
  });

  it('prints several roots as a list, binding what they share', () => {
    const e = b.exp(x);
    const g1 = b.mul(e, y);
    const g2 = b.mul(e, z);
    expect(printBody([g1, g2]).text).toBe('let t1 = exp(x)\n[t1 * y, t1 * z]');
    const out = printBody([e, b.mul(e, y)]);
    expect(out.text).toBe('let t1 = exp(x)\n[t1, t1 * y]');
    expect(out.result).toBe('[t1, t1 * y]');
  });

  it('parenthesises a result starting with a minus after lets (it would continue the let)', () => {
    const e = b.exp(x);
    expect(printBody(b.neg(b.mul(e, e))).text).toBe('let t1 = exp(x)\n(-(t1 * t1))');
    expect(printBody(b.neg(x)).text).toBe('-x');
  });

  it('a shared root prints as its name', () => {
    const e = b.exp(x);
    expect(printBody([e, e]).text).toBe('let t1 = exp(x)\n[t1, t1]');
  });

  it('binds tensor literals used twice', () => {
    const w = b.tensorConst([1, 2, 3], [3]);
    const v = b.input('v', [3]);
    expect(printBody(b.div(b.reduce('sum', b.mul(w, v), null), b.reduce('sum', w, null))).text).toBe(
      'let t1 = [1, 2, 3]\nsum(t1 * v) / sum(t1)',
    );
  });
});

describe('split', () => {
  it('prints all parts of one split with one destructuring let', () => {
    const [a, pp, n] = [0, 1, 2].map((i) => part(yPred, i, 3, 1)) as [Node, Node, Node];
    const sq = (u: Node) => b.reduce('sum', b.pow(u, c(2)), [1]);
    const margin = b.param('margin', 0.2);
    const loss = b.maximum(b.add(b.sub(sq(b.sub(a, pp)), sq(b.sub(a, n))), margin), c(0));
    const out = printBody(loss, { hints: hintsOf([[a, 'a'], [pp, 'p'], [n, 'n']]) });
    expect(out.lets).toEqual([{ names: ['a', 'p', 'n'], destructure: true, text: 'split(y_pred, 3, axis = -1)' }]);
    expect(out.text).toBe(
      'let [a, p, n] = split(y_pred, 3, axis = -1)\n' +
        'max(sum((a - p)^2, axis = -1) - sum((a - n)^2, axis = -1) + margin, 0)',
    );
  });

  it('binds parts used once, names unused ones _, and generates names', () => {
    const [a, , n] = [0, 1, 2].map((i) => part(yPred, i, 3, 0)) as [Node, Node, Node];
    expect(printBody(b.sub(a, n)).text).toBe('let [t1, _, t2] = split(y_pred, 3, axis = 0)\nt1 - t2');
  });

  it('normalises a negative axis and places the split after the lets its source needs', () => {
    const e = b.exp(yPred);
    const src = b.add(e, e);
    const [u, v] = [0, 1].map((i) => part(src, i, 2, -1)) as [Node, Node];
    expect(printBody(b.mul(u, v)).text).toBe('let t1 = exp(y_pred)\nlet [t2, t3] = split(t1 + t1, 2, axis = -1)\nt2 * t3');
    // The source is used again elsewhere: then it gets its own let.
    expect(printBody(b.mul(b.mul(u, v), b.reduce('sum', src, null))).text).toBe(
      'let t1 = exp(y_pred)\nlet t2 = t1 + t1\nlet [t3, t4] = split(t2, 2, axis = -1)\nt3 * t4 * sum(t2)',
    );
  });

  it('separate splits of different sources', () => {
    const a = part(yPred, 0, 2, 1);
    const d = part(yTrue, 1, 2, 1);
    expect(printBody(b.sub(a, d)).text).toBe(
      'let [t1, _] = split(y_pred, 2, axis = -1)\nlet [_, t2] = split(y_true, 2, axis = -1)\nt1 - t2',
    );
  });
});

describe('printDefinition', () => {
  it('prints doc, header and indented body', () => {
    const yt = b.input('y_true', ['N', 'D']);
    const yp = b.input('y_pred', ['N', 'D']);
    const delta = b.param('delta', 1);
    const err = b.sub(yp, yt);
    const a = b.abs(err);
    const quad = b.mul(c(0.5), b.pow(err, c(2)));
    const lin = b.sub(b.mul(delta, a), b.mul(c(0.5), b.pow(delta, c(2))));
    const h = b.reduce('mean', b.where(b.compare('le', a, delta), quad, lin), [-1]);
    const text = printDefinition(
      {
        kind: 'loss',
        name: 'huber',
        params: [{ name: 'y_true' }, { name: 'y_pred', type: 'float[N, D]' }],
        options: [{ name: 'delta', value: '1.0' }],
        doc: 'Huber loss.\n\nQuadratic near zero, linear far away.\n',
      },
      h,
      { hints: hintsOf([[err, 'err'], [a, 'abs_err']]) },
    );
    expect(text).toBe(
      [
        '# Huber loss.',
        '#',
        '# Quadratic near zero, linear far away.',
        'loss huber(y_true, y_pred: float[N, D]; delta = 1.0) =',
        '  let err = y_pred - y_true',
        '  let abs_err = abs(err)',
        '  mean(where(abs_err <= delta, 0.5 * err^2, delta * abs_err - 0.5 * delta^2), axis = -1)',
        '',
      ].join('\n'),
    );
  });

  it('without doc or options; a let never takes an option name', () => {
    const e = b.exp(x);
    const text = printDefinition({ kind: 'def', name: 'f', params: [{ name: 'x' }], options: [{ name: 'scale', value: '2' }] }, b.mul(e, e), {
      hints: hintsOf([[e, 'scale']]),
    });
    expect(text).toBe('def f(x; scale = 2) =\n  let t1 = exp(x)\n  t1 * t1\n');
  });
});

describe('names', () => {
  it('records hints on operations only, the last name winning', () => {
    const e = b.exp(z);
    const hints = new NameHints();
    hints.set(e, 'ez');
    hints.set(z, 'zz');
    expect(hints.get(e)).toBe('ez');
    expect(hints.get(z)).toBeUndefined();
    hints.set(e, 'ez2');
    expect(hints.get(e)).toBe('ez2');
    hints.set(e, '_');
    expect(hints.get(e)).toBe('ez2');
  });

  it('a hint belongs to its table: another table, or a printer given none, does not see it', () => {
    const e = b.exp(z);
    const hints = hintsOf([[e, 'ez']]);
    expect(new NameHints().get(b.exp(z))).toBeUndefined();
    expect(printBody(b.mul(e, e)).text).toBe('let t1 = exp(z)\nt1 * t1');
    expect(printBody(b.mul(e, e), { hints }).text).toBe('let ez = exp(z)\nez * ez');
    expect(toDot(e, { hints })).toContain('(ez)');
    expect(toDot(e)).not.toContain('(ez)');
  });
});

describe('LaTeX', () => {
  it('names and numbers', () => {
    expect(latexName('y_true')).toBe('y_{\\mathrm{true}}');
    expect(latexName('p_t')).toBe('p_t');
    expect(latexName('gamma')).toBe('\\gamma');
    expect(latexName('alpha_t')).toBe('\\alpha_t');
    expect(latexName('t1')).toBe('t_1');
    expect(latexName('t12')).toBe('t_{12}');
    expect(latexName('margin')).toBe('\\mathrm{margin}');
    expect(latexName('label_smoothing')).toBe('\\mathrm{label\\_smoothing}');
    expect(latexNumber(Math.fround(1e-7)).text).toBe('\\epsilon');
    expect(latexNumber(1e30).text).toBe('10^{30}');
    expect(latexNumber(Math.fround(2.5e-8)).text).toBe('2.5 \\times 10^{-8}');
    expect(latexNumber(-Infinity).text).toBe('-\\infty');
  });

  it('a Huber-like formula', () => {
    const delta = b.param('delta', 1);
    const err = b.sub(yPred, yTrue);
    const a = b.abs(err);
    const quad = b.mul(c(0.5), b.pow(err, c(2)));
    const lin = b.mul(delta, b.sub(a, b.div(delta, c(2))));
    const h = b.reduce('mean', b.where(b.compare('le', a, delta), quad, lin), [-1]);
    const tex = toLatex(h, { hints: hintsOf([[a, 'e']]) });
    expect(tex).toBe(
      [
        '\\begin{aligned}',
        't_1 &= y_{\\mathrm{pred}} - y_{\\mathrm{true}} \\\\',
        'e &= \\lvert t_1\\rvert \\\\',
        '\\mathcal{L} &= \\operatorname{mean}_{-1}(\\begin{cases} 0.5 \\cdot t_1^{2} & \\text{if } e \\le \\delta \\\\ ' +
          '\\delta \\cdot \\left(e - \\frac{\\delta}{2}\\right) & \\text{otherwise} \\end{cases})',
        '\\end{aligned}',
      ].join('\n'),
    );
  });

  it('op notation', () => {
    expect(toLatex(b.sigmoid(x))).toBe('\\sigma(x)');
    expect(toLatex(b.softplus(x))).toBe('\\operatorname{softplus}(x)');
    expect(toLatex(b.maximum(x, y))).toBe('\\max(x, y)');
    expect(toLatex(b.sqrt(b.add(x, c(1e-7))))).toBe('\\sqrt{x + \\epsilon}');
    expect(toLatex(b.exp(b.log(x)))).toBe('\\exp(\\log(x))');
    expect(toLatex(b.pow(b.div(x, y), c(2)))).toBe('\\left(\\frac{x}{y}\\right)^{2}');
    expect(toLatex(b.reduce('sum', b.pow(yPred, c(2)), [-1]))).toBe('\\sum_{\\text{axis }-1} y_{\\mathrm{pred}}^{2}');
    expect(toLatex(b.reduce('sum', b.mul(x, y), null))).toBe('\\sum \\left(x \\cdot y\\right)');
    expect(toLatex(b.mul(b.reduce('sum', x, null), y))).toBe('\\left(\\sum x\\right) \\cdot y');
    expect(toLatex(b.sub(y, b.reduce('sum', x, null)))).toBe('y - \\sum x');
    expect(toLatex(b.reduce('mean', yPred, [-1]))).toBe('\\operatorname{mean}_{-1}(y_{\\mathrm{pred}})');
    expect(toLatex(b.cast(b.compare('gt', x, c(0)), 'float32'))).toBe('\\mathbb{1}[x > 0]');
    expect(toLatex(b.clip(x, c(1e-7), b.sub(c(1), c(1e-7))))).toBe('\\operatorname{clip}(x, \\epsilon, 1 - \\epsilon)');
    expect(toLatex(b.add(x, b.neg(y)))).toBe('x + \\left(-y\\right)');
    expect(toLatex(b.mul(x, c(-2)))).toBe('x \\cdot \\left(-2\\right)');
    expect(toLatex(b.mul(b.param('alpha', 0.25), b.expandDims(b.reduce('sum', yPred, [-1]), -1)))).toBe(
      '\\alpha \\cdot \\left(\\sum_{\\text{axis }-1} y_{\\mathrm{pred}}\\right)',
    );
    expect(toLatex(Node.make('broadcast_like', [c(0), yPred]))).toBe('\\mathbf{0}');
    expect(toLatex(b.add(yPred, b.cast(labels, 'float32')))).toBe('y_{\\mathrm{pred}} + \\mathrm{labels}');
    expect(toLatex(b.abs(x), { lhs: 'g' })).toBe('g = \\lvert x\\rvert');
    expect(toLatex([b.exp(x), b.exp(y)])).toBe('\\left(\\exp(x), \\exp(y)\\right)');
  });

  it('splits', () => {
    const [a, , n] = [0, 1, 2].map((i) => part(yPred, i, 3, 1)) as [Node, Node, Node];
    expect(toLatex(b.sub(a, n))).toBe(
      '\\begin{aligned}\n\\left[t_1, \\_, t_2\\right] &= \\operatorname{split}_{-1}(y_{\\mathrm{pred}}, 3) \\\\\n\\mathcal{L} &= t_1 - t_2\n\\end{aligned}',
    );
  });
});

describe('dot', () => {
  it('is a well-formed digraph with one line per node and edge', () => {
    const e = b.exp(x);
    const root = b.div(e, b.add(e, c(1)));
    const dot = toDot(root);
    const lines = dot.trim().split('\n');
    expect(lines[0]).toBe('digraph lossc {');
    expect(lines[lines.length - 1]).toBe('}');
    const opens = (dot.match(/{/g) ?? []).length;
    const closes = (dot.match(/}/g) ?? []).length;
    expect(opens).toBe(closes);
    const nodeLines = lines.filter((l) => /^ {2}n\d+ \[label=/.test(l));
    const edgeLines = lines.filter((l) => /^ {2}n\d+ -> n\d+( \[label="\d+"\])?;$/.test(l));
    expect(nodeLines).toHaveLength(5); // x, exp, 1, add, div
    expect(edgeLines).toHaveLength(5); // exp→x, add→exp, add→1, div→exp, div→add
    expect(dot).toContain('peripheries=2');
    expect(dot).toContain('label="div\\n[N]"');
    // Every edge names declared nodes.
    const ids = new Set(nodeLines.map((l) => l.trim().split(' ')[0]));
    for (const l of edgeLines) {
      const [, from, to] = /(n\d+) -> (n\d+)/.exec(l)!;
      expect(ids.has(from!)).toBe(true);
      expect(ids.has(to!)).toBe(true);
    }
  });

  it('escapes labels and summarises attributes', () => {
    const dot = toDot([b.reduce('mean', yPred, [-1], true), Node.make('part', [yPred], { axis: 1, parts: 2, index: 0 })], {
      name: 'g',
      rootLabels: ['a "quoted" root'],
    });
    expect(dot.startsWith('digraph g {')).toBe(true);
    expect(dot).toContain('mean axes=[1] keepdims');
    expect(dot).toContain('part axis=1 index=0 parts=2');
    expect(dot).toContain('label="a \\"quoted\\" root"');
  });
});

describe('large graphs', () => {
  it('refuses to inline an exponentially large expression, but prints it with lets', () => {
    let e: Node = x;
    for (let i = 0; i < 60; i++) e = b.add(e, e);
    expect(() => printExpr(e)).toThrow(/too large to print inline/);
    const body = printBody(e);
    expect(body.lets).toHaveLength(59);
    expect(body.result).toBe('t59 + t59');
  });
});

describe('deep graphs', () => {
  const N = 10_000;

  it('prints a 10 000-deep left chain of adds', () => {
    let e: Node = x;
    for (let i = 0; i < N; i++) e = b.add(e, c(i % 7));
    const inline = printExpr(e);
    expect(inline.startsWith('x + 0 + 1 + 2')).toBe(true);
    expect(inline).not.toContain('(');
    const body = printBody(e);
    expect(body.lets.length).toBeGreaterThan(N / 100 - 5);
    expect(body.lets.length).toBeLessThan(N / 50);
    expect(body.text.split('\n')).toHaveLength(body.lets.length + 1);
    expect(toLatex(e).length).toBeGreaterThan(N);
    expect(toDot(e).split('\n').length).toBeGreaterThan(2 * N);
  });

  it('prints a 10 000-deep right chain and a chain of calls', () => {
    let e: Node = x;
    for (let i = 0; i < N; i++) e = b.sub(c(i % 5), e);
    const inline = printExpr(e);
    expect(inline.length).toBeGreaterThan(N);
    // Every line of the body nests at most ~100 parentheses.
    const body = printBody(e);
    for (const line of body.text.split('\n')) {
      let depth = 0;
      let max = 0;
      for (const ch of line) {
        if (ch === '(') max = Math.max(max, ++depth);
        else if (ch === ')') depth--;
      }
      expect(max).toBeLessThanOrEqual(100);
    }
    let f: Node = x;
    for (let i = 0; i < N; i++) f = b.exp(f);
    expect(printExpr(f)).toBe('exp('.repeat(N) + 'x' + ')'.repeat(N));
    expect(printBody(f).lets.length).toBeGreaterThan(90);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip through the real parser (grammar/) and lowering (src/lower/): what is printed must
// lower back to the very same (hash-consed) node. Imported lazily so that the printer's own tests
// still run while those stages are being changed.

/**
 * What lowering makes of a node: arithmetic on constants folded (a fold that is not a short
 * decimal keeps the expression for printing, so `1 - epsilon` prints as written).
 */
async function foldedForm(): Promise<(n: Node) => Node> {
  const { rewrite } = await import('../src/rewrite/engine.js');
  const { ALL_RULES } = await import('../src/rewrite/rules.js');
  const fold = ALL_RULES.filter((r) => r.name === 'fold-constants');
  return (n) => rewrite([n], fold)[0]!;
}

async function lowerer(): Promise<(text: string, name: string) => Node> {
  const { Library } = await import('../src/lower/library.js');
  const { lowerDefinition } = await import('../src/lower/lower.js');
  return (text, name) => lowerDefinition(Library.fromSource(text), name, { symbolic: true }).value;
}

describe('round trip through the parser and lowering', () => {
  const X = b.input('x', ['N', 'D']);
  const Y = b.input('y', ['N', 'D']);
  const P = b.input('p', ['N', 'D'], 'bool');
  const L = b.input('l', ['N'], 'int32');
  const gamma = b.param('gamma', 2);
  const header = {
    kind: 'def' as const,
    name: 'f',
    params: [{ name: 'x' }, { name: 'y' }, { name: 'p', type: 'bool[N, D]' }, { name: 'l', type: 'int[N]' }],
    options: [{ name: 'gamma', value: '2' }],
  };
  const [s0, s1, s2] = [0, 1, 2].map((i) => part(X, i, 3, 1)) as [Node, Node, Node];
  const cases: Array<[string, Node]> = [
    ['plus of negation', b.add(X, b.neg(Y))],
    ['negative literal', b.mul(X, c(-2))],
    ['negative base', b.pow(c(-2), X)],
    ['negation of a literal', b.add(X, b.neg(c(3)))],
    ['negated exponent', b.pow(X, b.neg(b.pow(Y, gamma)))],
    ['negative epsilon', b.sub(X, c(-1e-7))],
    ['negation of epsilon', b.sub(X, b.neg(c(1e-7)))],
    ['negative zero', b.add(X, c(-0))],
    ['numbers', b.add(b.mul(X, c(0.1)), b.mul(c(1e30), b.add(c(Math.PI), c(1 / 3))))],
    ['inf', b.minimum(X, c(Infinity))],
    ['where/not/cast', b.where(Node.make('not', [P]), b.cast(P, 'float32'), X)],
    ['int and bool constants', b.add(b.cast(b.compare('lt', L, b.constant(-3, 'int32')), 'float32'), b.cast(b.constant(1, 'bool'), 'float32'))],
    ['reductions', b.add(b.reduce('sum', X, [-1]), b.reduce('max', b.reduce('mean', X, [0], true), null))],
    ['logsumexp and size', b.div(b.reduce('logsumexp', X, [1]), b.size(X, [-1]))],
    ['indices', b.cast(Node.make('indices', [X], { axis: -1 }), 'float32')],
    ['zeros_like, ones_like, broadcast_like', b.add(Node.make('broadcast_like', [c(0), X]), b.add(Node.make('broadcast_like', [c(1), X]), Node.make('broadcast_like', [c(2), X])))],
    ['expand_dims and squeeze', b.add(b.expandDims(b.reduce('sum', X, [-1]), -1), b.squeeze(b.expandDims(X, 1), 1))],
    ['concat, transpose, matmul', Node.make('matmul', [Node.make('concat', [X, Y], { axis: 1 }), Node.make('transpose', [Node.make('concat', [X, Y], { axis: 1 })], { perm: [1, 0] })])],
    ['one_hot', b.add(Node.make('one_hot', [L, X], { axis: 1 }), Node.make('one_hot', [L], { depth: 7 }))],
    ['tensor literals', b.add(b.tensorConst([1, 2, 3, 4], [2, 2]), b.mul(X, b.tensorConst([1, -2], [2])))],
    ['split', b.sub(b.mul(s0, s0), s2)],
    ['split used whole', b.add(b.reduce('sum', s1, null), b.reduce('sum', b.mul(s1, s0), null))],
    ['clip/max/min', b.clip(b.maximum(X, Y), c(1e-7), b.minimum(b.sub(c(1), c(1e-7)), Y))],
    ['unary calls', b.add(b.unary('log1p', Node.make('stop_gradient', [X])), b.unary('floor', b.softplus(b.unary('expm1', X))))],
    ['casts', b.cast(b.add(b.cast(b.cast(X, 'int32'), 'float32'), b.cast(b.cast(X, 'bool'), 'float32')), 'int32')],
    ['logic', Node.make('or', [Node.make('and', [P, b.compare('lt', X, Y)]), Node.make('not', [Node.make('or', [P, P])])])],
    ['shared', (() => {
      const e = b.exp(b.sub(X, b.reduce('max', X, [-1], true)));
      return b.div(e, b.reduce('sum', e, [-1], true));
    })()],
  ];
  for (const [what, node] of cases) {
    it(what, async () => {
      const lower = await lowerer();
      const folded = await foldedForm();
      const text = printDefinition(header, node);
      expect(lower(text, 'f'), text).toBe(folded(node));
      // The folded form reads back to itself.
      expect(lower(printDefinition(header, folded(node)), 'f')).toBe(folded(node));
    });
  }

  it('the name hints a program gives come back in its printed formula', async () => {
    const src = [
      'loss focal(y_true, y_pred; gamma = 2.0, alpha = 0.25) =',
      '  let p = clip(y_pred, epsilon, 1 - epsilon)',
      '  let p_t = y_true * p + (1 - y_true) * (1 - p)',
      '  let a_t = y_true * alpha + (1 - y_true) * (1 - alpha)',
      '  mean(-a_t * (1 - p_t)^gamma * log(p_t), axis = -1)',
      '',
      'loss triplet(y_true, y_pred; margin = 0.2) =',
      '  let [a, p, n] = split(y_pred, 3, axis = 1)',
      '  relu(sum((a - p)^2, axis = 1) - sum((a - n)^2, axis = 1) + margin)',
    ].join('\n');
    const { Library } = await import('../src/lower/library.js');
    const { lowerDefinition } = await import('../src/lower/lower.js');
    const lib = Library.fromSource(src);
    const focal = lowerDefinition(lib, 'focal', { symbolic: true });
    const printed = printBody(focal.value, { hints: focal.hints }).text;
    expect(printed).toContain('let p = clip(y_pred, epsilon, 1 - epsilon)');
    expect(printed).toContain('let p_t = y_true * p + t1 * (1 - p)');
    expect(printed.split('\n').pop()).toBe('mean(-(y_true * alpha + t1 * (1 - alpha)) * (1 - p_t)^gamma * log(p_t), axis = -1)');
    const trip = lowerDefinition(lib, 'triplet', { symbolic: true });
    expect(printBody(trip.value, { hints: trip.hints }).lets[0]).toEqual({ names: ['a', 'p', 'n'], destructure: true, text: 'split(y_pred, 3, axis = -1)' });
  });

  it('deep chains print within the parser\'s nesting limit and lower back (up to the depth limit)', async () => {
    const lower = await lowerer();
    const chain = (depth: number) => {
      let e: Node = X;
      for (let i = 0; e.depth < depth; i++) e = i % 3 === 0 ? b.sub(c(i % 5), e) : i % 3 === 1 ? b.exp(b.neg(e)) : b.add(e, c(1));
      return e;
    };
    const e = chain(MAX_DEPTH - 2);
    expect((await foldedForm())(e)).toBe(e);
    expect(lower(printDefinition(header, e), 'f')).toBe(e);
    let f: Node = X;
    while (f.depth < MAX_DEPTH) f = Node.make('concat', [f, f.depth % 2 ? Y : b.tensorConst([f.depth, 1], [1, 2])], { axis: 0 });
    expect(lower(printDefinition(header, f), 'f')).toBe(f);
    // Printing is iterative at any depth; lowering the text back refuses what is over the limit.
    const deep = chain(4000);
    expect(() => lower(printDefinition(header, deep), 'f')).toThrow(/limit error: this formula is nested 50\d operations deep/);
  });

  const { float } = fc.letrec<{ float: Node; bool: Node }>((tie) => ({
    float: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(X, Y, gamma, c(0), c(0.5), c(2), c(-3), c(1e-7), c(-1e-7), c(-1e30), c(0.1), c(Infinity)),
      tie('float').map((a) => b.neg(a)),
      fc.tuple(fc.constantFrom('add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum') as fc.Arbitrary<'add'>, tie('float'), tie('float')).map(
        ([o, a, bb]) => b.binary(o, a, bb),
      ),
      fc.tuple(fc.constantFrom('exp', 'log', 'abs', 'sigmoid') as fc.Arbitrary<'exp'>, tie('float')).map(([o, a]) => b.unary(o, a)),
      fc.tuple(tie('bool'), tie('float'), tie('float')).map(([cc, a, bb]) => b.where(cc, a, bb)),
      tie('bool').map((a) => b.cast(a, 'float32')),
    ),
    bool: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(P),
      tie('bool').map((a) => Node.make('not', [a])),
      fc.tuple(fc.constantFrom('and', 'or') as fc.Arbitrary<'and'>, tie('bool'), tie('bool')).map(([o, a, bb]) => Node.make(o, [a, bb])),
      fc.tuple(fc.constantFrom('lt', 'le', 'gt', 'ge', 'eq', 'ne') as fc.Arbitrary<'lt'>, tie('float'), tie('float')).map(([o, a, bb]) =>
        b.compare(o, a, bb),
      ),
    ),
  }));

  it('random formulas lower back to the same node (constants folded, as lowering does)', async () => {
    const lower = await lowerer();
    const folded = await foldedForm();
    fc.assert(
      fc.property(float, (n) => {
        const text = printDefinition(header, n);
        expect(lower(text, 'f'), text).toBe(folded(n));
        expect(lower(printDefinition(header, folded(n)), 'f'), text).toBe(folded(n));
        const shared = b.add(n, b.mul(n, X));
        expect(lower(printDefinition(header, shared), 'f')).toBe(folded(shared));
      }),
      { numRuns: 300 },
    );
  });
});
