// The generated fused kernel (src/compile/fused.ts) alone, at the level of Float32Arrays: its
// value+gradient pass against the same graph run op by op as a tfjs plan on cpu, and against
// hand-written single-pass loops (the yardstick of the fused-kernel issue). Part of `npm run
// bench`; moved out of test/fused.test.ts, which checks the same kernels' agreement without timing.

import * as tf from '@tensorflow/tfjs';
import { grad } from '../src/autodiff/grad.js';
import { fuse, type FusedKernel } from '../src/compile/fused.js';
import { Plan } from '../src/compile/plan.js';
import * as b from '../src/ir/build.js';
import type { Node } from '../src/ir/node.js';
import type { Static } from '../src/lower/builtins.js';
import { Library } from '../src/lower/library.js';
import { Lowerer } from '../src/lower/lower.js';
import { bindSignature } from '../src/lower/signature.js';
import { rewrite } from '../src/rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../src/rewrite/rules.js';

/**
 * Median times (ms) of several functions, run interleaved (so that a busy machine slows all of
 * them alike), after a warm-up.
 */
function timeInterleaved(fs: Record<string, () => void>, rounds = 25, budgetMs = 4000): Record<string, number> {
  const names = Object.keys(fs);
  for (const f of Object.values(fs)) for (let i = 0; i < 2; i++) f();
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const start = performance.now();
  for (let r = 0; r < rounds && (r < 5 || performance.now() - start < budgetMs); r++) {
    for (const k of names) {
      const t0 = performance.now();
      fs[k]!();
      times[k]!.push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((k) => [k, times[k]!.sort((p, q) => p - q)[times[k]!.length >> 1]!]));
}

/** Hand-written single-pass value+gradient loops, the yardstick of the issue. */
export const HAND: Record<string, (yt: Float32Array, yp: Float32Array, dy: Float32Array, n: number, c: number) => Float32Array[]> = {
  mean_squared_error(yt, yp, dy, n, c) {
    const v = new Float32Array(n);
    const g = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const k = (2 / c) * dy[i]!;
      for (let j = 0, o = i * c; j < c; j++, o++) {
        const d = yp[o]! - yt[o]!;
        s += d * d;
        g[o] = k * d;
      }
      v[i] = s / c;
    }
    return [v, g];
  },
  binary_crossentropy(yt, yp, dy, n, c) {
    const v = new Float32Array(n);
    const g = new Float32Array(n * c);
    const lo = Math.fround(1e-7);
    const hi = 1 - lo;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const k = dy[i]! / c;
      for (let j = 0, o = i * c; j < c; j++, o++) {
        const t = yt[o]!;
        const p = yp[o]!;
        const q = p < lo ? lo : p > hi ? hi : p;
        s -= t * Math.log(q) + (1 - t) * Math.log(1 - q);
        g[o] = p >= lo && p <= hi ? k * ((1 - t) / (1 - q) - t / q) : 0;
      }
      v[i] = s / c;
    }
    return [v, g];
  },
  categorical_crossentropy(yt, yp, dy, n, c) {
    const v = new Float32Array(n);
    const g = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const o = i * c;
      let m = -Infinity;
      let st = 0;
      for (let j = 0; j < c; j++) {
        if (yp[o + j]! > m) m = yp[o + j]!;
        st += yt[o + j]!;
      }
      let se = 0;
      for (let j = 0; j < c; j++) se += Math.exp(yp[o + j]! - m);
      const lse = m + Math.log(se);
      let s = 0;
      for (let j = 0; j < c; j++) {
        const z = yp[o + j]! - lse;
        s -= yt[o + j]! * z;
        g[o + j] = dy[i]! * (st * Math.exp(z) - yt[o + j]!);
      }
      v[i] = s;
    }
    return [v, g];
  },
};

/** A loss's value (per sample) and the gradient of sum(dy * value) with respect to y_pred, fused and as graphs. */
export interface KernelCase {
  name: string;
  options: Record<string, unknown>;
  /** Label and prediction samplers, from a uniform [0, 1) source. */
  yTrue: (r: () => number) => number;
  yPred: (r: () => number) => number;
}

