// The unary ops cosh, sinh, cos and sin (sin is cos's derivative): callable as builtins, their
// value and gradient through a compiled loss on both paths (the fused fast path and the
// op-by-op tfjs path, which a sample weight sends a call to) against the float64 reference and
// central finite differences of it, the printed derivative and its LaTeX, and the Python export.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, derivative, exportLoss, EXPORT_TARGETS, Library, type LossFactory } from '../src/index.node.js';
import { FastPath } from '../src/compile/fast.js';
import { Lowerer } from '../src/lower/lower.js';
import { bindSignature } from '../src/lower/signature.js';
import { evaluate } from '../src/eval/reference.js';
import * as b from '../src/ir/build.js';
import { rng } from './helpers/numeric.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const OPS = [
  { op: 'cosh', f: Math.cosh, df: Math.sinh, grad: 'y_true * sinh(y_pred)', latex: 'y_{\\mathrm{true}} \\cdot \\sinh(y_{\\mathrm{pred}})' },
  { op: 'sinh', f: Math.sinh, df: Math.cosh, grad: 'y_true * cosh(y_pred)', latex: 'y_{\\mathrm{true}} \\cdot \\cosh(y_{\\mathrm{pred}})' },
  { op: 'cos', f: Math.cos, df: (x: number) => -Math.sin(x), grad: '-(y_true * sin(y_pred))', latex: '-\\left(y_{\\mathrm{true}} \\cdot \\sin(y_{\\mathrm{pred}})\\right)' },
  { op: 'sin', f: Math.sin, df: Math.cos, grad: 'y_true * cos(y_pred)', latex: 'y_{\\mathrm{true}} \\cdot \\cos(y_{\\mathrm{pred}})' },
] as const;

const source = (op: string) => `loss f(y_true, y_pred) = ${op}(y_pred) * y_true`;
const SHAPE = [4, 3];

/** The loss (summed over the batch, as the tests below reduce it) in float64 by the reference evaluator. */
function reference(op: string, yt: number[], yp: number[]): number {
  const lib = Library.fromSource(source(op), 'ops.loss');
  const def = lib.get('f')!.def;
  const sig = bindSignature(def, { y_true: { shape: SHAPE }, y_pred: { shape: SHAPE } });
  const lowered = new Lowerer(lib, false).lowerTop(def, {}, sig);
  const total = b.reduce('sum', lowered.value, null);
  const arr = (v: number[]) => ({ shape: SHAPE, dtype: 'float32' as const, data: Float64Array.from(v) });
  return evaluate([total], { y_true: arr(yt), y_pred: arr(yp) })[0]!.data[0]!;
}

/** d reference / d y_pred by central differences. */
function finiteDifference(op: string, yt: number[], yp: number[]): number[] {
  return yp.map((v, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    const at = (d: number) => reference(op, yt, yp.map((x, i) => (i === k ? x + d : x)));
    return (at(h) - at(-h)) / (2 * h);
  });
}

function expectClose(got: ArrayLike<number>, want: readonly number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
  }
}

describe.each(OPS)('$op', ({ op, f, df, grad, latex }) => {
  const r = rng(op.length * 7 + 1);
  const n = SHAPE[0]! * SHAPE[1]!;
  const yt = Array.from({ length: n }, () => -1 + 2 * r());
  const yp = Array.from({ length: n }, () => -2.5 + 5 * r());

  it('the reference evaluator computes it in float64', () => {
    expect(reference(op, yt, yp)).toBeCloseTo(yt.reduce((s, t, i) => s + t * f(yp[i]!), 0), 12);
    expect(finiteDifference(op, yt, yp).every((g, i) => Math.abs(g - yt[i]! * df(yp[i]!)) < 1e-6)).toBe(true);
  });

  for (const path of ['fused', 'op-by-op'] as const) {
    it(`value and gradient on the ${path} path agree with the reference and its finite differences`, () => {
      const make = compile(source(op)).f as LossFactory;
      const loss = make({ reduction: 'sum' });
      const weight = path === 'fused' ? undefined : tf.ones(SHAPE);
      const spy = vi.spyOn(FastPath.prototype, 'tryCall');
      const [value, gradient] = tf.tidy(() => {
        const t = tf.tensor(yt, SHAPE);
        const { value: v, grad: g } = tf.valueAndGrad((p: tf.Tensor) => loss(t, p, weight) as tf.Scalar)(tf.tensor(yp, SHAPE));
        return [v.dataSync()[0]!, Array.from(g.dataSync())];
      });
      const fast = spy.mock.results.some((res) => res.value instanceof tf.Tensor);
      spy.mockRestore();
      weight?.dispose();
      expect(fast, 'which path ran').toBe(path === 'fused');
      expect(value).toBeCloseTo(reference(op, yt, yp), 4);
      expectClose(gradient, finiteDifference(op, yt, yp), 'gradient');
    });
  }

  it('prints its derivative, as lossc and as LaTeX', () => {
    const d = derivative('f', 'y_pred', { library: Library.fromSource(source(op), 'ops.loss') });
    expect(d.toString()).toBe(grad);
    expect(d.toLatex()).toBe(`\\frac{\\partial \\mathcal{L}}{\\partial y_{\\mathrm{pred}}} = ${latex}`);
  });

  it('exports to Python as the array module function of the same name (run in test/export-python.test.ts)', () => {
    const module = { numpy: 'np', pytorch: 'torch', jax: 'jnp', keras: 'ops' } as const;
    for (const t of EXPORT_TARGETS) expect(exportLoss(source(op), t), t).toContain(`${module[t]}.${op}(y_pred)`);
  });
});
