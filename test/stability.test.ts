// Numerical stability: a loss written naively from a paper is computed, and differentiated,
// stably. The binary cross-entropy of logits written with log(sigmoid(z)) has a derivative that
// is finite and correct at z = ±100, in float64 and in float32 (emulated by rounding every
// intermediate value), because the stabilising rewrites remove log(sigmoid(..)) first.

import { describe, expect, it } from 'vitest';
import { Library } from '../src/lower/library.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { derivative } from '../src/pipeline/derivative.js';
import { grad } from '../src/autodiff/grad.js';
import { rewrite } from '../src/rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../src/rewrite/rules.js';
import { topoSort, type Node } from '../src/ir/node.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import { printBody } from '../src/print/text.js';
import { evaluateFloat32, expectAllClose } from './helpers/numeric.js';
import { sig } from './helpers/source.js';

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Does the DAG contain op `outer` applied directly to op `inner`? */
function contains(root: Node | Node[], outer: string, inner: string): boolean {
  return topoSort(Array.isArray(root) ? root : [root]).some((n) => n.op === outer && n.args.some((a) => a.op === inner));
}

const NAIVE_BCE = `
# Binary cross-entropy of logits, written as in a textbook.
loss naive_bce(y, z) = -mean(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
`;

describe('the naive binary cross-entropy of logits', () => {
  const lib = Library.fromSource(NAIVE_BCE, 'naive.loss');
  const shapes = sig({ y: [1, 4], z: [1, 4] });
  const zs = [100, -100, 30, -0.5];
  const ys = [0, 1, 1, 0];
  const inputs = { y: fromData([1, 4], ys), z: fromData([1, 4], zs) };
  // d/dz mean(...) = (sigmoid(z) - y) / 4.
  const expected = zs.map((z, i) => (sigmoid(z) - ys[i]!) / 4);

  it('as written, its raw derivative is not finite at z = ±100 (the problem)', () => {
    const raw = derivative('naive_bce', 'z', { library: lib, raw: true, signature: shapes });
    expect(contains(raw.value, 'log', 'sigmoid')).toBe(true);
    const f32 = evaluateFloat32(raw.grads, inputs)[0]!;
    expect([...f32.data].some((v) => !Number.isFinite(v))).toBe(true);
  });

  it('its simplified derivative no longer contains log(sigmoid(..)) or log(1 - sigmoid(..))', () => {
    const d = derivative('naive_bce', 'z', { library: lib, signature: shapes });
    expect(contains(d.value, 'log', 'sigmoid')).toBe(false);
    expect(topoSort([d.value]).some((n) => n.op === 'log' && n.args[0]!.op === 'sub')).toBe(false);
    expect(contains(d.grads, 'log', 'sigmoid')).toBe(false);
    expect(d.fired.map((f) => f.rule)).toEqual(expect.arrayContaining(['log-sigmoid', 'log-one-minus-sigmoid']));
    // Printed, it reads as the derivative a person would write, with no logarithm in it.
    expect(d.toString()).not.toContain('log');
    expect(d.toString()).toContain('sigmoid');
  });

  it('its derivative is finite and correct at z = ±100 in float64', () => {
    const d = derivative('naive_bce', 'z', { library: lib, signature: shapes });
    const v = evaluate(d.grads, inputs)[0]!;
    expect([...v.data].every(Number.isFinite)).toBe(true);
    expectAllClose(v.data, expected, 1e-12, 'float64');
  });

  it('its derivative is finite and correct at z = ±100 in float32', () => {
    const d = derivative('naive_bce', 'z', { library: lib, signature: shapes });
    const v = evaluateFloat32(d.grads, inputs)[0]!;
    expect([...v.data].every(Number.isFinite)).toBe(true);
    expectAllClose(v.data, expected, 1e-6, 'float32');
  });

  it('its value, stabilised, is finite and correct at z = ±100 in float32', () => {
    const lowered = lowerDefinition(lib, 'naive_bce', { signature: shapes });
    const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    const want = zs.reduce((s, z, i) => s + softplus(z) - z * ys[i]!, 0) / 4;
    const naive = evaluateFloat32([lowered.value], inputs)[0]!.data[0]!;
    expect(Number.isFinite(naive)).toBe(false);
    const [stable] = rewrite([lowered.value], STABILIZE_RULES);
    const v = evaluateFloat32([stable!], inputs)[0]!.data[0]!;
    expect(Math.abs(v - want)).toBeLessThan(1e-5 * want);
  });

  it('at moderate logits every form agrees with the exact derivative', () => {
    const d = derivative('naive_bce', 'z', { library: lib, signature: shapes });
    const raw = derivative('naive_bce', 'z', { library: lib, raw: true, signature: shapes });
    const mid = { y: fromData([1, 4], [0, 1, 0.3, 1]), z: fromData([1, 4], [-3, 2, 0.1, 5]) };
    const want = [-3, 2, 0.1, 5].map((z, i) => (sigmoid(z) - [0, 1, 0.3, 1][i]!) / 4);
    expectAllClose(evaluate(raw.grads, mid)[0]!.data, want, 1e-10, 'raw');
    expectAllClose(evaluate(d.grads, mid)[0]!.data, want, 1e-12, 'simplified');
  });
});

