// The WebAssembly SIMD target is shape-polymorphic (issue 13 items 1 and 4): one module per shape
// signature serves every batch size (and every size of the other dimensions), its sizes passed as
// arguments. Generated from the checked IR of the signature's stage, checked at several shapes
// against the float64 reference and the JavaScript fused kernel, with the modules built counted;
// on the wasm backend, a rotation of batch sizes through the fast path builds one module.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { losses, type LossFunction } from '../src/index.js';
import { FastPath } from '../src/compile/fast.js';
import { readData, wasmHeapMemory } from '../src/compile/tensor-data.js';
import { simdKernel, simdModulesBuilt } from '../src/compile/wasm-simd/simd.js';
import * as b from '../src/ir/build.js';
import { useBackend } from '../src/backend.js';
import { seeded } from './helpers/loss-inputs.js';
import { close, inMemory, reference, simdValue } from './helpers/simd.js';

type Gen = (r: () => number, i: number, c: number) => number;
const bit: Gen = (r) => (r() < 0.5 ? 0 : 1);
const prob: Gen = (r) => 0.02 + 0.96 * r();
const logit: Gen = (r) => 8 * r() - 4;
const real: Gen = (r) => 4 * r() - 2;
/** one-hot rows: the class of row i is (7 i) mod c */
const oneHot: Gen = (_r, i, c) => (i % c === (Math.floor(i / c) * 7) % c ? 1 : 0);

const CASES: Array<[string, () => LossFunction, Gen, Gen]> = [
  ['mse', () => losses.mean_squared_error!(), real, real],
  ['mae', () => losses.mean_absolute_error!(), real, real],
  ['huber', () => losses.huber!(), real, real],
  ['bce', () => losses.binary_crossentropy!(), bit, prob],
  ['bce (logits)', () => losses.binary_crossentropy!({ from_logits: true }), bit, logit],
  ['cce', () => losses.categorical_crossentropy!(), oneHot, prob],
  ['cce (logits)', () => losses.categorical_crossentropy!({ from_logits: true }), oneHot, logit],
  // label smoothing reads 1 / C: a uniform (from a size argument) in the element loop
  ['cce (logits, label smoothing)', () => losses.categorical_crossentropy!({ from_logits: true, label_smoothing: 0.2 }), oneHot, logit],
  ['bce (label smoothing)', () => losses.binary_crossentropy!({ label_smoothing: 0.2 }), bit, prob],
  ['focal (logits)', () => losses.focal_loss!({ from_logits: true }), bit, logit],
  ['binary focal', () => losses.binary_focal_crossentropy!(), bit, prob],
];

/** Shapes of one signature [s0, s1] (two sizes, neither 1, unequal): rows not whole vectors, one partial, several. */
const MATRICES = [[2, 3], [33, 10], [5, 7], [9, 16], [64, 5], [3, 13], [100, 17]];
/** Shapes of [s0, s1, s2] (sequences): rows are the first two dimensions together. */
const SEQUENCES = [[4, 5, 6], [3, 7, 2], [2, 9, 12]];

function data(gen: Gen, shape: number[], r: () => number): Float32Array {
  const c = shape[shape.length - 1]!;
  const n = shape.reduce((a, d) => a * d, 1);
  return Float32Array.from({ length: n }, (_, i) => gen(r, i, c));
}

describe('one module per shape signature: every shape checked against the float64 reference and the JS fused kernel', () => {
  for (const [name, make, t, p] of CASES) {
    for (const [kind, shapes] of [['[B, C]', MATRICES], ['[B, T, C]', SEQUENCES]] as const) {
      it(`${name} ${kind}: ${shapes.length} shapes, one module`, () => {
        const fast = new FastPath(make().compiled.pipeline, 'sum_over_batch_size');
        const before = simdModulesBuilt();
        const r = seeded(name.length * 17 + shapes.length);
        for (const shape of shapes) {
          const call = [shape, shape];
          const v = fast.valueAt(call)!;
          expect(v, `${name} ${JSON.stringify(shape)}: no stage`).not.toBeNull();
          // the stage of the signature: symbolic sizes
          expect(v.value.inputs[0]!.shape.every((d) => typeof d === 'string')).toBe(true);
          const xs = [data(t, shape, r), data(p, shape, r)];
          const got = simdValue(v.value.root, [...v.value.inputs], xs, v.size);
          expect(got, `${name} refused`).not.toBeNull();
          const want = reference(v.value.root, [...v.value.inputs], xs, call);
          expect(close(got!, want, 2e-6, 1e-6), `${name} ${JSON.stringify(shape)}: simd ${got} vs reference ${want}`).toBe(true);
          const js = fast.prepare(call)!.entry.value.run(xs, undefined, call)[0]![0]!;
          expect(close(got!, js, 2e-6, 1e-6), `${name} ${JSON.stringify(shape)}: simd ${got} vs JS kernel ${js}`).toBe(true);
        }
        expect(simdModulesBuilt() - before).toBe(1);
      });
    }
  }

  it('equal batch and class sizes are another signature ([s0, s0]): a second module, the same values', () => {
    // label smoothing: a graph no other test here builds (modules are shared by equal graphs)
    const fast = new FastPath(losses.categorical_crossentropy!({ from_logits: true, label_smoothing: 0.1 }).compiled.pipeline, 'sum_over_batch_size');
    const r = seeded(5);
    const before = simdModulesBuilt();
    for (const shape of [[8, 8], [12, 12], [8, 5], [30, 9]]) {
      const call = [shape, shape];
      const v = fast.valueAt(call)!;
      const xs = [data(oneHot, shape, r), data(logit, shape, r)];
      const got = simdValue(v.value.root, [...v.value.inputs], xs, v.size)!;
      expect(close(got, reference(v.value.root, [...v.value.inputs], xs, call), 2e-6, 1e-6)).toBe(true);
    }
    expect(simdModulesBuilt() - before).toBe(2);
  });
});

