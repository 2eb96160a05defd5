// Shape-polymorphic fused kernels (issue 13 item 1): the fast path lowers a loss once per shape
// signature (sizes other than 1 as symbols) and its generated kernels take the call's sizes, so
// many batch sizes in rotation are right (values and gradients as the general tfjs path) and
// generate code once per signature; the kernels' scratch comes from a per-call pool that keeps a
// bounded amount between calls.
import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile, losses, type LossFactory } from '../src/index.js';
import { FastPath } from '../src/compile/fast.js';
import { fuse, fusedKernelsGenerated } from '../src/compile/fused.js';
import { KEEP_BYTES, scratchHeld, withScratch } from '../src/compile/fused-codegen/pool.js';
import * as b from '../src/ir/build.js';
import { signatureOf } from '../src/pipeline/pipeline.js';
import { rng } from './helpers/numeric.js';

const floats = (r: () => number, n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r());

interface Case {
  name: string;
  opts: Record<string, unknown>;
  /** y_true for a batch of n (y_pred is [n, 5]). */
  labels: (r: () => number, n: number) => tf.Tensor;
  /** whether y_true is differentiated too */
  both: boolean;
}

const C = 5;
const CASES: Case[] = [
  { name: 'mean_squared_error', opts: {}, labels: (r, n) => tf.tensor(floats(r, n * C, -2, 2), [n, C]), both: true },
  { name: 'categorical_crossentropy', opts: { from_logits: true }, labels: (r, n) => tf.oneHot(tf.tensor1d(floats(r, n, 0, C).map(Math.floor), 'int32'), C).asType('float32'), both: true },
  { name: 'sparse_categorical_crossentropy', opts: { from_logits: true }, labels: (r, n) => tf.tensor1d(floats(r, n, 0, C).map(Math.floor), 'int32'), both: false },
  { name: 'binary_crossentropy', opts: { label_smoothing: 0.1 }, labels: (r, n) => tf.tensor(floats(r, n * C, 0, 1).map(Math.round), [n, C]), both: false },
  { name: 'focal_loss', opts: { from_logits: true }, labels: (r, n) => tf.tensor(floats(r, n * C, 0, 1).map(Math.round), [n, C]), both: false },
  { name: 'batch_hard_triplet_loss', opts: {}, labels: (r, n) => tf.tensor1d(floats(r, n, 0, 3).map(Math.floor), 'int32'), both: false },
];

/** Batch sizes in rotation: distinct, none 1 or C (those are other signatures), revisited. */
const BATCHES = [7, 12, 8, 33, 9, 64, 10, 17, 6, 40, 11, 25, 7, 64, 13, 50, 6, 12];

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
  }
}

describe('fused kernels across batch sizes', () => {
  for (const c of CASES) {
    it(`${c.name}: ${BATCHES.length} calls in rotation over ${new Set(BATCHES).size} batch sizes, right, and code generated for the first only`, async () => {
      await tf.setBackend('cpu');
      const f = (losses as unknown as Record<string, LossFactory>)[c.name]!(c.opts);
      const r = rng(3);
      const spy = vi.spyOn(FastPath.prototype, 'tryCall');
      let afterFirst = 0;
      for (const [k, n] of BATCHES.entries()) {
        const yt = c.labels(r, n);
        const yp = tf.tensor(floats(r, n * C, -3, 3), [n, C]);
        const run = (w: number | undefined) =>
          tf.tidy(() => {
            const call = (t: tf.Tensor, p: tf.Tensor) => f(t, p, w) as tf.Scalar;
            const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => call(yt, p))(yp);
            const out = [value, grad];
            if (c.both) out.push(...tf.grads((t: tf.Tensor, p: tf.Tensor) => call(t, p))([yt, yp]));
            return out.map((t) => Array.from(t.dataSync()));
          });
        const fast = run(undefined);
        const general = run(1); // a sample weight sends the call to the general tfjs path
        fast.forEach((got, i) => expectClose(got, general[i]!, `${c.name} at batch ${n}, result ${i}`));
        if (k === 0) afterFirst = fusedKernelsGenerated();
        tf.dispose([yt, yp]);
      }
      // every call without a weight took the fast path, and no batch size after the first made code
      const fastCalls = spy.mock.results.filter((res) => res.value instanceof tf.Tensor).length;
      expect(fastCalls).toBe(BATCHES.length * (c.both ? 2 : 1));
      spy.mockRestore();
      expect(fusedKernelsGenerated()).toBe(afterFirst);
      expect(scratchHeld().taken).toBe(0);
    });
  }

  it('a signature says which sizes are 1 and which are equal, not the sizes', () => {
    expect(signatureOf([[32, 10], [32, 10]]).key).toBe(signatureOf([[7, 3], [7, 3]]).key);
    expect(signatureOf([[32, 10], [32, 10]]).key).not.toBe(signatureOf([[10, 10], [10, 10]]).key);
    expect(signatureOf([[32, 1], [32, 10]]).key).not.toBe(signatureOf([[32, 2], [32, 10]]).key);
    expect([...signatureOf([[32, 10], [32]]).binding]).toEqual([['s0', 32], ['s1', 10]]);
  });

  it('a size the formula assumes (a literal of 3 weights against the last axis) holds or the call goes per shape', async () => {
    await tf.setBackend('cpu');
    // The weights broadcast against y_pred's last axis: right at 3 columns; at 4 a shape error
    // (from the general path), never a kernel reading 3 of 4 columns.
    const { weighted } = compile('loss weighted(y_true, y_pred) = mean((y_pred - y_true) ^ 2 * [1, 2, 3])');
    const f = weighted!();
    const r = rng(4);
    for (const n of [6, 9, 6]) {
      const yt = tf.tensor(floats(r, n * 3, -1, 1), [n, 3]);
      const yp = tf.tensor(floats(r, n * 3, -1, 1), [n, 3]);
      expectClose(f(yt, yp).dataSync(), f(yt, yp, 1).dataSync(), `weighted at ${n}`);
      tf.dispose([yt, yp]);
    }
    const four = tf.zeros([6, 4]);
    expect(() => f(four, four)).toThrow(/broadcast/);
    tf.dispose(four);
  });
});

