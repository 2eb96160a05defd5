// Shapes in rotation (issue 13 item 1): a loss called with 200 distinct batch sizes in turn, as
// varying batches or sequence lengths (and every epoch's last partial batch) make it. Part of
// `npm run bench`:
// - time per call, value + gradient, lossc against the tfjs built-in, interleaved shape by shape;
//   the ratio (tfjs / lossc) per round over all 200 shapes, its median and range over the rounds;
// - value only on wasm (`model.evaluate`, validation losses: the WebAssembly SIMD kernel), lossc
//   against the faster of tfjs's built-in and its formula, the same way, with the SIMD modules built;
// - RSS after 200 shapes of batch-hard triplet at N ≈ 2048 against RSS after its first shape
//   (the goal: at most 1.5×, i.e. no memory kept per shape seen).

import * as tf from '@tensorflow/tfjs';
import { losses, type LossFunction } from '../src/index.js';
import { fusedKernelsGenerated } from '../src/compile/fused.js';
import { simdModulesBuilt } from '../src/compile/wasm-simd/simd.js';
import { shuffler } from './order.js';

type Fn = (yt: tf.Tensor, yp: tf.Tensor) => tf.Tensor;

interface RotationCase {
  name: string;
  classes: number;
  labels: (n: number, c: number) => tf.Tensor;
  builtin: Fn;
  lossc: () => LossFunction;
}

const CASES: RotationCase[] = [
  {
    name: 'mse',
    classes: 10,
    labels: (n, c) => tf.randomUniform([n, c], -1, 1, 'float32', 1),
    builtin: (yt, yp) => tf.losses.meanSquaredError(yt, yp),
    lossc: () => losses.mean_squared_error!(),
  },
  {
    name: 'cce (from logits)',
    classes: 10,
    labels: (n, c) => tf.oneHot(tf.randomUniform([n], 0, c, 'int32', 2), c).asType('float32'),
    builtin: (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp),
    lossc: () => losses.categorical_crossentropy!({ from_logits: true }),
  },
];

/** The value-only cases: lossc against the faster of tfjs's built-in and its formula (per round). */
interface ValueCase {
  name: string;
  classes: number;
  labels: (n: number, c: number) => tf.Tensor;
  preds: (n: number, c: number) => tf.Tensor;
  tfjs: Fn[];
  lossc: () => LossFunction;
}

const bits = (n: number, c: number) => tf.randomUniform([n, c], 0, 1, 'float32', 4).greater(0.5).asType('float32');
const EPS = 1e-7;

const VALUE_CASES: ValueCase[] = [
  { name: 'mse', classes: 16, labels: (n, c) => tf.randomUniform([n, c], -1, 1, 'float32', 1), preds: (n, c) => tf.randomUniform([n, c], -1, 1, 'float32', 3), tfjs: [(yt, yp) => tf.losses.meanSquaredError(yt, yp), (yt, yp) => tf.mean(tf.square(tf.sub(yt, yp)))], lossc: () => losses.mean_squared_error!() },
  {
    name: 'bce (probabilities)',
    classes: 16,
    labels: bits,
    preds: (n, c) => tf.randomUniform([n, c], 0.02, 0.98, 'float32', 3),
    tfjs: [
      (yt, yp) => tf.mean(tf.metrics.binaryCrossentropy(yt, yp)),
      (yt, yp) => {
        const p = tf.clipByValue(yp, EPS, 1 - EPS);
        return tf.neg(tf.mean(tf.add(tf.mul(yt, tf.log(p)), tf.mul(tf.sub(1, yt), tf.log(tf.sub(1, p))))));
      },
    ],
    lossc: () => losses.binary_crossentropy!(),
  },
  {
    name: 'cce (from logits)',
    classes: 128,
    labels: (n, c) => tf.oneHot(tf.randomUniform([n], 0, c, 'int32', 2), c).asType('float32'),
    preds: (n, c) => tf.randomNormal([n, c], 0, 2, 'float32', 3),
    tfjs: [(yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp), (yt, yp) => tf.neg(tf.mean(tf.sum(tf.mul(yt, tf.logSoftmax(yp)), -1)))],
    lossc: () => losses.categorical_crossentropy!({ from_logits: true }),
  },
  {
    name: 'binary focal (from logits)',
    classes: 16,
    labels: bits,
    preds: (n, c) => tf.randomNormal([n, c], 0, 2, 'float32', 3),
    tfjs: [
      (yt, yp) => {
        const z = tf.mul(tf.sub(tf.mul(2, yt), 1), yp);
        const at = tf.add(tf.mul(yt, 0.25), tf.mul(tf.sub(1, yt), 0.75));
        return tf.mean(tf.sum(tf.mul(tf.mul(at, tf.square(tf.sigmoid(tf.neg(z)))), tf.softplus(tf.neg(z))), -1));
      },
    ],
    lossc: () => losses.focal_loss!({ from_logits: true }),
  },
];

