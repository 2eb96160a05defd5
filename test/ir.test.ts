// The IR's hash-consing (src/ir/node.ts): structurally equal ⇒ the same node, however and in
// whatever order it was built, so `===` is structural equality and a DAG never holds a copy.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as b from '../src/ir/build.js';
import { Node, countNodes, mapDag, stableJson, topoSort, withArgs } from '../src/ir/node.js';
import { NameHints } from '../src/ir/names.js';
import { expectError, lowerSource } from './helpers/source.js';

const x = b.input('x', ['N', 'D']);
const y = b.input('y', ['N', 'D']);
const c = b.constant;

describe('hash-consing', () => {
  it('the same op on the same arguments with the same attributes is the same node', () => {
    expect(b.add(x, y)).toBe(b.add(x, y));
    expect(b.exp(b.mul(x, c(2)))).toBe(b.exp(b.mul(x, c(2))));
    expect(b.input('x', ['N', 'D'])).toBe(x);
    expect(c(0.5)).toBe(c(0.5));
    expect(b.param('gamma', 2)).toBe(b.param('gamma', 2));
    expect(b.tensorConst([1, 2, 3, 4], [2, 2])).toBe(b.tensorConst([1, 2, 3, 4], [2, 2]));
  });

  it('different arguments, order, attributes or dtypes are different nodes', () => {
    expect(b.sub(x, y)).not.toBe(b.sub(y, x));
    expect(b.add(x, y)).not.toBe(b.add(y, x)); // no commutativity here: that is the rewriter's job
    expect(b.input('x', ['N', 3])).not.toBe(x);
    expect(b.input('x', ['N', 'D'], 'int32')).not.toBe(x);
    expect(c(1)).not.toBe(c(1, 'int32'));
    expect(c(1, 'int32')).not.toBe(c(1, 'bool'));
    expect(b.param('gamma', 2)).not.toBe(b.param('gamma', 3));
    expect(b.param('gamma', 2)).not.toBe(c(2));
    expect(b.reduce('sum', x, [0])).not.toBe(b.reduce('sum', x, [1]));
    expect(b.reduce('sum', x, [1], true)).not.toBe(b.reduce('sum', x, [1], false));
  });

  it('0 and -0 are one constant, and a NaN constant is refused', () => {
    expect(c(-0)).toBe(c(0));
    expectError(() => c(NaN), 'value', 'cannot be NaN');
    expect(c(Infinity)).toBe(c(Infinity));
    expect(c(Infinity)).not.toBe(c(-Infinity));
  });

  it('constants are float32 numbers: values that round to the same float32 are one node', () => {
    expect(c(0.1)).toBe(c(Math.fround(0.1)));
    expect(c(1e-7).attrs.value).toBe(Math.fround(1e-7));
    expect(c(2.7, 'int32')).toBe(c(2, 'int32'));
  });

  it('attribute order never splits a node', () => {
    expect(Node.make('part', [x], { axis: 1, parts: 2, index: 0 })).toBe(Node.make('part', [x], { index: 0, parts: 2, axis: 1 }));
    expect(stableJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe(stableJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
    expect(stableJson({ a: undefined, b: 1 })).toBe(stableJson({ b: 1 }));
  });

  it('axes are canonical: negative or positive, listed or none, keepdims implicit or explicit', () => {
    expect(Node.make('sum', [x], { axes: [-1] })).toBe(b.reduce('sum', x, [1]));
    expect(Node.make('sum', [x], { axes: [1], keepdims: false })).toBe(Node.make('sum', [x], { axes: [-1] }));
    expect(Node.make('mean', [x], { axes: null })).toBe(b.reduce('mean', x, [0, 1]));
    expect(Node.make('max', [x], { axes: [1, 0] })).toBe(b.reduce('max', x, null));
    expect(Node.make('size', [x], { axes: [-1] })).toBe(b.size(x, [1]));
    expect(Node.make('indices', [x], { axis: -1 })).toBe(Node.make('indices', [x], { axis: 1 }));
    expect(Node.make('expand_dims', [x], { axis: -1 })).toBe(b.expandDims(x, 2));
    expect(Node.make('squeeze', [b.expandDims(x, 2)], { axis: -1 })).toBe(b.squeeze(b.expandDims(x, 2), 2));
    expect(Node.make('part', [x], { axis: -1, parts: 2, index: 0 })).toBe(Node.make('part', [x], { axis: 1, parts: 2, index: 0 }));
    expect(Node.make('concat', [x, y], { axis: -1 })).toBe(Node.make('concat', [x, y], { axis: 1 }));
    const l = b.input('l', ['N'], 'int32');
    expect(Node.make('one_hot', [l, x], { axis: -1 })).toBe(Node.make('one_hot', [l, x], { axis: 1 }));
    expect(Node.make('indices', [x], { axis: -1 }).attrs.axis).toBe(1);
  });

  it('a structurally equal DAG built twice, in a different order, is the same node', () => {
    const build = (order: number[]) => {
      const parts: Record<number, () => void> = {};
      let d = c(0);
      let e = c(0);
      parts[0] = () => (d = b.sigmoid(b.sub(x, y)));
      parts[1] = () => (e = b.reduce('logsumexp', b.mul(x, c(3)), [-1], true));
      for (const k of order) parts[k]!();
      return b.div(b.add(d, e), b.size(x, [-1]));
    };
    expect(build([0, 1])).toBe(build([1, 0]));
  });

  it('random formulas built twice are the same node', () => {
    // A formula as data, so that it can be built twice from scratch.
    type F = string | [string, F] | [string, F, F];
    const formula: fc.Arbitrary<F> = fc.letrec<{ f: F }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('x', 'y', '0.5', '2'),
        fc.tuple(fc.constantFrom('exp', 'neg', 'sigmoid', 'sum'), tie('f')) as fc.Arbitrary<F>,
        fc.tuple(fc.constantFrom('add', 'sub', 'mul', 'div', 'maximum'), tie('f'), tie('f')) as fc.Arbitrary<F>,
      ),
    })).f;
    const build = (f: F): ReturnType<typeof b.add> => {
      if (typeof f === 'string') return f === 'x' ? b.input('x', ['N', 'D']) : f === 'y' ? b.input('y', ['N', 'D']) : c(Number(f));
      if (f.length === 2) return f[0] === 'sum' ? b.reduce('sum', build(f[1]), null, true) : b.unary(f[0] as 'exp', build(f[1]));
      return b.binary(f[0] as 'add', build(f[1]), build(f[2]));
    };
    fc.assert(
      fc.property(formula, (f) => {
        const one = build(f);
        const two = build(JSON.parse(JSON.stringify(f)) as F);
        expect(two).toBe(one);
        expect(two.id).toBe(one.id);
        // Every node of the DAG appears once.
        const nodes = topoSort([one]);
        expect(new Set(nodes.map((n) => n.key)).size).toBe(nodes.length);
      }),
      { numRuns: 200 },
    );
  });

  it('lowering the same source twice gives the same node; so do two spellings of one formula', () => {
    const src = 'loss t(y_true, y_pred) =\n  let e = y_pred - y_true\n  mean(e * e, axis = -1)';
    expect(lowerSource(src, 't').value).toBe(lowerSource(src, 't').value);
    expect(lowerSource('loss t(y_true, y_pred) = mean((y_pred - y_true) * (y_pred - y_true), axis = 1)', 't').value).toBe(
      lowerSource(src, 't').value,
    );
  });

  it('nodes are frozen', () => {
    const n = b.add(x, y);
    expect(Object.isFrozen(n)).toBe(true);
    expect(Object.isFrozen(n.args)).toBe(true);
    expect(Object.isFrozen(n.attrs)).toBe(true);
    expect(Object.isFrozen(n.shape)).toBe(true);
  });

  it('a name hint lives beside the node, in its lowering\'s table, and never splits it', () => {
    const n = b.mul(x, c(7.5));
    const hints = new NameHints();
    hints.set(n, 'scaled');
    expect(b.mul(x, c(7.5))).toBe(n);
    expect(hints.get(b.mul(x, c(7.5)))).toBe('scaled');
    expect(new NameHints().get(n)).toBeUndefined(); // another lowering's table does not see it
    hints.set(x, 'leaf'); // leaves keep their own names
    expect(hints.get(x)).toBeUndefined();
  });

  it('arity is checked', () => {
    expectError(() => Node.make('add', [x]), 'arity', 'takes 2 argument(s), got 1');
  });
});