describe('other naive forms', () => {
  it('categorical cross-entropy through log(softmax) has a finite derivative for huge logits', () => {
    const lib = Library.fromSource(
      'loss naive_cce(y, z) = -sum(y * log(exp(z) / sum(exp(z), axis = -1, keepdims = true)), axis = -1)',
      'cce.loss',
    );
    const d = derivative('naive_cce', 'z', { library: lib, signature: sig({ y: [1, 3], z: [1, 3] }) });
    const inputs = { y: fromData([1, 3], [0, 1, 0]), z: fromData([1, 3], [1000, 0, -1000]) };
    for (const v of [evaluate(d.grads, inputs)[0]!, evaluateFloat32(d.grads, inputs)[0]!]) {
      expect([...v.data].every(Number.isFinite), printBody(d.grads[0]!).text).toBe(true);
      expectAllClose(v.data, [1, -1, 0], 1e-6);
    }
  });

  it('log(1 + exp(x)) becomes softplus, whose derivative stays finite', () => {
    const lib = Library.fromSource('loss sp(y, z) = sum(log(1 + exp(z)) - y * z, axis = -1)', 'sp.loss');
    const d = derivative('sp', 'z', { library: lib, signature: sig({ y: [1, 2], z: [1, 2] }) });
    expect(d.value.args.length).toBeGreaterThan(0);
    expect(contains(d.value, 'log', 'add')).toBe(false);
    const inputs = { y: fromData([1, 2], [1, 0]), z: fromData([1, 2], [200, -200]) };
    const v = evaluateFloat32(d.grads, inputs)[0]!;
    expectAllClose(v.data, [0, 0], 1e-6);
  });

  it('the built-in binary_crossentropy from logits differentiates to sigmoid(z) - y without overflow', () => {
    const lowered = lowerDefinition(Library.stdlib(), 'binary_crossentropy', {
      options: { from_logits: true },
      signature: sig({ y_true: [1, 2], y_pred: [1, 2] }),
    });
    const [stable] = rewrite([lowered.value], STABILIZE_RULES);
    const [g] = rewrite(grad(stable!, [lowered.inputs[1]!]), ALL_RULES);
    const inputs = { y_true: fromData([1, 2], [0, 1]), y_pred: fromData([1, 2], [100, -100]) };
    expectAllClose(evaluateFloat32([g!], inputs)[0]!.data, [0.5, -0.5], 1e-6);
  });
});

describe('the float32 emulation itself', () => {
  it('overflows and cancels as float32 does', () => {
    const lib = Library.fromSource('loss t(y, z) = exp(z) + (1 - sigmoid(z)) * y', 't.loss');
    const l = lowerDefinition(lib, 't', { signature: sig({ y: [2], z: [2] }) });
    const inputs = { y: fromData([2], [1, 1]), z: fromData([2], [100, 20]) };
    const f64 = evaluate([l.value], inputs)[0]!.data;
    const f32 = evaluateFloat32([l.value], inputs)[0]!.data;
    expect(Number.isFinite(f64[0]!)).toBe(true);
    expect(f32[0]).toBe(Infinity);
    expect(f32[1]).toBe(Math.fround(Math.fround(Math.exp(20)) + 0));
  });
});