export const KERNEL_CASES: KernelCase[] = [
  { name: 'mean_squared_error', options: {}, yTrue: (r) => r() * 4 - 2, yPred: (r) => r() * 4 - 2 },
  { name: 'binary_crossentropy', options: {}, yTrue: (r) => (r() < 0.5 ? 0 : 1), yPred: (r) => 0.02 + 0.96 * r() },
  { name: 'categorical_crossentropy', options: { from_logits: true }, yTrue: (r) => (r() < 1 / 128 ? 1 : 0), yPred: (r) => r() * 8 - 4 },
];

export interface BuiltKernel {
  kernel: FusedKernel;
  value: Node;
  grads: Node[];
  inputs: Node[];
  buildMs: number;
}

/** Lower, stabilise, differentiate (seeded by dy) and fuse a stdlib loss at shape [n, c]. */
export function buildKernel(c: KernelCase, n: number, classes: number): BuiltKernel {
  const lib = Library.stdlib();
  const def = lib.get(c.name)!.def;
  const sig = bindSignature(def, { y_true: { shape: [n, classes] }, y_pred: { shape: [n, classes] } });
  const lowered = new Lowerer(lib, false).lowerTop(def, c.options as Record<string, Static>, sig);
  const [value] = rewrite([lowered.value], STABILIZE_RULES);
  const seed = b.input('__dy', value!.shape);
  const grads = rewrite(grad(value!, [lowered.inputs[1]!], seed), ALL_RULES);
  const inputs = [...lowered.inputs, seed];
  const t0 = performance.now();
  const kernel = fuse([value!, ...grads], inputs)!;
  return { kernel, value: value!, grads, inputs, buildMs: performance.now() - t0 };
}

/** The printed lines of the fused-kernel timings (cpu backend). */
export function fusedKernelTimings(quick: boolean): string[] {
  const sizes: Record<string, [number, number]> = {
    mean_squared_error: [65536, 16],
    binary_crossentropy: [65536, 16],
    categorical_crossentropy: [8192, 128],
  };
  const lines: string[] = [];
  for (const c of KERNEL_CASES) {
    const [n, classes] = sizes[c.name]!;
    let s = 11;
    const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const { kernel: k, value, grads, inputs, buildMs } = buildKernel(c, n, classes);
    const yt = Float32Array.from({ length: n * classes }, () => c.yTrue(r));
    const yp = Float32Array.from({ length: n * classes }, () => c.yPred(r));
    const dy = Float32Array.from({ length: n }, () => 0.5 + r());
    const valuePlan = new Plan([value], inputs.slice(0, 2));
    const gradPlan = new Plan(grads, inputs);
    const tYt = tf.tensor2d(yt, [n, classes]);
    const tYp = tf.tensor2d(yp, [n, classes]);
    const tDy = tf.tensor1d(dy);
    const tfjs = () =>
      tf.tidy(() => {
        valuePlan.run([tYt, tYp])[0]!.dataSync();
        gradPlan.run([tYt, tYp, tDy])[0]!.dataSync();
      });
    const hand = HAND[c.name]!;
    const fast = timeInterleaved({ fused: () => k.run([yt, yp, dy]), hand: () => hand(yt, yp, dy, n, classes) }, quick ? 7 : 25);
    const slow = timeInterleaved({ tfjs, fused: () => k.run([yt, yp, dy]) }, 4, 1);
    tf.dispose([tYt, tYp, tDy]);
    const [fusedMs, handMs, tfMs] = [fast.fused!, fast.hand!, slow.tfjs!];
    lines.push(
      `| ${c.name} | [${n}, ${classes}] | ${fusedMs.toFixed(2)} | ${k.nests} | ${buildMs.toFixed(1)} | ${handMs.toFixed(2)} | ${(fusedMs / handMs).toFixed(2)}× | ${tfMs.toFixed(2)} | ${(tfMs / fusedMs).toFixed(1)}× |`,
    );
  }
  return [
    'fused kernel alone (cpu, Float32Arrays, value + gradient), against hand-written loops and the tfjs plan of the same graph:',
    '| loss | shape | fused ms | nests | built in ms | hand ms | fused / hand | tfjs plan ms | tfjs / fused |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...lines,
  ];
}