describe('DAG utilities', () => {
  it('topoSort lists each node once, arguments first', () => {
    const s = b.sub(x, y);
    const root = b.mul(s, b.exp(s));
    const order = topoSort([root]);
    expect(order.length).toBe(5);
    expect(countNodes([root])).toBe(5);
    for (const n of order) for (const a of n.args) expect(order.indexOf(a)).toBeLessThan(order.indexOf(n));
  });

  it('handles a 100 000-deep chain without recursion', () => {
    let n = x;
    for (let i = 0; i < 100_000; i++) n = b.add(n, c(i % 7));
    expect(countNodes([n])).toBe(100_000 + 1 + 7);
  });

  it('mapDag rebuilds bottom-up, and an identity map keeps every node', () => {
    const root = b.add(b.exp(x), b.mul(x, y));
    expect(mapDag([root], (n, args) => withArgs(n, args))[0]).toBe(root);
    const swapped = mapDag([root], (n, args) => (n === x ? y : withArgs(n, args)))[0];
    expect(swapped).toBe(b.add(b.exp(y), b.mul(y, y)));
  });

  it('withArgs returns the node itself when nothing changed', () => {
    const n = b.add(x, y);
    expect(withArgs(n, [x, y])).toBe(n);
    expect(withArgs(n, [y, x])).toBe(b.add(y, x));
  });

  it('broadcastLike is a no-op when the shape already fits', () => {
    expect(b.broadcastLike(x, y)).toBe(x);
    expect(b.broadcastLike(c(0), x).op).toBe('broadcast_like');
  });
});
