// `npm run bench`: lossc against the tfjs code it replaces, measured in one run.
//
// For each workload, on each backend: the tfjs built-in loss (where one exists), the same formula
// written in plain tfjs ops, a hand-written JavaScript loop, and lossc — each for the value alone
// and for value + gradient with respect to y_pred. Results are checked for agreement before any
// time is reported. A goals table follows: lossc against tfjs and against the hand loop. Then the
// compile time of every stdlib loss (source → callable, and → printed derivative), the fused
// kernel alone against hand-written loops (bench/fused-kernel.ts), 200 shapes in rotation and the
// memory kept per shape (bench/shapes.ts), and the cold start as whole processes, tfjs alone
// against tfjs + lossc (bench/cold-start.ts; `--only cold-start` runs it alone).
//
//   npm run bench                   full sizes and the small [32, 10] size, cpu and wasm
//   npm run bench -- --quick        fewer repetitions
//   npm run bench -- --json out.json
//   npm run bench -- --backend wasm --only mse

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writeFileSync } from 'node:fs';
import { derivative, losses, Library, type LossFunction } from '../src/index.js';
import { useBackend } from '../src/backend.js';
import { makeLoss } from '../src/api/losses.js';
import { FastPath } from '../src/compile/fast.js';
import { fusedKernelTimings } from './fused-kernel.js';
import { coldStart, coldStartTable } from './cold-start.js';
import { shapeRotation } from './shapes.js';
import { userTables } from './user.js';
import { lcg, shuffler } from './order.js';

type Fn = (yt: tf.Tensor, yp: tf.Tensor) => tf.Tensor;
/**
 * A hand-written loop over y_true and y_pred (y_pred of the given 2-D shape): returns the loss,
 * and writes d loss / d y_pred into `g` when one is given (a fresh, zero-filled buffer).
 */
type HandLoop = (yt: Float32Array, yp: Float32Array, shape: number[], g?: Float32Array) => number;

interface Workload {
  name: string;
  /** Shapes of y_true and y_pred at the full size. */
  shapes: (small: boolean) => { t: number[]; p: number[] };
  data: (t: number[], p: number[], r: () => number) => { yt: number[]; yp: number[] };
  builtin?: Fn;
  ops: Fn;
  hand: HandLoop;
  lossc: () => LossFunction;
  /** y_true holds integer labels (an int32 tensor). */
  intLabels?: boolean;
  /** Rounds at the full size, when fewer than the others' (a workload of seconds per call). */
  fullReps?: number;
  /** Its own goal for tfjs / lossc at the full size, where the backend's is not it. */
  tfjsTarget?: number;
}

const EPS = 1e-7;

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const fill = (n: number, f: () => number) => Array.from({ length: n }, f);

// The hand-written loops: what a competent user writes for each `ops` formula, in doubles, one pass
// per row where the formula allows, numerically stable.

// mse: mean of (p − t)²; gradient 2(p − t)/n.
function mseHand(yt: Float32Array, yp: Float32Array, _shape: number[], g?: Float32Array): number {
  const n = yp.length;
  const k = 2 / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = yp[i]! - yt[i]!;
    s += d * d;
    if (g) g[i] = k * d;
  }
  return s / n;
}

// bce: p clipped to [ε, 1 − ε], mean of −(t log p + (1 − t) log(1 − p)); zero gradient where the clip bites.
function bceHand(yt: Float32Array, yp: Float32Array, _shape: number[], g?: Float32Array): number {
  const n = yp.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const t = yt[i]!;
    const x = yp[i]!;
    const p = x < EPS ? EPS : x > 1 - EPS ? 1 - EPS : x;
    s -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    if (g) g[i] = p === x ? ((1 - t) / (1 - p) - t / p) / n : 0;
  }
  return s / n;
}