/** One pass of value-only calls (as `model.evaluate` makes them) over every shape, each waited for and freed, in ms. */
function valuePass(f: Fn, data: ReadonlyArray<{ yt: tf.Tensor; yp: tf.Tensor }>): number {
  const t0 = performance.now();
  for (const { yt, yp } of data) {
    const out = tf.tidy(() => f(yt, yp));
    out.dataSync();
    out.dispose();
  }
  return performance.now() - t0;
}

/**
 * Value only, `shapes` batch sizes in turn: per round, one timed pass over all shapes of lossc
 * and of each tfjs function (in a seeded random order per round; a call takes microseconds, so passes
 * are timed, not calls); the ratio is the faster tfjs pass over lossc's.
 */
function valueRotation(c: ValueCase, shapes: number, rounds: number): string {
  const data = batches(shapes, 32).map((n) => ({ yt: c.labels(n, c.classes), yp: c.preds(n, c.classes) }));
  const f = c.lossc();
  const built = simdModulesBuilt();
  const first = valuePass(f, data) / shapes; // lossc builds its module here
  // warm-up passes: a call takes microseconds, so the JIT's state weighs on the first ones
  for (let w = 0; w < 10; w++) for (const g of [f, ...c.tfjs]) valuePass(g, data);
  const all = [f, ...c.tfjs];
  const ratios: number[] = [];
  const perCall = { lossc: [] as number[], tfjs: [] as number[] };
  const order = shuffler(all.length);
  for (let r = 0; r < rounds; r++) {
    const ms = all.map(() => 0);
    for (const i of order()) ms[i] = valuePass(all[i]!, data);
    const [lossc, ...tfjs] = ms as [number, ...number[]];
    const best = Math.min(...tfjs);
    ratios.push(best / lossc);
    perCall.lossc.push(lossc / shapes);
    perCall.tfjs.push(best / shapes);
  }
  for (const { yt, yp } of data) tf.dispose([yt, yp]);
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  return (
    `| ${tf.getBackend()} | ${c.name}, value only, C = ${c.classes} | ${shapes} | ${median(perCall.lossc).toFixed(3)} | ${median(perCall.tfjs).toFixed(3)} | ` +
    `**${median(ratios).toFixed(2)}×** (${lo.toFixed(2)}–${hi.toFixed(2)}) | ${first.toFixed(3)} | ${simdModulesBuilt() - built} SIMD modules |`
  );
}

/** One value + gradient call, waited for and freed, in ms. */
function timed(f: Fn, yt: tf.Tensor, yp: tf.Tensor): number {
  const t0 = performance.now();
  const out = tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => f(yt, p) as tf.Scalar)(yp);
    return [value, grad];
  });
  for (const t of out) t.dataSync();
  tf.dispose(out);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Batch sizes 32, 33, ... : `count` distinct shapes. */
const batches = (count: number, from: number) => Array.from({ length: count }, (_, i) => from + i);

