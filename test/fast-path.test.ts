// The fast path (src/compile/fast.ts): a reduced loss and its gradient from one generated
// function, reading the tensors' memory in place (a view of the wasm heap on wasm) and writing
// the gradient straight into a new tensor. Checked on cpu and wasm against the general tfjs
// path of the same loss (a sample weight of 1 sends a call there): values, gradients for
// y_pred, y_true or both, a scaled and a doubled loss, heap growth between calls, and no
// leaked tensor or data buffer.
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { losses, type LossFactory, type LossFunction } from '../src/index.js';
import { FastPath } from '../src/compile/fast.js';
import { rng } from './helpers/numeric.js';

interface Case {
  name: string;
  opts: Record<string, unknown>;
  t: number[];
  p: number[];
  labels: (r: () => number, n: number, shape: number[]) => tf.Tensor;
}

const floats = (r: () => number, n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r());
/** The same values as `floats`, straight into a Float32Array (millions of them: no boxed array to build and convert). */
function floats32(r: () => number, n: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}
const zeroOne = (r: () => number, n: number, shape: number[]) => tf.tensor(floats(r, n, 0, 1).map((v) => (v < 0.5 ? 0 : 1)), shape);
const oneHot = (r: () => number, _n: number, shape: number[]) => tf.oneHot(tf.tensor1d(floats(r, shape[0]!, 0, shape[1]!).map(Math.floor), 'int32'), shape[1]!).asType('float32');

const CASES: Case[] = [
  { name: 'mean_squared_error', opts: {}, t: [6, 5], p: [6, 5], labels: (r, n, s) => tf.tensor(floats(r, n, -2, 2), s) },
  { name: 'binary_crossentropy', opts: {}, t: [6, 5], p: [6, 5], labels: zeroOne },
  { name: 'binary_crossentropy', opts: { from_logits: true, label_smoothing: 0.1 }, t: [6, 5], p: [6, 5], labels: zeroOne },
  { name: 'categorical_crossentropy', opts: { from_logits: true }, t: [6, 5], p: [6, 5], labels: oneHot },
  { name: 'sparse_categorical_crossentropy', opts: { from_logits: true }, t: [6], p: [6, 5], labels: (r, _n, s) => tf.tensor(floats(r, s[0]!, 0, 5).map(Math.floor), s, 'int32') },
  { name: 'focal_loss', opts: { from_logits: true }, t: [6, 5], p: [6, 5], labels: zeroOne },
  { name: 'huber', opts: { delta: 0.5 }, t: [6, 5], p: [6, 5], labels: (r, n, s) => tf.tensor(floats(r, n, -2, 2), s) },
  { name: 'triplet_loss', opts: {}, t: [6, 1], p: [6, 6], labels: (_r, n, s) => tf.zeros(s) },
];

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
  }
}

/** Loss values and gradients, through the fast path and (sample weight 1) through the general one. */
function results(f: LossFunction, yt: tf.Tensor, yp: tf.Tensor, weight: number | undefined): number[][] {
  return tf.tidy(() => {
    const call = (a: tf.Tensor, b: tf.Tensor) => f(a, b, weight) as tf.Scalar;
    const value = call(yt, yp);
    const { value: v2, grad: gp } = tf.valueAndGrad((p: tf.Tensor) => call(yt, p))(yp);
    const gScaled = tf.grad((p: tf.Tensor) => tf.mul(call(yt, p), 3) as tf.Scalar)(yp);
    const gTwice = tf.grad((p: tf.Tensor) => tf.add(call(yt, p), call(yt, p)) as tf.Scalar)(yp);
    const out = [value, v2, gp, gScaled, gTwice].map((t) => Array.from(t.dataSync()));
    if (yt.dtype === 'float32') {
      const gt = tf.grad((t: tf.Tensor) => call(t, yp))(yt);
      const both = tf.grads((t: tf.Tensor, p: tf.Tensor) => call(t, p))([yt, yp]);
      out.push(Array.from(gt.dataSync()), ...both.map((g) => Array.from(g.dataSync())));
    }
    return out;
  });
}

