// Gradients of `part`, `split` and `concat`: the adjoint of one part among many joins it with the
// zeros of the others in a few coarser parts (not one node per part), and a loss that cuts the
// batch axis into parts keeps one fused kernel for every batch size (its part sizes are the
// signature's quotient atoms, s0/3, which the fused target once refused: a kernel per shape).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile } from '../src/index.js';
import { grad } from '../src/autodiff/grad.js';
import { fusedKernelsGenerated } from '../src/compile/fused.js';
import * as b from '../src/ir/build.js';
import { Node, topoSort } from '../src/ir/node.js';
import { rng } from './helpers/numeric.js';

const floats = (r: () => number, n: number) => Array.from({ length: n }, () => 4 * r() - 2);
const count = (roots: Node[], op: string) => topoSort(roots).filter((n) => n.op === op).length;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
  }
}

describe('the adjoint of parts in few nodes', () => {
  it('part 1 of 1000 along a symbolic axis: a dozen parts, and the concat is the whole axis again', () => {
    const x = b.input('y_pred', ['s0', 3]);
    const [g] = grad(b.reduce('sum', Node.make('part', [x], { axis: 0, parts: 1000, index: 1 }), null), [x]);
    expect(g!.shape).toEqual(['s0', 3]);
    expect(count([g!], 'part')).toBeLessThanOrEqual(20);
    expect(count([g!], 'part')).toBeGreaterThan(1);
  });

  it('part 1 of 997 (a prime: no coarser split) still joins into the whole axis', () => {
    const x = b.input('y_pred', [2991, 2]);
    const [g] = grad(b.reduce('sum', Node.make('part', [x], { axis: 0, parts: 997, index: 1 }), null), [x]);
    expect(g!.shape).toEqual([2991, 2]);
  });

  it('concat of sizes 1 and 1024: each operand takes its pieces of the adjoint in a few parts', () => {
    const x = b.input('y_pred', [3, 1024]);
    const first = Node.make('part', [x], { axis: 1, parts: 1024, index: 0 });
    const [g] = grad(b.reduce('sum', Node.make('concat', [first, x], { axis: 1 }), null), [x]);
    expect(g!.shape).toEqual([3, 1024]);
    expect(count([g!], 'part')).toBeLessThanOrEqual(80); // one per unit piece was 2049
  });
});

describe('losses that cut the batch axis', () => {
  const SOURCE = [
    'loss halves(y_true, y_pred) =',
    '  let [a, b] = split(y_pred, 2, axis = 0)',
    '  mean((a - b) ^ 2) + mean(part(y_pred, index = 2, parts = 3, axis = 0) * part(y_true, index = 0, parts = 3, axis = 0))',
    'loss far(y_true, y_pred) = mean(part(y_pred, index = 1, parts = 1000, axis = 0) * part(y_true, index = 1, parts = 1000, axis = 0))',
    'loss prime(y_true, y_pred) = mean(part(y_pred, index = 1, parts = 997, axis = 0) * part(y_true, index = 1, parts = 997, axis = 0))',
    'loss joined(y_true, y_pred) = sum(concat([part(y_pred, index = 0, parts = 8) * 3, y_pred]) * concat([part(y_true, index = 0, parts = 8), y_true]))',
  ].join('\n');
  const lib = compile(SOURCE).losses;

  /** The fast path's value and gradient against the general path's (a sample weight of 1 takes it). */
  function agree(name: string, n: number, c: number, seed: number): void {
    const f = lib[name]!();
    const r = rng(seed);
    const yt = tf.tensor(floats(r, n * c), [n, c]);
    const yp = tf.tensor(floats(r, n * c), [n, c]);
    const run = (w: number | undefined) =>
      tf.tidy(() => {
        const { value, grad: g } = tf.valueAndGrad((p: tf.Tensor) => f(yt, p, w) as tf.Scalar)(yp);
        return [value, g].map((t) => Array.from(t.dataSync()));
      });
    const fast = run(undefined);
    const general = run(1);
    fast.forEach((got, i) => expectClose(got, general[i]!, `${name} at [${n}, ${c}], result ${i}`));
    tf.dispose([yt, yp]);
  }

  it('split and part along the batch axis: right at every batch size, code made for the first only', async () => {
    await tf.setBackend('cpu');
    agree('halves', 6, 4, 1);
    const after = fusedKernelsGenerated();
    for (const [k, n] of [12, 18, 30, 6, 24, 12].entries()) agree('halves', n, 4, 2 + k);
    expect(fusedKernelsGenerated()).toBe(after);
  });

  it('one part of 1000 and of 997: right, and new batch sizes make no code', async () => {
    await tf.setBackend('cpu');
    agree('far', 3000, 2, 11);
    agree('prime', 2991, 2, 12);
    const after = fusedKernelsGenerated();
    agree('far', 2000, 2, 13);
    agree('prime', 1994, 2, 14);
    expect(fusedKernelsGenerated()).toBe(after);
    // the gradient is the mean's 1/6 on rows 3..5 (the part's rows), y_true being ones
    const yt = tf.ones([3000, 2]);
    const g = tf.grad((p: tf.Tensor) => lib.far!()(yt, p) as tf.Scalar)(tf.zeros([3000, 2]));
    const data = Array.from(g.dataSync());
    expect(data.slice(4, 12).map((v) => +v.toFixed(6))).toEqual([0, 0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6].map((v) => +v.toFixed(6)));
    expect(data.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    tf.dispose([yt, g]);
  });

  it('every part of 4, 6, 8 and 12 along either axis: the gradient is y_true on the part, 0 elsewhere', async () => {
    await tf.setBackend('cpu');
    for (const parts of [4, 6, 8, 12]) {
      for (const axis of [0, 1]) {
        const shape = axis === 0 ? [2 * parts, 3] : [3, 2 * parts];
        const r = rng(parts + axis);
        const t = floats(r, 6 * parts);
        const yt = tf.tensor(t, shape);
        for (let index = 0; index < parts; index++) {
          const src = `loss f(y_true, y_pred) = mean(part(y_pred, index = ${index}, parts = ${parts}, axis = ${axis}) * part(y_true, index = ${index}, parts = ${parts}, axis = ${axis}))`;
          const f = compile(src).losses.f!();
          const inPart = (i: number) => Math.floor((axis === 0 ? Math.floor(i / 3) : i % (2 * parts)) / 2) === index;
          const want = t.map((v, i) => (inPart(i) ? v / 6 : 0));
          for (const w of [undefined, 1]) {
            const g = tf.grad((p: tf.Tensor) => f(yt, p, w) as tf.Scalar)(tf.zeros(shape));
            expectClose(g.dataSync(), want, `part ${index} of ${parts} along ${axis}${w ? ', general path' : ''}`);
            g.dispose();
          }
        }
        yt.dispose();
      }
    }
  });

  it('concat of a part and its whole: right', async () => {
    await tf.setBackend('cpu');
    agree('joined', 5, 16, 21);
    agree('joined', 7, 64, 22);
  });
});
