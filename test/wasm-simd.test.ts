// The WebAssembly SIMD target for value-only calls (src/compile/wasm-simd/): its exp, log and
// log1p against Math's over their ranges and at the special values; every stdlib loss it covers
// against the float64 reference and the JavaScript fused kernel; its refusals (then the JS
// kernel runs); and, on the wasm backend, the same values as the op-by-op path on cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { losses, type LossFunction } from '../src/index.js';
import { FastPath } from '../src/compile/fast.js';
import { readData, wasmHeapMemory } from '../src/compile/tensor-data.js';
import { simdKernel } from '../src/compile/wasm-simd/simd.js';
import * as b from '../src/ir/build.js';
import type { Node } from '../src/ir/node.js';
import { Library } from '../src/lower/library.js';
import { LOSS_INPUTS, logitOptions, seeded } from './helpers/loss-inputs.js';
import { baseName } from './helpers/arrays.js';
import { useBackend } from '../src/backend.js';
import { close, reference, simdValue } from './helpers/simd.js';

let counter = 0;
const input = (shape: number[]) => b.input(`s${counter++}`, shape, 'float32');

describe('SIMD exp, log, log1p, sigmoid, softplus: four lanes of one value, against Math', () => {
  const x = input([1, 4]);
  const total = (e: Node) => b.reduce('sum', b.reduce('sum', e, [1]), null);
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  const fns: Array<[string, (n: Node) => Node, (v: number) => number, number[]]> = [
    ['exp', b.exp, Math.exp, [-Infinity, -200, -87.3, -50, -10, -1, -1e-3, 0, 1e-6, 0.5, 1, 10, 50, 87, 89, 200, Infinity, NaN]],
    ['log', b.log, Math.log, [-Infinity, -1, -0, 0, 1e-45, 1e-40, 1.2e-38, 1e-30, 1e-7, 0.1, 0.5, 0.7071, 1, 1.4142, 1.5, 2, 10, 1e10, 3e38, Infinity, NaN]],
    ['log1p', (n) => b.unary('log1p', n), Math.log1p, [-2, -1, -0.999, -0.5, -1e-8, 0, 1e-10, 1e-4, 0.3, 1, 5, 1e10, Infinity, NaN]],
    ['sigmoid', (n) => b.sigmoid(n), sigmoid, [-Infinity, -100, -30, -5, -0.1, 0, 0.1, 5, 30, 100, Infinity, NaN]],
    ['softplus', (n) => b.softplus(n), softplus, [-Infinity, -100, -20, -1, 0, 1, 20, 100, Infinity, NaN]],
  ];
  for (const [name, make, want, specials] of fns) {
    it(`${name}: special values, and 2000 values over its range within 4e-7 (relative)`, () => {
      const root = total(make(x));
      const sweep = Array.from({ length: 2000 }, (_, i) => (name.startsWith('log') ? Math.exp(-30 + (60 * i) / 1999) - (name === 'log1p' ? 0.9 : 0) : -80 + (166 * i) / 1999));
      for (const v of [...specials, ...sweep]) {
        const f = Math.fround(v);
        const got = simdValue(root, [x], [new Float32Array(4).fill(f)]);
        expect(got, `${name} refused`).not.toBeNull();
        const w = 4 * Math.fround(want(f));
        // float32 lanes: a few ulp (results below float32's normal range count as 0; the four lanes
        // are summed in float32, so values stay below a quarter of its largest)
        expect(close(got!, w, 4e-7, 4 * 1.2e-38), `${name}(${f}): got ${got! / 4}, want ${w / 4}`).toBe(true);
      }
    });
  }
});

const lib = Library.stdlib();
const lossNames = lib.names().filter((n) => lib.get(n)!.def.kind === 'loss');

/** The fast path's kernels at these shapes, the reduced value the SIMD target compiles (at their signature) with the call's sizes, and its kernel on a heap. */
function entryOf(f: LossFunction, shapes: number[][]) {
  const fast = new FastPath(f.compiled.pipeline, 'sum_over_batch_size');
  const p = fast.prepare(shapes);
  const v = fast.valueAt(shapes);
  if (!p || !v) return null;
  return {
    valueRoot: v.value.root,
    inputNodes: v.value.inputs,
    size: v.size,
    value: { run: (data: ArrayLike<number>[]) => p.entry.value.run(data, undefined, shapes) },
    simd: (memory: WebAssembly.Memory) => fast.simdAt(shapes, memory),
  };
}