describe('sizes are arguments', () => {
  it('a symbolic kernel run without the sizes, or with sizes its inputs do not have: no value (the JS kernel runs)', () => {
    const fast = new FastPath(losses.mean_squared_error!().compiled.pipeline, 'sum_over_batch_size');
    const v = fast.valueAt([[6, 5], [6, 5]])!;
    const { memory, views } = inMemory([new Float32Array(30), new Float32Array(30)]);
    const k = simdKernel(v.value.root, [...v.value.inputs], memory)!;
    expect(k).not.toBeNull();
    expect(k.run(views)).toBeUndefined(); // s0, s1 unbound
    expect(k.run(views, v.size)).toBe(0);
    expect(k.run(views, fast.valueAt([[5, 5], [5, 5]])!.size)).toBeUndefined(); // 25 elements, not 30
  });

  it('a row value broadcast along the last axis (a [B] against [B, B]) is refused, not read per row', () => {
    // x − mean(x, axis 1) with x square: NumPy broadcasting subtracts mean j from column j
    const x = b.input('square', [4, 4], 'float32');
    const root = b.reduce('sum', b.reduce('sum', b.mul(b.sub(x, b.reduce('mean', x, [1])), x), [1]), null);
    const xs = [Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) + i / 5)];
    const got = simdValue(root, [x], xs);
    if (got !== null) expect(close(got, reference(root, [x], xs), 2e-6)).toBe(true);
    expect(got).toBeNull();
  });
});

describe('on the wasm backend: batch sizes in rotation through the fast path', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  for (const [name, make, t, p] of CASES.filter(([n]) => ['mse', 'bce', 'cce (logits)', 'focal (logits)'].includes(n))) {
    it(`${name}: 40 batch sizes twice, at most 2 modules (B = C is its own signature), none in the second round, each value the SIMD kernel's and the JS kernel's`, () => {
      const f = make();
      const fast = new FastPath(f.compiled.pipeline, 'sum_over_batch_size');
      const r = seeded(name.length);
      const cols = 10;
      const built: number[] = [];
      for (let round = 0; round < 2; round++) {
        const before = simdModulesBuilt();
        for (let batch = 3; batch < 43; batch++) {
          const shape = [batch, cols];
          const yt = tf.tensor(data(t, shape, r), shape);
          const yp = tf.tensor(data(p, shape, r), shape);
          const onWasm = f(yt, yp).dataSync()[0]!;
          const xs = [readData(yt), readData(yp)];
          const simd = fast.simdAt([shape, shape], wasmHeapMemory()!)!.run(xs)!;
          expect(onWasm).toBe(Math.fround(simd));
          const js = fast.prepare([shape, shape])!.entry.value.run(xs, undefined, [shape, shape])[0]![0]!;
          expect(close(onWasm, js, 2e-6, 1e-6), `${name} ${batch}: ${onWasm} vs JS kernel ${js}`).toBe(true);
          tf.dispose([yt, yp]);
        }
        built.push(simdModulesBuilt() - before);
      }
      // (the [s0, s1] module may have been built by the tests above: equal graphs share it)
      expect(built[0]).toBeLessThanOrEqual(2);
      expect(built[1]).toBe(0);
    });
  }
});

describe('the JS fused kernel at a signature plans like the kernel at exact shapes', () => {
  it('a scalar from sizes (label_smoothing / C, 1 / B) costs nothing per element: it is computed once, outside the loops', () => {
    // Counted per element, it made the label-smoothed term dear enough to recompute, which split the
    // gradient into a nest of its own (4 nests, 1.4–1.5× the exact-shape kernel's time at B = 32).
    const f = losses.categorical_crossentropy!({ from_logits: true, label_smoothing: 0.1 });
    const fast = new FastPath(f.compiled.pipeline, 'sum_over_batch_size');
    const k = fast.prepare([[32, 10], [32, 10]])!.entry.valueAndGrad;
    expect(k.symbolic).toBe(true);
    expect(k.nests).toBe(3);
  });
});