// cce from logits, per row: e = exp(z − max z) kept in g; loss T·(max z + log Σe) − Σ t·z (T = Σ t); gradient (T·e/Σe − t)/rows.
function cceHand(yt: Float32Array, yp: Float32Array, shape: number[], g?: Float32Array): number {
  const [rows, c] = shape as [number, number];
  let s = 0;
  for (let o = 0; o < rows * c; o += c) {
    let m = -Infinity;
    for (let j = o; j < o + c; j++) if (yp[j]! > m) m = yp[j]!;
    let se = 0;
    let tz = 0;
    let tt = 0;
    for (let j = o; j < o + c; j++) {
      const e = Math.exp(yp[j]! - m);
      se += e;
      tz += yt[j]! * yp[j]!;
      tt += yt[j]!;
      if (g) g[j] = e;
    }
    s += tt * (m + Math.log(se)) - tz;
    if (g) {
      const k = tt / se;
      for (let j = o; j < o + c; j++) g[j] = (k * g[j]! - yt[j]!) / rows;
    }
  }
  return s / rows;
}

// focal from logits (γ = 2, α = 0.25): z = (2t − 1)·x; e = exp(−|z|) gives s = σ(−z) and softplus(−z); Σ α_t·s²·softplus(−z) / rows.
function focalHand(yt: Float32Array, yp: Float32Array, shape: number[], g?: Float32Array): number {
  const n = yp.length;
  const rows = shape[0]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = yt[i]!;
    const sign = 2 * t - 1;
    const z = sign * yp[i]!;
    const at = 0.25 * t + 0.75 * (1 - t);
    const e = Math.exp(-Math.abs(z));
    const r = 1 / (1 + e);
    const s = z >= 0 ? e * r : r; // σ(−z)
    const sp = (z >= 0 ? 0 : -z) + Math.log1p(e); // softplus(−z)
    const ats2 = at * s * s;
    sum += ats2 * sp;
    if (g) g[i] = (-sign * ats2 * (2 * (z >= 0 ? r : e * r) * sp + s)) / rows; // 1 − s = σ(z)
  }
  return sum / rows;
}

// triplet: row = [a | p | n], mean of relu(|a − p|² − |a − n|² + 0.2); on active rows gradient 2(n − p), 2(p − a), 2(a − n) / rows.
function tripletHand(_yt: Float32Array, yp: Float32Array, shape: number[], g?: Float32Array): number {
  const [rows, w] = shape as [number, number];
  const d = w / 3;
  const k = 2 / rows;
  let s = 0;
  for (let o = 0; o < rows * w; o += w) {
    let v = 0.2;
    for (let j = o; j < o + d; j++) {
      const ap = yp[j]! - yp[j + d]!;
      const an = yp[j]! - yp[j + 2 * d]!;
      v += ap * ap - an * an;
    }
    if (v <= 0) continue; // an inactive row: its gradient stays zero
    s += v;
    if (g) {
      for (let j = o; j < o + d; j++) {
        const a = yp[j]!;
        const p = yp[j + d]!;
        const q = yp[j + 2 * d]!;
        g[j] = k * (q - p);
        g[j + d] = k * (p - a);
        g[j + 2 * d] = k * (a - q);
      }
    }
  }
  return s / rows;
}

// huber, δ = 1: e = p − t, mean of ½e² where |e| ≤ 1 and |e| − ½ elsewhere; gradient clip(e, −1, 1)/n.
function huberHand(yt: Float32Array, yp: Float32Array, _shape: number[], g?: Float32Array): number {
  const n = yp.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = yp[i]! - yt[i]!;
    const a = Math.abs(e);
    s += a <= 1 ? 0.5 * e * e : a - 0.5;
    if (g) g[i] = (a <= 1 ? e : e > 0 ? 1 : -1) / n;
  }
  return s / n;
}