/** Columns repeated 4 times and rows twice: a multiple of 4 lanes, several rows. */
const widen = (m: number[][]) => [...m, ...m].map((row) => [...row, ...row, ...row, ...row]);

describe('every stdlib loss the SIMD target covers: value against the float64 reference and the JS kernel', () => {
  const covered: string[] = [];
  const cases: Array<[string, Record<string, unknown>, boolean]> = [];
  for (const name of lossNames) {
    const entry = LOSS_INPUTS[name] ?? LOSS_INPUTS[baseName(lib, name)];
    if (!entry) continue;
    for (const o of entry.options) cases.push([name, o, false]);
    for (const o of logitOptions(LOSS_INPUTS[name] ? name : baseName(lib, name))) cases.push([name, o, true]);
  }
  for (const [name, options, logits] of cases) {
    it(`${name} ${JSON.stringify(options)}`, () => {
      const entry = LOSS_INPUTS[name] ?? LOSS_INPUTS[baseName(lib, name)]!;
      const { yTrue, yPred } = (logits ? entry.gen2! : entry.gen)(seeded(name.length * 31 + JSON.stringify(options).length));
      if (!Array.isArray(yTrue[0]) || !Array.isArray(yPred[0]) || Array.isArray((yPred[0] as unknown[])[0])) return; // labels or sequences: not row programs
      const f = (losses as unknown as Record<string, (o: Record<string, unknown>) => LossFunction>)[name]!(options);
      // as generated (rows of 3: one partial vector), and widened (rows of 12: whole vectors)
      for (const [yt, yp] of [[yTrue, yPred], [widen(yTrue as number[][]), widen(yPred as number[][])]] as number[][][][]) checkLoss(name, logits, f, yt!, yp!);
    });
  }
  function checkLoss(name: string, logits: boolean, f: LossFunction, yt: number[][], yp: number[][]): void {
    const shapes = [[yt.length, yt[0]!.length], [yp.length, yp[0]!.length]];
    const e = entryOf(f, shapes);
    if (!e) return; // not on the fast path at all
    const data = [Float32Array.from(yt.flat()), Float32Array.from(yp.flat())];
    const got = simdValue(e.valueRoot, [...e.inputNodes], data, e.size);
    if (got === null) return; // refused: the JS kernel runs (fast-path.test.ts)
    covered.push(`${name}${logits ? ' (logits)' : ''}`);
    const want = reference(e.valueRoot, [...e.inputNodes], data, shapes);
    expect(close(got, want, 2e-6, 1e-6), `simd ${got} vs reference ${want}`).toBe(true);
    const js = e.value.run(data)[0]![0]!;
    expect(close(got, js, 2e-6, 1e-6), `simd ${got} vs JS kernel ${js}`).toBe(true);
  }
  it('covers at least mse, bce, cce and focal (probabilities and logits), huber', () => {
    for (const want of ['mean_squared_error', 'binary_crossentropy', 'binary_crossentropy (logits)', 'categorical_crossentropy', 'categorical_crossentropy (logits)', 'binary_focal_crossentropy', 'binary_focal_crossentropy (logits)', 'huber']) {
      expect(covered).toContain(want);
    }
  });
});