describe('float32 buffers keep selections exact', () => {
  it('the gradient of a min picks its entry although the min is kept between nests (fuzz seed 10003710)', async () => {
    await tf.setBackend('cpu');
    // min's buffer against y_pred - 2 recomputed in float64: a float32 min would match no entry.
    const { f } = compile('loss f(y_true, y_pred) = sqrt(min(y_pred + [-2]) ^ 2 + 2)');
    const loss = f!();
    const yt = tf.zeros([3, 2]);
    const yp = tf.tensor2d([[0.3, -0.7], [0.123456789, 1.1], [-0.33333, 2]]);
    const [fast, general] = [undefined, 1].map((w) => tf.tidy(() => Array.from(tf.grad((p: tf.Tensor) => loss(yt, p, w) as tf.Scalar)(yp).dataSync())));
    expectClose(fast!, general!, 'gradient of min');
    expect(fast!.filter((g) => g !== 0)).toHaveLength(1);
    tf.dispose([yt, yp]);
  });
});

describe('the scratch pool', () => {
  it('gives every buffer back after the call and keeps at most KEEP_BYTES between calls', () => {
    const big = (KEEP_BYTES / 4) * 2;
    withScratch((take) => {
      const a = take('f32', big);
      const c = take('f64', 1000);
      expect(a.length).toBe(big);
      expect(c.length).toBe(1000);
      expect(scratchHeld().taken).toBe(2);
    });
    expect(scratchHeld().taken).toBe(0);
    expect(scratchHeld().freeBytes).toBeLessThanOrEqual(KEEP_BYTES);
  });

  it("a symbolic kernel's scratch is sized to the call and not kept by the kernel", () => {
    // exp(exp(x)) read by two reductions is kept in a buffer: [rows, cols] float32 per call (dear
    // enough to keep at a typical [1024, 1024], past graph.ts's LARGE, where one exp is recomputed)
    const x = b.input('x', ['s0', 's1']);
    const e = b.exp(b.exp(x));
    const k = fuse([b.reduce('sum', e, [0]), b.reduce('sum', e, [1])], [x])!;
    expect(k.symbolic).toBe(true);
    for (const [rows, cols] of [[3, 4], [1500, 1600], [2, 7]] as const) {
      // and the column sums' running sums (sparse.ts's storage-order sum), float64 per call
      expect(k.scratchAt([[rows, cols]])).toEqual([
        { kind: 'f32', size: rows * cols },
        { kind: 'f64', size: cols },
      ]);
      const data = Float32Array.from({ length: rows * cols }, (_, i) => (i % 7) / 7);
      const [col, row] = k.run([data], undefined, [[rows, cols]]);
      expect(col!.length).toBe(cols);
      expect(row!.length).toBe(rows);
      let want = 0;
      for (let j = 0; j < cols; j++) want += Math.exp(Math.exp(data[j]!));
      expect(Math.abs(row![0]! - want)).toBeLessThan(1e-4 * want);
      expect(scratchHeld().taken).toBe(0);
      expect(scratchHeld().freeBytes).toBeLessThanOrEqual(KEEP_BYTES);
    }
    expect(() => k.run([new Float32Array(6)], undefined, [[2, 4]])).toThrow(/8 values/);
  });
});