// batch-hard triplet (margin 0.2), as stdlib's batch_hard_triplet_loss: per anchor i, one row of
// squared distances d_j = max(|y_i|² + |y_j|² − 2 y_i·y_j, 0) at a time (memory O(N)); the hardest
// positive max_j(same ∧ j ≠ i ? d_j : 0) and negative min_j(same ? ∞ : d_j), entries tied for either
// sharing its adjoint; each picked pair (i, j) with weight w adds 2w(y_i − y_j) to g_i and 2w(y_j − y_i) to g_j.
function batchHardHand(yt: Float32Array, yp: Float32Array, shape: number[], g?: Float32Array): number {
  const [n, dim] = shape as [number, number];
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) sq[i]! += yp[i * dim + k]! ** 2;
  const pre = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    let hp = -Infinity;
    let hn = Infinity;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += yp[i * dim + k]! * yp[j * dim + k]!;
      const p = sq[i]! + sq[j]! - 2 * dot;
      pre[j] = p;
      const d = Math.max(p, 0);
      const same = yt[i] === yt[j];
      hp = Math.max(hp, same && j !== i ? d : 0);
      hn = Math.min(hn, same ? Infinity : d);
    }
    const z = hp - hn + 0.2;
    s += Math.max(z, 0);
    if (!g || z < 0) continue;
    let tp = 0;
    let tn = 0;
    for (let j = 0; j < n; j++) {
      const same = yt[i] === yt[j];
      const d = Math.max(pre[j]!, 0);
      if ((same && j !== i ? d : 0) === hp) tp++;
      if ((same ? Infinity : d) === hn) tn++;
    }
    for (let j = 0; j < n; j++) {
      const same = yt[i] === yt[j];
      const d = Math.max(pre[j]!, 0);
      let w = 0;
      if (same && j !== i && d === hp) w += 1 / (n * tp);
      if (!same && d === hn) w -= 1 / (n * tn);
      if (w === 0 || pre[j]! < 0) continue;
      for (let k = 0; k < dim; k++) {
        const e = 2 * w * (yp[i * dim + k]! - yp[j * dim + k]!);
        g[i * dim + k]! += e;
        g[j * dim + k]! -= e;
      }
    }
  }
  return s / n;
}

/** A hand loop fed from tensors the way a user must: read both inputs, then build the outputs. */
function runHand(loop: HandLoop, yt: tf.Tensor, yp: tf.Tensor, withGrad: boolean): tf.Tensor[] {
  const g = withGrad ? new Float32Array(yp.size) : undefined;
  const value = loop(yt.dataSync() as Float32Array, yp.dataSync() as Float32Array, yp.shape, g);
  return g ? [tf.scalar(value), tf.tensor(g, yp.shape)] : [tf.scalar(value)];
}

