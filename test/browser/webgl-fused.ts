// The WebGL target on the page (webgl only): each loss's value and gradient with the target on
// and off (op by op), the kernels each runs (tf.profile) and the GPU programs behind them, and
// the time of a value+gradient call, also for the tfjs built-in where there is one. Inputs are
// [256, 16], large enough that tfjs runs its webgl kernels on the GPU (not its CPU hand-off).

import * as tf from '@tensorflow/tfjs';
import { compile, losses, type LossFunction } from '../../src/index.js';
import { FUSED_KERNEL, setWebglFusion } from '../../src/compile/webgl/run.js';
import type { FusedAnswer, FusedCase, FusedCounts, ValueGrad } from './protocol.js';

const [B, C] = [256, 16];
const REPS = 5;

/** A fixed-seed generator (the numbers need not match Node's: both sides are computed here). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

type Data = (r: () => number) => { yt: number[]; yp: number[] };
const fill = (f: (i: number) => number) => Array.from({ length: B * C }, (_, i) => f(i));
const real: Data = (r) => ({ yt: fill(() => r() * 4 - 2), yp: fill(() => r() * 4 - 2) });
const binary: Data = (r) => ({ yt: fill(() => (r() < 0.5 ? 0 : 1)), yp: fill(() => 0.02 + 0.96 * r()) });
const logits: Data = (r) => ({ yt: fill((i) => (i % C === (Math.floor(i / C) * 7) % C ? 1 : 0)), yp: fill(() => r() * 8 - 4) });
const probs: Data = (r) => {
  const { yt, yp } = logits(r);
  for (let i = 0; i < B; i++) {
    const row = yp.slice(i * C, (i + 1) * C).map(Math.exp);
    const s = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => (yp[i * C + j] = v / s));
  }
  return { yt, yp };
};

type Call = (yt: tf.Tensor, yp: tf.Tensor, sw?: tf.Tensor) => tf.Tensor;
interface Spec {
  name: string;
  data: Data;
  lossc: () => LossFunction;
  builtin?: Call;
  weighted?: boolean;
}

const custom = () =>
  compile`loss mine(y_true, y_pred; c = 0.8) =
  let e = (y_true - y_pred) / c
  mean(log1p(e^2) + 0.1 * relu(y_pred - 1) + 0.05 * tanh(y_pred) * sigmoid(y_true), axis = -1)`.losses.mine!();

const SPECS: Spec[] = [
  { name: 'mse', data: real, lossc: () => losses.mean_squared_error!(), builtin: (yt, yp) => tf.losses.meanSquaredError(yt, yp) },
  { name: 'bce', data: binary, lossc: () => losses.binary_crossentropy!(), builtin: (yt, yp) => tf.mean(tf.metrics.binaryCrossentropy(yt, yp)) },
  { name: 'cce', data: probs, lossc: () => losses.categorical_crossentropy!(), builtin: (yt, yp) => tf.mean(tf.metrics.categoricalCrossentropy(yt, yp)) },
  { name: 'cce logits', data: logits, lossc: () => losses.categorical_crossentropy!({ from_logits: true }), builtin: (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp) },
  { name: 'binary focal', data: binary, lossc: () => losses.binary_focal_crossentropy!() },
  { name: 'focal logits', data: logits, lossc: () => losses.focal_loss!({ from_logits: true }) },
  { name: 'custom', data: real, lossc: custom },
  { name: 'mse weighted', data: real, lossc: () => losses.mean_squared_error!(), builtin: (yt, yp, sw) => tf.losses.meanSquaredError(yt, yp, sw!.reshape([B, 1])), weighted: true },
  { name: 'bce weighted', data: binary, lossc: () => losses.binary_crossentropy!(), weighted: true },
  { name: 'cce weighted', data: probs, lossc: () => losses.categorical_crossentropy!(), weighted: true },
];

/** Value and gradient (with respect to y_pred) of the reduced loss, read back. */
function valueGrad(f: Call, yt: tf.Tensor, yp: tf.Tensor, sw?: tf.Tensor): ValueGrad {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => f(yt, p, sw) as tf.Scalar)(yp);
    return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
  });
}

/** The kernels a call runs (tf.profile), how many are lossc's programs, and every GPU program (unpacking included). */
async function counts(run: () => void): Promise<FusedCounts> {
  const backend = tf.backend() as unknown as { runWebGLProgram: (...a: unknown[]) => unknown };
  const original = backend.runWebGLProgram;
  let programs = 0;
  backend.runWebGLProgram = function (this: unknown, ...a: unknown[]) {
    programs++;
    return original.apply(this, a);
  };
  try {
    const info = await tf.profile(run);
    return { kernels: info.kernels.length, fused: info.kernels.filter((k) => k.name === FUSED_KERNEL).length, programs };
  } finally {
    backend.runWebGLProgram = original;
  }
}