describe('SIMD target: refusals', () => {
  const mse = (x: Node, y: Node) => b.div(b.reduce('sum', b.reduce('mean', b.mul(b.sub(x, y), b.sub(x, y)), [1]), null), b.constant(x.shape[0] as number));
  const mem = new WebAssembly.Memory({ initial: 1 });
  it('no inputs, rank 1, integer inputs, ops it does not know', () => {
    expect(simdKernel(mse(input([4, 6]), input([4, 6])), [], mem)).toBeNull();
    const r = input([8]);
    expect(simdKernel(b.reduce('sum', b.mul(r, r), null), [r], mem)).toBeNull();
    const t = input([2, 8]);
    expect(simdKernel(b.reduce('sum', b.reduce('sum', b.tanh(t), [1]), null), [t], mem)).toBeNull();
    const k = b.input(`s${counter++}`, [2, 8], 'int32');
    expect(simdKernel(b.reduce('sum', b.reduce('sum', b.cast(k, 'float32'), [1]), null), [k], mem)).toBeNull();
  });
  it('a shared memory (a threaded build of the wasm backend): no kernel', () => {
    const [p, q] = [input([2, 8]), input([2, 8])];
    expect(simdKernel(mse(p, q), [p, q], new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }))).toBeNull();
  });
  it('a reduction over the first axis, or a root that is not one number', () => {
    const t = input([4, 8]);
    expect(simdKernel(b.reduce('sum', b.reduce('sum', t, [0]), null), [t], mem)).toBeNull();
    expect(simdKernel(b.reduce('sum', t, [1]), [t], mem)).toBeNull();
  });
  it('inputs that are not views of its memory: no value (the caller runs the JS kernel)', () => {
    const [p, q] = [input([2, 8]), input([2, 8])];
    const k = simdKernel(mse(p, q), [p, q], mem)!;
    expect(k).not.toBeNull();
    expect(k.run([new Float32Array(16), new Float32Array(16)])).toBeUndefined();
    expect(k.run([new Float32Array(mem.buffer, 0, 16), new Float32Array(mem.buffer, 64, 16)])).toBe(0);
  });
  it('rows not a multiple of 4: the last vector reads past a row, so never past the end of memory', () => {
    const [p, q] = [input([3, 6]), input([3, 6])];
    const k = simdKernel(mse(p, q), [p, q], mem)!;
    expect(k).not.toBeNull();
    const end = mem.buffer.byteLength;
    const data = [Float32Array.from({ length: 18 }, (_, i) => i / 7), Float32Array.from({ length: 18 }, (_, i) => Math.sin(i))];
    const want = reference(mse(p, q), [p, q], data);
    const near = new Float32Array(mem.buffer, end - 4 * 18 - 12, 18);
    const far = new Float32Array(mem.buffer, 0, 18);
    near.set(data[0]!);
    far.set(data[1]!);
    new Float32Array(mem.buffer, end - 12, 3).fill(NaN); // what lies past the row is never counted
    expect(close(k.run([near, far])!, want, 2e-6)).toBe(true);
    const last = new Float32Array(mem.buffer, end - 4 * 18, 18);
    expect(k.run([last, far])).toBeUndefined();
  });
});

describe('on the wasm backend: value-only calls agree with the op-by-op path on cpu', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const cases: Array<[string, () => LossFunction, (i: number) => number, (i: number) => number]> = [
    ['mse', () => losses.mean_squared_error!(), (i) => Math.sin(i), (i) => Math.cos(i * 1.3)],
    ['bce', () => losses.binary_crossentropy!(), (i) => i % 2, (i) => 0.05 + 0.9 * ((i * 0.37) % 1)],
    ['cce logits', () => losses.categorical_crossentropy!({ from_logits: true }), (i) => (i % 16 === (i >> 4) % 16 ? 1 : 0), (i) => 3 * Math.sin(i * 0.7)],
    ['focal logits', () => losses.binary_focal_crossentropy!({ from_logits: true }), (i) => (i * 7) % 3 === 0 ? 1 : 0, (i) => 4 * Math.cos(i * 0.9)],
  ];
  for (const [name, make, t, p] of cases) for (const shape of [[64, 16], [33, 10]]) {
    it(`${name} ${JSON.stringify(shape)}: the SIMD kernel runs, and its value is the op-by-op value (weighted call on cpu), also after the heap grows`, async () => {
      const n = shape[0]! * shape[1]!;
      const f = make();
      const e = entryOf(f, [shape, shape])!;
      expect(e.simd(wasmHeapMemory()!)).not.toBeNull();
      const yt = tf.tensor(Float32Array.from({ length: n }, (_, i) => t(i)), shape);
      const yp = tf.tensor(Float32Array.from({ length: n }, (_, i) => p(i)), shape);
      const direct = e.simd(wasmHeapMemory()!)!.run([readData(yt), readData(yp)])!;
      const onWasm = f(yt, yp).dataSync()[0]!;
      expect(onWasm).toBe(Math.fround(direct));
      const big = tf.zeros([4 << 20]); // grows the heap: the kernel reads fresh views
      const again = f(yt, yp).dataSync()[0]!;
      expect(again).toBe(onWasm);
      const ytData = yt.dataSync();
      const ypData = yp.dataSync();
      tf.dispose([yt, yp, big]);
      await useBackend('cpu');
      const ones = tf.ones([shape[0]!]);
      const opByOp = f(tf.tensor(ytData, shape), tf.tensor(ypData, shape), ones).dataSync()[0]!;
      await useBackend('wasm');
      expect(close(onWasm, opByOp, 2e-6), `wasm simd ${onWasm} vs cpu op-by-op ${opByOp}`).toBe(true);
    });
  }
});