const WORKLOADS: Workload[] = [
  {
    name: 'mse',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [65536, 16], p: [65536, 16] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => r() * 2 - 1), yp: fill(size(p), () => r() * 2 - 1) }),
    builtin: (yt, yp) => tf.losses.meanSquaredError(yt, yp),
    ops: (yt, yp) => tf.mean(tf.square(tf.sub(yt, yp))),
    hand: mseHand,
    lossc: () => losses.mean_squared_error!(),
  },
  {
    name: 'bce (probabilities, Keras clip)',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [65536, 16], p: [65536, 16] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => (r() < 0.5 ? 0 : 1)), yp: fill(size(p), () => 0.02 + 0.96 * r()) }),
    builtin: (yt, yp) => tf.mean(tf.metrics.binaryCrossentropy(yt, yp)),
    ops: (yt, yp) => {
      const p = tf.clipByValue(yp, EPS, 1 - EPS);
      return tf.neg(tf.mean(tf.add(tf.mul(yt, tf.log(p)), tf.mul(tf.sub(1, yt), tf.log(tf.sub(1, p))))));
    },
    hand: bceHand,
    lossc: () => losses.binary_crossentropy!(),
  },
  {
    name: 'cce (from logits)',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [8192, 128], p: [8192, 128] }),
    data: (t, p, r) => {
      const c = t[1]!;
      return { yt: fill(size(t), () => 0).map((_, i) => (i % c === (Math.floor(i / c) * 7) % c ? 1 : 0)), yp: fill(size(p), () => r() * 6 - 3) };
    },
    builtin: (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp),
    ops: (yt, yp) => tf.neg(tf.mean(tf.sum(tf.mul(yt, tf.logSoftmax(yp)), -1))),
    hand: cceHand,
    lossc: () => losses.categorical_crossentropy!({ from_logits: true }),
  },
  {
    name: 'binary focal (from logits)',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [65536, 16], p: [65536, 16] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => (r() < 0.5 ? 0 : 1)), yp: fill(size(p), () => r() * 8 - 4) }),
    ops: (yt, yp) => {
      // focal_loss(gamma = 2, alpha = 0.25, from_logits = true), summed over the last axis
      const z = tf.mul(tf.sub(tf.mul(2, yt), 1), yp);
      const at = tf.add(tf.mul(yt, 0.25), tf.mul(tf.sub(1, yt), 0.75));
      const term = tf.mul(tf.mul(at, tf.square(tf.sigmoid(tf.neg(z)))), tf.softplus(tf.neg(z)));
      return tf.mean(tf.sum(term, -1));
    },
    hand: focalHand,
    lossc: () => losses.focal_loss!({ from_logits: true }),
  },
  {
    name: 'triplet (squared L2)',
    shapes: (small) => (small ? { t: [32, 1], p: [32, 30] } : { t: [8192, 1], p: [8192, 192] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => 0), yp: fill(size(p), () => r() * 2 - 1) }),
    ops: (_yt, yp) => {
      const [a, p, n] = tf.split(yp, 3, 1);
      const d = tf.sub(tf.sum(tf.square(tf.sub(a!, p!)), 1), tf.sum(tf.square(tf.sub(a!, n!)), 1));
      return tf.mean(tf.relu(tf.add(d, 0.2)));
    },
    hand: tripletHand,
    lossc: () => losses.triplet_loss!(),
  },
  {
    name: 'huber',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [65536, 16], p: [65536, 16] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => r() * 4 - 2), yp: fill(size(p), () => r() * 4 - 2) }),
    builtin: (yt, yp) => tf.losses.huberLoss(yt, yp),
    ops: (yt, yp) => {
      const e = tf.abs(tf.sub(yp, yt));
      const q = tf.minimum(e, 1);
      return tf.mean(tf.add(tf.mul(0.5, tf.square(q)), tf.sub(e, q)));
    },
    hand: huberHand,
    lossc: () => losses.huber!(),
  },
  {
    name: 'batch-hard triplet',
    shapes: (small) => (small ? { t: [32], p: [32, 8] } : { t: [4096], p: [4096, 32] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => Math.floor(r() * 64)), yp: fill(size(p), () => r() * 2 - 1) }),
    ops: (yt, yp) => {
      const n = yp.shape[0]!;
      const sq = tf.sum(tf.square(yp), 1);
      const d = tf.relu(tf.sub(tf.add(tf.expandDims(sq, 1), tf.expandDims(sq, 0)), tf.mul(2, tf.matMul(yp, yp, false, true))));
      const same = tf.equal(tf.expandDims(yt, 1), tf.expandDims(yt, 0));
      const pos = tf.logicalAnd(same, tf.logicalNot(tf.cast(tf.eye(n), 'bool')));
      const hp = tf.max(tf.where(pos, d, tf.zerosLike(d)), 1);
      const hn = tf.min(tf.where(same, tf.fill([n, n], Infinity), d), 1);
      return tf.mean(tf.relu(tf.add(tf.sub(hp, hn), 0.2)));
    },
    hand: batchHardHand,
    lossc: () => losses.batch_hard_triplet_loss!(),
    intLabels: true,
    fullReps: 3,
    tfjsTarget: 5, // issue 13: at least 5× on cpu and wasm
  },
];

const HAND = 'hand-written JS loop';

interface Row {
  backend: string;
  workload: string;
  size: string;
  impl: string;
  mode: 'value' | 'value+grad';
  medianMs: number;
  ratio?: number; // this implementation's time / lossc's time
  /** The lowest and highest of that ratio over the rounds (each round times every implementation once). */
  spread?: [number, number];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One call as a training step makes it: run, wait for every result, free them. */
function callOnce(f: () => tf.Tensor | tf.Tensor[]): void {
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  for (const t of list) t.dataSync(); // wait for the result, as a training step would
  tf.dispose(list);
}

/**
 * Median ms per call of each function, measured interleaved (one call of each per round, in a
 * seeded random order, `reps` rounds), so that a slow stretch of a shared machine slows every implementation alike.
 */
function timeInterleaved(fs: Array<() => tf.Tensor | tf.Tensor[]>, reps: number): number[][] {
  // Warm up to steady state, as in training (thousands of calls): generated code and tfjs's own
  // kernels are first interpreted, then optimised by V8. At least 2 calls and 50 ms (at most 500).
  for (const f of fs) {
    const warm = performance.now();
    for (let i = 0; i < 500 && (i < 2 || performance.now() - warm < 50); i++) callOnce(f);
  }
  const times = fs.map(() => [] as number[]);
  const order = shuffler(fs.length);
  for (let r = 0; r < reps; r++) {
    for (const i of order()) {
      const t0 = performance.now();
      callOnce(fs[i]!);
      times[i]!.push(performance.now() - t0);
    }
  }
  return times;
}

function valueAndGrad(fn: Fn, yt: tf.Tensor, yp: tf.Tensor): tf.Tensor[] {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => fn(yt, p) as tf.Scalar)(yp);
  return [value, grad];
}

