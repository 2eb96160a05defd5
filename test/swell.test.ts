// Expression swell: identical sub-expressions are one node, so the derivative of a loss nested
// k levels deep has O(k) nodes, not O(2^k). x_{j+1} = sigmoid(x_j * x_j + x_j) uses x_j three
// times per level; written out as a tree its derivative would double at every level.

import { describe, expect, it } from 'vitest';
import * as b from '../src/ir/build.js';
import { countNodes, type Node } from '../src/ir/node.js';
import { grad } from '../src/autodiff/grad.js';
import { derivative } from '../src/pipeline/derivative.js';
import { Library } from '../src/lower/library.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import { expectAllClose, numericGrad } from './helpers/numeric.js';
import { sig } from './helpers/source.js';

function nestedSource(levels: number): string {
  const lines = [`# x_{k+1} = sigmoid(x_k * x_k + x_k), ${levels} levels deep.`, 'loss deep(y_true, y_pred) =', '  let x0 = y_pred'];
  for (let k = 0; k < levels; k++) lines.push(`  let x${k + 1} = sigmoid(x${k} * x${k} + x${k})`);
  lines.push(`  mean((x${levels} - y_true)^2, axis = -1)`);
  return lines.join('\n');
}

function nestedIR(levels: number): { out: Node; x: Node } {
  const x = b.input('x', [2, 3]);
  let v = x;
  for (let k = 0; k < levels; k++) v = b.sigmoid(b.add(b.mul(v, v), v));
  return { out: b.reduce('sum', v, null), x };
}

describe('derivatives do not swell', () => {
  it('the raw reverse-mode gradient grows linearly with depth', () => {
    const sizes = [25, 50, 100].map((k) => {
      const { out, x } = nestedIR(k);
      return countNodes(grad(out, [x]));
    });
    // Linear: doubling the depth at most doubles the size (plus a constant).
    expect(sizes[1]! / sizes[0]!).toBeLessThan(2.1);
    expect(sizes[2]! / sizes[1]!).toBeLessThan(2.1);
    // A constant number of nodes per level.
    expect((sizes[2]! - sizes[1]!) / 50).toBeCloseTo((sizes[1]! - sizes[0]!) / 25, 5);
  });

  it('the simplified derivative of a 50-level loss has about twice the nodes of a 25-level one', () => {
    const d25 = derivative('deep', 'y_pred', { library: Library.fromSource(nestedSource(25), 'deep25.loss') });
    const d50 = derivative('deep', 'y_pred', { library: Library.fromSource(nestedSource(50), 'deep50.loss') });
    expect(d25.size).toBeGreaterThan(25);
    expect(d50.size / d25.size).toBeGreaterThan(1.5);
    expect(d50.size / d25.size).toBeLessThan(2.2);
    // And so does its printed text (shared nodes become lets, never repeated).
    const t25 = d25.toString().length;
    const t50 = d50.toString().length;
    expect(t50 / t25).toBeLessThan(2.3);
  });

  it('the raw (unsimplified) derivative of the lowered loss is linear too', () => {
    const r25 = derivative('deep', 'y_pred', { library: Library.fromSource(nestedSource(25), 'deep25.loss'), raw: true });
    const r50 = derivative('deep', 'y_pred', { library: Library.fromSource(nestedSource(50), 'deep50.loss'), raw: true });
    expect(r50.size / r25.size).toBeLessThan(2.2);
  });

  it('the deep derivative is still correct', () => {
    const lib = Library.fromSource(nestedSource(50), 'deep50.loss');
    const signature = sig({ y_true: [1, 3], y_pred: [1, 3] });
    const d = derivative('deep', 'y_pred', { library: lib, signature });
    const inputs = { y_true: fromData([1, 3], [0.2, 0.5, 0.9]), y_pred: fromData([1, 3], [-0.3, 0.1, 0.7]) };
    const got = evaluate(d.grads, inputs)[0]!;
    expectAllClose(got.data, numericGrad(d.lowered.value, 'y_pred', inputs, 1e-6), 1e-6, 'deep derivative');
  });

  it('second derivatives stay linear as well', () => {
    const sizes = [20, 40].map((k) => {
      const { out, x } = nestedIR(k);
      const [g] = grad(out, [x]);
      const [h] = grad(b.reduce('sum', g!, null), [x]);
      return countNodes([h!]);
    });
    expect(sizes[1]! / sizes[0]!).toBeLessThan(2.2);
  });

  it('lowering shares what the source shares: a let used three times is one node', () => {
    const lib = Library.fromSource(nestedSource(30), 'deep30.loss');
    const d = derivative('deep', 'y_pred', { library: lib, raw: true });
    // The loss itself: a handful of nodes per level, not 3^30.
    expect(countNodes([d.lowered.value])).toBeLessThan(30 * 4 + 20);
  });
});