function rotation(c: RotationCase, shapes: number, rounds: number): string {
  const data = batches(shapes, 32).map((n) => ({ yt: c.labels(n, c.classes), yp: tf.randomNormal([n, c.classes], 0, 2, 'float32', 3) }));
  const f = c.lossc();
  const generated = fusedKernelsGenerated();
  // Round 0 is the first pass (lossc compiles its one signature there); rounds after it are timed.
  const ratios: number[] = [];
  const perCall = { lossc: [] as number[], tfjs: [] as number[] };
  let first = 0;
  for (let r = 0; r <= rounds; r++) {
    let lossc = 0;
    let tfjs = 0;
    for (const { yt, yp } of data) {
      lossc += timed(f, yt, yp);
      tfjs += timed(c.builtin, yt, yp);
    }
    if (r === 0) first = lossc / shapes;
    else {
      ratios.push(tfjs / lossc);
      perCall.lossc.push(lossc / shapes);
      perCall.tfjs.push(tfjs / shapes);
    }
  }
  for (const { yt, yp } of data) tf.dispose([yt, yp]);
  const kernels = fusedKernelsGenerated() - generated;
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  return (
    `| ${tf.getBackend()} | ${c.name} | ${shapes} | ${median(perCall.lossc).toFixed(3)} | ${median(perCall.tfjs).toFixed(3)} | ` +
    `**${median(ratios).toFixed(2)}×** (${lo.toFixed(2)}–${hi.toFixed(2)}) | ${first.toFixed(3)} | ${kernels} |`
  );
}

const mib = (bytes: number) => bytes / 2 ** 20;

/**
 * RSS after the first shape and after `shapes` shapes of batch-hard triplet at N ≈ 2048, D = 32
 * (`progress` hears the RSS every 20 shapes: the calls take seconds each).
 */
function tripletMemory(shapes: number, progress: (line: string) => void): string {
  const f = losses.batch_hard_triplet_loss!();
  const d = 32;
  const call = (n: number) => {
    const yt = tf.randomUniform([n], 0, 64, 'int32', n);
    const yp = tf.randomNormal([n, d], 0, 1, 'float32', n);
    timed(f, yt, yp);
    tf.dispose([yt, yp]);
  };
  const t0 = performance.now();
  // RSS before any call too: in `npm run bench` the process holds what earlier sections left, so
  // the ratio alone understates the kernel's share (after − first is the growth over 200 shapes).
  const before = process.memoryUsage().rss;
  call(2048);
  const first = process.memoryUsage().rss;
  const sizes = batches(shapes - 1, 2049 - shapes);
  sizes.forEach((n, i) => {
    call(n);
    if ((i + 2) % 20 === 0) progress(`  (${i + 2} shapes: RSS ${mib(process.memoryUsage().rss).toFixed(0)} MiB, first ${mib(first).toFixed(0)} MiB)`);
  });
  const after = process.memoryUsage().rss;
  const ms = (performance.now() - t0) / shapes;
  return `| ${tf.getBackend()} | batch-hard triplet, N = ${2049 - shapes}–2048, D = ${d} | ${shapes} | ${mib(before).toFixed(0)} MiB | ${mib(first).toFixed(0)} MiB | ${mib(after).toFixed(0)} MiB | **${(after / first).toFixed(2)}×** (goal ≤ 1.5×) | ${ms.toFixed(0)} ms |`;
}

/** The section, printed line by line as it is measured: the rotation table, then the memory row. */
/** `valueOnly`: the value-only rows alone (to measure them on their own). */
export function shapeRotation(quick: boolean, print: (line: string) => void = console.log, valueOnly = false): void {
  const shapes = 200;
  print(`shapes in rotation: ${shapes} distinct batch sizes (32–${31 + shapes}) called in turn, value + gradient; ratio = tfjs built-in / lossc per round over all shapes, median (range) of the rounds; "first" is lossc's first pass (its compile included); value-only rows (wasm): lossc against the faster of tfjs's built-in and formula, one timed pass over all shapes per round`);
  print('| backend | workload | shapes | lossc ms/call | tfjs ms/call | tfjs / lossc | lossc first pass ms/call | kernels generated |');
  print('|---|---|---:|---:|---:|---:|---:|---:|');
  if (!valueOnly) for (const c of CASES) print(rotation(c, shapes, quick ? 2 : 5));
  if (tf.getBackend() === 'wasm') for (const c of VALUE_CASES) print(valueRotation(c, shapes, quick ? 5 : 15));
  if (valueOnly) return;
  print('');
  print('memory kept per shape: RSS after the first shape and after all of them (value + gradient, one call per shape)');
  const row = tripletMemory(quick ? 40 : shapes, print);
  print('| backend | workload | shapes | RSS before | RSS after first | RSS after all | ratio (after all / after first) | ms/call |');
  print('|---|---|---:|---:|---:|---:|---:|---:|');
  print(row);
}