function agree(a: tf.Tensor[], b: tf.Tensor[], what: string): void {
  a.forEach((x, i) => {
    const u = x.dataSync();
    const v = b[i]!.dataSync();
    let worst = 0;
    for (let k = 0; k < u.length; k++) worst = Math.max(worst, Math.abs(u[k]! - v[k]!) / (1e-6 + 1e-3 * Math.abs(v[k]!)));
    if (!(worst <= 1)) throw new Error(`${what}: results disagree (output ${i}, worst scaled error ${worst.toFixed(2)})`);
  });
}

function benchLosses(backend: string, small: boolean, reps: number, only?: string): Row[] {
  const rows: Row[] = [];
  for (const w of WORKLOADS) {
    if (only && !w.name.startsWith(only)) continue;
    const { t, p } = w.shapes(small);
    const d = w.data(t, p, lcg(42));
    const yt = tf.tensor(d.yt, t, w.intLabels ? 'int32' : 'float32');
    const yp = tf.tensor(d.yp, p);
    const lossc = w.lossc();
    const fns: Array<[string, Fn]> = [['lossc', lossc as Fn], ['tfjs ops + tf.grad', w.ops]];
    if (w.builtin) fns.push(['tfjs built-in', w.builtin]);
    // Every implementation as one call: the value alone, or the value and the gradient.
    const impls: Array<[string, (withGrad: boolean) => tf.Tensor | tf.Tensor[]]> = fns.map(([name, f]) => [
      name,
      (withGrad) => (withGrad ? valueAndGrad(f, yt, yp) : f(yt, yp)),
    ]);
    impls.push([HAND, (withGrad) => runHand(w.hand, yt, yp, withGrad)]);
    // Agreement first: value and gradient of every implementation against lossc's, and the value
    // alone (its own code path in the hand loop) against lossc's value.
    const ref = tf.tidy(() => valueAndGrad(lossc as Fn, yt, yp));
    for (const [name, run] of impls.slice(1)) {
      const both = tf.tidy(() => run(true)) as tf.Tensor[];
      const value = tf.tidy(() => run(false));
      agree(both, ref, `${w.name} ${name} vs lossc`);
      agree([value].flat(), [ref[0]!], `${w.name} ${name} (value alone) vs lossc`);
      tf.dispose([both, value]);
    }
    tf.dispose(ref);
    const sizeText = `[${p.join(',')}]`;
    for (const mode of ['value', 'value+grad'] as const) {
      const times = timeInterleaved(impls.map(([, run]) => () => run(mode === 'value+grad')), small ? reps : Math.min(reps, w.fullReps ?? reps));
      const base = median(times[0]!);
      impls.forEach(([name], i) => {
        const perRound = times[i]!.map((t, r) => t / times[0]![r]!);
        const spread: [number, number] = [Math.min(...perRound), Math.max(...perRound)];
        const lossc = name === 'lossc';
        rows.push({ backend, workload: w.name, size: sizeText, impl: name, mode, medianMs: median(times[i]!), ratio: lossc ? undefined : median(times[i]!) / base, spread: lossc ? undefined : spread });
      });
    }
    tf.dispose([yt, yp]);
  }
  return rows;
}

/**
 * The issue's speed goals, for one backend × size × workload × mode. At the full size (value +
 * gradient): tfjs / lossc ≥ 10 on cpu and ≥ 1.5 on wasm, and lossc / hand loop ≤ 1.5. At the
 * small size (both modes): tfjs / lossc ≥ 1, lossc never slower. "tfjs" is the faster of its
 * plain ops and its built-in.
 */