/** Median ms of a value+gradient call (shaders already compiled by the runs before): the machine is shared, a median is steadier. */
function time(run: () => void): number {
  const ms = Array.from({ length: REPS }, () => {
    const t0 = performance.now();
    run();
    return performance.now() - t0;
  });
  return ms.sort((a, b) => a - b)[REPS >> 1]!;
}

async function measure(fusion: boolean, f: Call, yt: tf.Tensor, yp: tf.Tensor, sw?: tf.Tensor) {
  setWebglFusion(fusion);
  const result = valueGrad(f, yt, yp, sw);
  const run = () => void valueGrad(f, yt, yp, sw);
  return { result, counts: await counts(run), millis: time(run) };
}

/** Every spec, the target on and off, then the built-in; the target left on. */
export async function webglFused(): Promise<FusedAnswer> {
  const out: FusedCase[] = [];
  try {
    for (const [k, spec] of SPECS.entries()) {
      const { yt: t, yp: p } = spec.data(lcg(1000 + k));
      const yt = tf.tensor2d(t, [B, C]);
      const yp = tf.tensor2d(p, [B, C]);
      const sw = spec.weighted ? tf.tensor1d(Array.from({ length: B }, (_, i) => 0.25 + (i % 5) / 4)) : undefined;
      const loss = spec.lossc();
      const lossc: Call = (a, b, w) => loss(a, b, w);
      const fused = await measure(true, lossc, yt, yp, sw);
      const opByOp = await measure(false, lossc, yt, yp, sw);
      const builtin = spec.builtin ? await measure(false, spec.builtin, yt, yp, sw) : undefined;
      out.push({
        name: spec.name,
        fused: fused.result,
        opByOp: opByOp.result,
        builtin: builtin?.result,
        counts: { fused: fused.counts, opByOp: opByOp.counts, builtin: builtin?.counts },
        millis: { fused: fused.millis, opByOp: opByOp.millis, builtin: builtin?.millis },
      });
      tf.dispose([yt, yp, ...(sw ? [sw] : [])]);
    }
  } finally {
    setWebglFusion(true);
  }
  return { cases: out, specials: specials() };
}

// ---- special values: what GLSL leaves undefined (overflow, log of 0 and negatives, NaN through
// max/min, ...) must come out as on cpu. [8, 16]: 128 entries, not handed to the CPU by tfjs. ----

const SPECIAL = [0, -0, 1, -1, 0.5, -0.5, 1e-7, -1e-7, 1e-30, -1e-30, 3, -3, 20, -20, 50, -50, 88, -88, 89, -89, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN, 2.5, -2.5, 0.25, 1e-4, -1e-4];

const SPECIAL_FORMULAS: Record<string, string> = {
  exp: 'exp(y_pred)',
  log: 'log(y_pred)',
  log1p: 'log1p(y_pred)',
  expm1: 'expm1(y_pred)',
  sqrt: 'sqrt(y_pred)',
  tanh: 'tanh(y_pred)',
  cosh: 'cosh(y_pred)',
  sinh: 'sinh(y_pred)',
  sigmoid: 'sigmoid(y_pred)',
  softplus: 'softplus(y_pred)',
  sign: 'sign(y_pred)',
  floor: 'floor(y_pred)',
  div: 'y_true / y_pred',
  max: 'max(y_true, y_pred)',
  min: 'min(y_true, y_pred)',
  square: 'y_pred ^ 2',
  cube: 'y_pred ^ 3',
  inverse: 'y_pred ^ -1',
  pow: 'y_true ^ y_pred',
  clip: 'clip(y_pred, -1, 1)',
  where: 'where(y_pred > y_true, y_pred, y_true)',
};

/** Each formula's values on the special inputs, as strings (NaN and the infinities survive the page's answer). */
export function specials(): Record<string, string[]> {
  const yp = tf.tensor2d(Array.from({ length: 128 }, (_, i) => SPECIAL[i % SPECIAL.length]!), [8, 16]);
  const yt = tf.tensor2d(Array.from({ length: 128 }, (_, i) => SPECIAL[(i * 7 + 3) % SPECIAL.length]!), [8, 16]);
  const m = compile(Object.entries(SPECIAL_FORMULAS).map(([k, e]) => `loss s_${k}(y_true, y_pred) = ${e}`).join('\n'));
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(SPECIAL_FORMULAS)) {
    out[k] = tf.tidy(() => Array.from(m.losses[`s_${k}`]!({ reduction: 'none' })(yt, yp).dataSync(), String));
  }
  tf.dispose([yt, yp]);
  return out;
}