describe.each(['cpu', 'wasm'])('the fast path on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of CASES) {
    it(`${c.name} ${JSON.stringify(c.opts)}: value and every gradient as the general path, nothing leaked`, async () => {
      await tf.setBackend(backend);
      const r = rng(11);
      const yt = c.labels(r, size(c.t), c.t);
      const yp = tf.tensor(floats(r, size(c.p), -3, 3), c.p);
      const f = (losses as unknown as Record<string, LossFactory>)[c.name]!(c.opts);
      results(f, yt, yp, undefined); // compile and cache first
      const before = tf.memory();
      const idsBefore = tf.backend().numDataIds(); // the backend's own count (wasm: heap buffers)
      const spy = vi.spyOn(FastPath.prototype, 'tryCall');
      const fast = results(f, yt, yp, undefined);
      // every call took the fast path (none fell back to the general one)
      expect(spy.mock.results.length).toBeGreaterThan(0);
      expect(spy.mock.results.every((res) => res.value instanceof tf.Tensor)).toBe(true);
      spy.mockRestore();
      const general = results(f, yt, yp, 1);
      fast.forEach((got, i) => expectClose(got, general[i]!, `${c.name} result ${i}`));
      // value+grad gives the plain call's value; 3 * loss and loss + loss scale the gradient
      expectClose(fast[1]!, fast[0]!, 'value from valueAndGrad');
      expectClose(fast[3]!, fast[2]!.map((g) => 3 * g), 'gradient of 3 * loss');
      expectClose(fast[4]!, fast[2]!.map((g) => 2 * g), 'gradient of loss + loss');
      const after = tf.memory();
      expect(after.numTensors, 'tensors leaked').toBe(before.numTensors);
      expect(after.numDataBuffers, 'data buffers leaked').toBe(before.numDataBuffers);
      expect(after.numBytes, 'bytes leaked').toBe(before.numBytes);
      expect(tf.backend().numDataIds(), 'backend buffers leaked').toBe(idsBefore);
      tf.dispose([yt, yp]);
    });
  }

  it('inputs large enough to grow the wasm heap between calls: views are read after it grows', async () => {
    await tf.setBackend(backend);
    const f = losses.mean_squared_error!();
    const r = rng(5);
    for (const rows of [64, 65536, 262144]) {
      const shape = [rows, 16];
      const yt = tf.tensor(floats32(r, size(shape), -1, 1), shape);
      const yp = tf.tensor(floats32(r, size(shape), -1, 1), shape);
      const [fast, general] = [undefined, 1].map((w) =>
        tf.tidy(() => {
          const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => f(yt, p, w) as tf.Scalar)(yp);
          return [value.dataSync()[0]!, grad.dataSync().slice(0, 64), grad.dataSync().slice(-64)];
        }),
      );
      // tfjs sums a million float32 values in float32; the fused kernel sums in float64
      expect(Math.abs((fast![0] as number) - (general![0] as number))).toBeLessThan(1e-4 * (general![0] as number));
      expectClose(fast![1] as Float32Array, general![1] as Float32Array, `first gradients, ${rows} rows`);
      expectClose(fast![2] as Float32Array, general![2] as Float32Array, `last gradients, ${rows} rows`);
      tf.dispose([yt, yp]);
    }
  });

  it('a training step with optimizer.minimize moves the weights as the general path does', async () => {
    await tf.setBackend(backend);
    const f = losses.categorical_crossentropy!({ from_logits: true });
    const x = tf.tensor2d([[1, 2], [0.5, -1], [-1, 0.3]]);
    const y = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const step = (weight: number | undefined) => {
      const init = tf.tensor2d([[0.1, -0.2, 0.3], [0.0, 0.2, -0.1]]);
      const w = tf.variable(init);
      init.dispose();
      const opt = tf.train.sgd(0.5);
      for (let i = 0; i < 3; i++) opt.minimize(() => f(y, tf.matMul(x, w), weight) as tf.Scalar);
      const out = Array.from(w.dataSync());
      w.dispose();
      opt.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    expectClose(step(undefined), step(1), 'weights after 3 steps');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