interface Goal {
  backend: string;
  workload: string;
  size: string;
  small: boolean;
  mode: Row['mode'];
  opsOverLossc: number;
  builtinOverLossc?: number;
  tfjsOverLossc: number;
  losscOverHand: number;
  /** tfjs / lossc must be at least this (none for a backend without a stated goal). */
  tfjsTarget?: number;
  tfjsMet?: boolean;
  /** lossc / hand loop must be at most HAND_TARGET (a goal at the full size only). */
  handMet?: boolean;
}

const TFJS_TARGET: Record<string, number> = { cpu: 10, wasm: 1.5 };
const HAND_TARGET = 1.5;

function goals(backend: string, small: boolean, rows: Row[]): Goal[] {
  const out: Goal[] = [];
  for (const w of WORKLOADS) {
    for (const mode of small ? (['value', 'value+grad'] as const) : (['value+grad'] as const)) {
      const ratio = (impl: string) => rows.find((r) => r.workload === w.name && r.mode === mode && r.impl === impl)?.ratio;
      const ops = ratio('tfjs ops + tf.grad');
      const hand = ratio(HAND);
      if (ops === undefined || hand === undefined) continue; // not run (--only)
      const builtin = ratio('tfjs built-in');
      const tfjs = Math.min(ops, builtin ?? Infinity);
      const tfjsTarget = small ? 1 : (w.tfjsTarget ?? TFJS_TARGET[backend]);
      out.push({
        backend,
        workload: w.name,
        size: rows.find((r) => r.workload === w.name)!.size,
        small,
        mode,
        opsOverLossc: ops,
        builtinOverLossc: builtin,
        tfjsOverLossc: tfjs,
        losscOverHand: 1 / hand,
        tfjsTarget,
        tfjsMet: tfjsTarget === undefined ? undefined : tfjs >= tfjsTarget,
        handMet: small ? undefined : 1 / hand <= HAND_TARGET,
      });
    }
  }
  return out;
}

function goalsTable(gs: Goal[]): string {
  const x = (v: number) => `${v.toFixed(2)}×`;
  const yes = (met: boolean | undefined) => (met === undefined ? '-' : met ? 'yes' : 'NO');
  const lines = [
    'goals, full size, value + gradient ("tfjs" is the faster of its ops and its built-in):',
    `| backend | workload | size | tfjs ops / lossc | tfjs built-in / lossc | lossc / hand loop | tfjs / lossc ≥ goal | lossc within ${HAND_TARGET}× of hand |`,
    '|---|---|---|---:|---:|---:|---|---|',
  ];
  for (const g of gs.filter((g) => !g.small)) {
    const builtin = g.builtinOverLossc === undefined ? '-' : x(g.builtinOverLossc);
    const target = g.tfjsTarget === undefined ? '-' : `≥${g.tfjsTarget}×: ${yes(g.tfjsMet)}`;
    lines.push(`| ${g.backend} | ${g.workload} | ${g.size} | ${x(g.opsOverLossc)} | ${builtin} | ${x(g.losscOverHand)} | ${target} | ${yes(g.handMet)} |`);
  }
  const backends = [...new Set(gs.filter((g) => g.small).map((g) => g.backend))];
  if (backends.length > 0) lines.push('', 'goal, small size: lossc never slower than tfjs (rows where it is, as tfjs / lossc):');
  for (const b of backends) {
    const slower = gs.filter((g) => g.small && g.backend === b && !g.tfjsMet);
    lines.push(`- ${b}: ${slower.length === 0 ? 'none' : slower.map((g) => `${g.workload} ${g.mode} ${x(g.tfjsOverLossc)}`).join('; ')}`);
  }
  return lines.join('\n');
}

interface CompileRow {
  loss: string;
  /** The first compile of this loss in the process (nothing memoised yet). */
  firstCallableMs: number;
  firstDerivativeMs: number;
  callableMs: number;
  derivativeMs: number;
}

