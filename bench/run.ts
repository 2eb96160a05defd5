// `npm run bench`: lossc against the tfjs code it replaces, measured in one run.
//
// For each workload, on each backend: the tfjs built-in loss (where one exists), the same formula
// written in plain tfjs ops, and lossc — each for the value alone and for value + gradient with
// respect to y_pred. Results are checked for agreement before any time is reported. Then the
// compile time of every stdlib loss (source → callable, and → printed derivative).
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

type Fn = (yt: tf.Tensor, yp: tf.Tensor) => tf.Tensor;

interface Workload {
  name: string;
  /** Shapes of y_true and y_pred at the full size. */
  shapes: (small: boolean) => { t: number[]; p: number[] };
  data: (t: number[], p: number[], r: () => number) => { yt: number[]; yp: number[] };
  builtin?: Fn;
  ops: Fn;
  lossc: () => LossFunction;
}

const EPS = 1e-7;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const fill = (n: number, f: () => number) => Array.from({ length: n }, f);

const WORKLOADS: Workload[] = [
  {
    name: 'mse',
    shapes: (small) => (small ? { t: [32, 10], p: [32, 10] } : { t: [65536, 16], p: [65536, 16] }),
    data: (t, p, r) => ({ yt: fill(size(t), () => r() * 2 - 1), yp: fill(size(p), () => r() * 2 - 1) }),
    builtin: (yt, yp) => tf.losses.meanSquaredError(yt, yp),
    ops: (yt, yp) => tf.mean(tf.square(tf.sub(yt, yp))),
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
    lossc: () => losses.huber!(),
  },
];

interface Row {
  backend: string;
  workload: string;
  size: string;
  impl: string;
  mode: 'value' | 'value+grad';
  medianMs: number;
  ratio?: number; // this implementation's time / lossc's time
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(f: () => tf.Tensor | tf.Tensor[], reps: number): Promise<number> {
  const run = () => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync(); // wait for the result, as a training step would
    tf.dispose(list);
  };
  run();
  run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
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

async function benchLosses(backend: string, small: boolean, reps: number, only?: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const w of WORKLOADS) {
    if (only && !w.name.startsWith(only)) continue;
    const { t, p } = w.shapes(small);
    const d = w.data(t, p, lcg(42));
    const yt = tf.tensor(d.yt, t);
    const yp = tf.tensor(d.yp, p);
    const lossc = w.lossc();
    const impls: Array<[string, Fn]> = [['lossc', lossc as Fn], ['tfjs ops + tf.grad', w.ops]];
    if (w.builtin) impls.push(['tfjs built-in', w.builtin]);
    // Agreement first: value and gradient of every implementation against lossc's.
    const ref = tf.tidy(() => valueAndGrad(lossc as Fn, yt, yp));
    for (const [name, f] of impls.slice(1)) {
      const other = tf.tidy(() => valueAndGrad(f, yt, yp));
      agree(other, ref, `${w.name} ${name} vs lossc`);
      tf.dispose(other);
    }
    tf.dispose(ref);
    const sizeText = `[${p.join(',')}]`;
    for (const mode of ['value', 'value+grad'] as const) {
      const measured: Array<[string, number]> = [];
      for (const [name, f] of impls) {
        const ms = await time(() => (mode === 'value' ? f(yt, yp) : valueAndGrad(f, yt, yp)), reps);
        measured.push([name, ms]);
      }
      const base = measured[0]![1];
      for (const [name, ms] of measured) {
        rows.push({ backend, workload: w.name, size: sizeText, impl: name, mode, medianMs: ms, ratio: name === 'lossc' ? undefined : ms / base });
      }
    }
    tf.dispose([yt, yp]);
  }
  return rows;
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
      new FastPath(lib, def, {}, 'sum_over_batch_size').prepare(shapes);
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
  const lines = ['| backend | workload | size | implementation | mode | median ms | time / lossc |', '|---|---|---|---|---|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.backend} | ${r.workload} | ${r.size} | ${r.impl} | ${r.mode} | ${r.medianMs.toFixed(2)} | ${r.ratio === undefined ? '1' : r.ratio.toFixed(2) + '×'} |`);
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
  const rows: Row[] = [];
  for (const backend of backends) {
    await useBackend(backend);
    for (const small of [false, true]) {
      const reps = small ? (quick ? 20 : 100) : quick ? 3 : 9;
      rows.push(...(await benchLosses(backend, small, reps, only)));
    }
  }
  await useBackend('cpu');
  const compileRows = benchCompile(quick ? 5 : 21);
  console.log(table(rows));
  console.log('\ncompile time (ms): source → callable with its gradient, and → printed derivative;');
  console.log('"first" is the first compile of that loss in this process, "again" the median of later ones');
  console.log('(rewrites and generated functions are memoised on the hash-consed IR).');
  console.log('| loss | callable, first | callable, again | derivative, first | derivative, again |\n|---|---:|---:|---:|---:|');
  for (const c of compileRows) {
    console.log(`| ${c.loss} | ${c.firstCallableMs.toFixed(2)} | ${c.callableMs.toFixed(2)} | ${c.firstDerivativeMs.toFixed(2)} | ${c.derivativeMs.toFixed(2)} |`);
  }
  const out = flag('--json');
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows, compile: compileRows }, null, 2));
}

await main();