function benchCompile(reps: number): CompileRow[] {
  const lib = Library.stdlib();
  const out: CompileRow[] = [];
  for (const name of lib.names().sort()) {
    const def = lib.get(name)!.def;
    if (def.kind !== 'loss') continue;
    const shapes = def.params.map((p) => (p.type?.dtype === 'int' ? [8] : name.includes('triplet') || name.includes('quadruplet') ? [8, 12] : [8, 6]));
    // Compiling means: lower, stabilise, differentiate, simplify, and build the call path
    // (the generated fused function where the backend is cpu/wasm, the tfjs plan otherwise).
    const callable = () => {
      const f = makeLoss(lib, def, {});
      f.compiled.entry(shapes.map((s) => ({ shape: s }) as unknown as tf.Tensor));
      new FastPath(f.compiled.pipeline, 'sum_over_batch_size').prepare(shapes);
    };
    const printed = () => derivative(name, 'y_pred').toString();
    let firstCallableMs: number;
    let firstDerivativeMs: number;
    try {
      let t0 = performance.now();
      callable();
      firstCallableMs = performance.now() - t0;
      t0 = performance.now();
      printed();
      firstDerivativeMs = performance.now() - t0;
    } catch {
      continue; // a loss whose inputs need another shape (circle's labels, ...): not timed here
    }
    const tc: number[] = [];
    const td: number[] = [];
    for (let i = 0; i < reps; i++) {
      let t0 = performance.now();
      callable();
      tc.push(performance.now() - t0);
      t0 = performance.now();
      printed();
      td.push(performance.now() - t0);
    }
    out.push({ loss: name, firstCallableMs, firstDerivativeMs, callableMs: median(tc), derivativeMs: median(td) });
  }
  return out;
}

function table(rows: Row[]): string {
  const lines = ['| backend | workload | size | implementation | mode | median ms | time / lossc (lowest–highest round) |', '|---|---|---|---|---|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.backend} | ${r.workload} | ${r.size} | ${r.impl} | ${r.mode} | ${r.medianMs.toFixed(2)} | ${r.ratio === undefined ? '1' : r.ratio.toFixed(2) + '×'}${r.spread ? ` (${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)})` : ''} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (k: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes('--quick');
  const backends = flag('--backend') ? [flag('--backend')!] : ['cpu', 'wasm'];
  const only = flag('--only');
  if (only === 'cold-start') return console.log(coldStartTable(coldStart(quick ? 5 : 11)).join('\n'));
  const rows: Row[] = [];
  const goalRows: Goal[] = [];
  for (const backend of backends) {
    await useBackend(backend);
    for (const small of [false, true]) {
      const reps = small ? (quick ? 20 : 100) : quick ? 3 : 11;
      const part = benchLosses(backend, small, reps, only);
      rows.push(...part);
      goalRows.push(...goals(backend, small, part));
    }
  }
  await useBackend('cpu');
  const compileRows = benchCompile(quick ? 5 : 21);
  console.log(table(rows));
  console.log('\n' + goalsTable(goalRows));
  console.log('\ncompile time (ms): source → callable with its gradient, and → printed derivative;');
  console.log('"first" is the first compile of that loss in this process, "again" the median of later ones');
  console.log('(rewrites and generated functions are memoised on the hash-consed IR).');
  console.log('| loss | callable, first | callable, again | derivative, first | derivative, again |\n|---|---:|---:|---:|---:|');
  for (const c of compileRows) {
    console.log(`| ${c.loss} | ${c.firstCallableMs.toFixed(2)} | ${c.callableMs.toFixed(2)} | ${c.firstDerivativeMs.toFixed(2)} | ${c.derivativeMs.toFixed(2)} |`);
  }
  console.log('\n' + fusedKernelTimings(quick).join('\n'));
  console.log('\n' + (await userTables(WORKLOADS.filter((w) => !only || w.name.startsWith(only)), backends, quick)));
  for (const backend of backends) {
    await useBackend(backend);
    console.log('');
    shapeRotation(quick);
  }
  const cold = coldStart(quick ? 5 : 11);
  console.log('\n' + coldStartTable(cold).join('\n'));
  const out = flag('--json');
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows, goals: goalRows, compile: compileRows, coldStart: cold }, null, 2));
}

await main();
