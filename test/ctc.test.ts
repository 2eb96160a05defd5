// CTC (Graves et al. 2006), the primitive ops `ctc` and `ctc_grad` and the stdlib loss `ctc`:
// Keras's reference cases through `lossc eval`'s handler; the value against brute force over every
// alignment; the derivative against central differences of the float64 reference; the tfjs
// kernels against the reference; Keras's conventions (0 the blank and the padding, labels the
// first label-length entries, repeated labels need a blank, log 0 = -1e5 for impossible
// alignments, empty labels); errors; no tensor leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { answer } from '../src/cli/eval.js';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';
import { grad } from '../src/autodiff/grad.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData, type NdArray } from '../src/eval/ndarray.js';
import { Plan } from '../src/compile/plan.js';
import { fuse, lastFuseRefusal } from '../src/compile/fused.js';
import { LosscError } from '../src/errors.js';
import { Library } from '../src/lower/library.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { makeLoss } from '../src/api/losses.js';
import { derivative } from '../src/pipeline/derivative.js';
import { printDefinition } from '../src/print/text.js';
import { toLatex } from '../src/print/latex.js';
import { expectAllClose, numericGrad, rng } from './helpers/numeric.js';
import { kerasCases, mismatch } from './helpers/arrays.js';

// ---- helpers -----------------------------------------------------------------------------------



let fresh = 0;

/** ctc and ctc_grad of fresh inputs bound to these labels [B, L] and logits [B, T, C]. */
function ctcGraph(labels: number[][], logits: number[][][]) {
  const B = labels.length;
  const L = labels[0]!.length;
  const T = logits[0]!.length;
  const C = logits[0]![0]!.length;
  const k = ++fresh;
  const l = b.input(`labels${k}`, [B, L], 'int32');
  const x = b.input(`logits${k}`, [B, T, C]);
  const inputs: Record<string, NdArray> = {
    [`labels${k}`]: fromData([B, L], labels.flat(), 'int32'),
    [`logits${k}`]: fromData([B, T, C], logits.flat(2)),
  };
  const value = Node.make('ctc', [l, x]);
  const g = Node.make('ctc_grad', [l, x]);
  return { l, x, value, g, inputs, dims: { B, L, T, C } };
}

function refValues(labels: number[][], logits: number[][][]): { value: number[]; grad: number[] } {
  const { value, g, inputs } = ctcGraph(labels, logits);
  const [v, gv] = evaluate([value, g], inputs);
  return { value: [...v!.data], grad: [...gv!.data] };
}

function logSoftmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const z = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - z);
}

/**
 * -log p(labels | logits) of one row by brute force: every sequence of T symbols over C classes,
 * collapsed (repeats merged, then blanks dropped), compared with the labels; probabilities summed.
 */
function bruteForce(labels: readonly number[], logits: readonly number[][]): number {
  const T = logits.length;
  const C = logits[0]!.length;
  const lp = logits.map(logSoftmax);
  const want = labels.join(',');
  let p = 0;
  const path = new Array<number>(T).fill(0);
  for (let code = 0; code < C ** T; code++) {
    let rest = code;
    for (let t = 0; t < T; t++) {
      path[t] = rest % C;
      rest = Math.floor(rest / C);
    }
    const collapsed: number[] = [];
    path.forEach((s, t) => {
      if (s !== 0 && (t === 0 || path[t - 1] !== s)) collapsed.push(s);
    });
    if (collapsed.join(',') === want) p += Math.exp(path.reduce((s, c, t) => s + lp[t]![c]!, 0));
  }
  return -Math.log(p);
}

/** Random labels: `len` symbols in 1..C-1 (repeats likely when C is small), padded with 0 to L. */
function randomRow(r: () => number, len: number, L: number, C: number): number[] {
  const row = new Array<number>(L).fill(0);
  for (let i = 0; i < len; i++) row[i] = 1 + Math.floor(r() * (C - 1));
  return row;
}

const randomLogits = (r: () => number, B: number, T: number, C: number, scale = 2): number[][][] =>
  Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: C }, () => (2 * r() - 1) * scale)));

function expectLosscError(f: () => unknown, kind: string, ...parts: string[]): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LosscError);
    expect((e as LosscError).kind).toBe(kind);
    for (const p of parts) expect((e as LosscError).message).toContain(p);
    return;
  }
  expect.fail('no error');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---- Keras's reference cases -------------------------------------------------------------------


const ctcCases = kerasCases().filter((c) => c.loss === 'ctc');

describe('Keras reference cases for ctc', () => {
  it('both are in the case file', () => {
    expect(ctcCases.map((c) => c.id).sort()).toEqual(['k3.CTC.correctness', 'k3ops.ctc_loss.first_sequence']);
  });
  for (const c of ctcCases) {
    it(c.id, () => {
      const before = tf.memory().numTensors;
      const out = answer({ id: c.id, loss: c.loss, options: c.options, reduction: c.reduction, y_true: c.y_true, y_pred: c.y_pred, grad: true });
      expect(tf.memory().numTensors).toBe(before);
      if ('error' in out) throw new Error(`${out.error.kind}: ${out.error.message}`);
      expect(mismatch(out.value, c.expected, c.rtol, c.atol), `against expected ${JSON.stringify(c.expected)}`).toBeUndefined();
      expect(mismatch(out.value, c.expected_ref, 1e-5, 1e-6), `against expected_ref ${JSON.stringify(c.expected_ref)}`).toBeUndefined();
      // The float64 reference agrees too (per row; the correctness case is the mean of two rows).
      const ref = refValues(c.y_true as number[][], c.y_pred as number[][][]).value;
      const mean = ref.reduce((s, v) => s + v, 0) / ref.length;
      expect(mismatch(c.reduction === 'none' ? ref : mean, c.expected_ref, 1e-6, 1e-6)).toBeUndefined();
    });
  }

  it('[1, 2, 0, 2] reads as the labels [1, 2, 0] (the first label-length entries), not [1, 2] or [1, 2, 2]', () => {
    const x = randomLogits(rng(3), 1, 5, 3);
    const v = (labels: number[]) => refValues([labels], x).value[0]!;
    expect(v([1, 2, 0, 2])).not.toBeCloseTo(v([1, 2, 0, 0]), 6);
    expect(v([1, 2, 0, 2])).not.toBeCloseTo(v([1, 2, 2, 0]), 6);
    // Entries after the label length never matter, only how many non-zero entries there are.
    expect(v([1, 2, 0, 2])).toBe(v([1, 2, 0, 1]));
  });
});

// ---- the value: brute force, conventions --------------------------------------------------------

describe('ctc value', () => {
  it('equals -log of the summed probability of every alignment (brute force, tiny sizes)', () => {
    const r = rng(42);
    let checked = 0;
    for (const [T, C, L] of [[1, 2, 1], [2, 2, 2], [3, 3, 2], [4, 3, 3], [5, 4, 3], [5, 2, 3], [6, 3, 4]] as const) {
      for (let rep = 0; rep < 6; rep++) {
        const B = 3;
        const labels = Array.from({ length: B }, () => randomRow(r, Math.floor(r() * (L + 1)), L, C));
        const logits = randomLogits(r, B, T, C);
        const got = refValues(labels, logits).value;
        labels.forEach((row, i) => {
          const seq = row.filter((v) => v !== 0);
          const want = bruteForce(seq, logits[i]!);
          if (Number.isFinite(want)) {
            expect(Math.abs(got[i]! - want), `labels ${row}, T ${T}, C ${C}: ${got[i]} vs ${want}`).toBeLessThan(1e-10 * Math.max(1, want));
            checked++;
          } else {
            // No alignment at all: about 1e5 (log 0 is -1e5).
            expect(Math.abs(got[i]! - 1e5), `labels ${row}, T ${T}: ${got[i]}`).toBeLessThan(100);
          }
        });
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('matches a numpy port of the JAX backend (keras.ops.ctc_loss) on repeats, an inner 0 and an empty row', () => {
    // Values from the JAX algorithm (optax-style phi/emit recursion, log 0 = -1e5) in float64.
    const x = [
      [[0.047, 1.802, -1.423, 1.795], [-0.753, -0.307, 1.311, -0.363], [0.198, -1.89, 1.014, 0.153], [-0.681, 1.154, -0.787, -0.186], [-1.464, -0.388, -1.186, -0.951]],
      [[1.001, -0.878, -0.059, 1.923], [1.847, 0.899, 0.165, -0.892], [-1.357, 1.88, 0.064, -1.537], [0.494, 1.107, 0.452, 1.669], [-1.842, 0.114, -0.163, -1.751]],
      [[0.565, 1.411, 0.372, -0.96], [1.36, 0.038, 0.044, 1.012], [-1.408, 1.279, 0.733, 1.148], [-1.234, 1.209, -1.235, -1.674], [1.421, 1.445, 1.506, -0.112]],
    ];
    const got = refValues([[1, 2, 0, 2], [3, 3, 1, 0], [0, 0, 0, 0]], x).value;
    expectAllClose(got, [3.9818886574033634, 4.902895548980478, 9.747657134698617], 1e-12, 'jax port');
    // An impossible row (1, 1 needs 3 frames, there are 2) is about 1e5 there as here.
    const y = [[[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]], [[0.0, 0.2, -0.1], [0.5, -0.5, 0.25]], [[1.0, 0.0, -1.0], [0.2, 0.3, 0.1]]];
    const imp = refValues([[1, 1], [1, 2], [2, 0]], y).value;
    expectAllClose(imp, [100000.02033129551, 1.953753627913747, 1.3588648812013164], 1e-5, 'jax port, impossible row');
    expectAllClose(imp.slice(1), [1.953753627913747, 1.3588648812013164], 1e-12, 'jax port, possible rows');
  });

  it('repeated labels need a blank between them', () => {
    const x = randomLogits(rng(7), 1, 3, 3)[0]!;
    const lp = x.map(logSoftmax);
    // [1, 1] in 3 frames: only 1 · 0 · 1 collapses to it.
    const [v] = refValues([[1, 1]], [x]).value;
    expect(v).toBeCloseTo(-(lp[0]![1]! + lp[1]![0]! + lp[2]![1]!), 12);
    // [1, 2] in 3 frames has many alignments (1 1 2, 1 2 2, 1 0 2, 0 1 2, 1 2 0): a smaller loss.
    const [w] = refValues([[1, 2]], [x]).value;
    expect(w).toBeCloseTo(bruteForce([1, 2], x), 12);
    // [1, 1] in 2 frames is impossible: 1 1 collapses to [1].
    const [imp] = refValues([[1, 1]], [x.slice(0, 2)]).value;
    expect(imp).toBeGreaterThan(1e5 - 50);
    expect(imp).toBeLessThan(1e5 + 50);
  });

  it('an impossible alignment (labels longer than the frames) gives about 1e5, finite, with a finite gradient', () => {
    const x = randomLogits(rng(9), 2, 2, 4);
    const { value, grad: g } = refValues([[1, 2, 3], [3, 2, 1]], x);
    for (const v of value) {
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(v - 1e5)).toBeLessThan(50);
    }
    expect(g.every(Number.isFinite)).toBe(true);
  });

  it('zero-length labels (an all-padding row): -sum_t log softmax(x_t)[0], derivative softmax - onehot(blank)', () => {
    const x = randomLogits(rng(11), 1, 4, 3);
    const { value, grad: g } = refValues([[0, 0, 0]], x);
    const lp = x[0]!.map(logSoftmax);
    expect(value[0]).toBeCloseTo(-lp.reduce((s, row) => s + row[0]!, 0), 12);
    const want = lp.flatMap((row) => row.map((v, c) => Math.exp(v) - (c === 0 ? 1 : 0)));
    expectAllClose(g, want, 1e-12, 'empty labels gradient');
    // Zero labels slots at all (L = 0) is the same.
    expect(refValues([[]], x).value[0]).toBeCloseTo(value[0]!, 12);
  });

  it('is invariant to adding a constant per frame (it runs on log_softmax)', () => {
    const x = randomLogits(rng(13), 2, 4, 3);
    const shifted = x.map((row) => row.map((f, t) => f.map((v) => v + 3 * t - 1)));
    expectAllClose(refValues([[1, 2], [2, 0]], shifted).value, refValues([[1, 2], [2, 0]], x).value, 1e-12, 'shift');
  });
});

// ---- the derivative ----------------------------------------------------------------------------

describe('ctc derivative', () => {
  it('the VJP (ctc_grad scaled per row) agrees with central differences of the float64 reference', () => {
    const r = rng(5);
    for (const [B, T, C, L] of [[3, 5, 4, 3], [2, 4, 3, 2], [4, 6, 3, 4], [1, 1, 2, 1]] as const) {
      const labels = Array.from({ length: B }, (_, i) => randomRow(r, i % (L + 1), L, C));
      if (B > 1) labels[1] = [1, 1, ...new Array<number>(L - 2).fill(0)].slice(0, L); // a repeat
      const { x, value, inputs } = ctcGraph(labels, randomLogits(r, B, T, C));
      const w = b.input(`w${++fresh}`, [B]);
      inputs[w.attrs.name as string] = fromData([B], Array.from({ length: B }, () => 0.5 + r()));
      const out = b.mul(value, w);
      const [g] = grad(out, [x]);
      const got = evaluate([g!], inputs)[0]!;
      expect(got.shape).toEqual([B, T, C]);
      expectAllClose(got.data, numericGrad(out, x.attrs.name as string, inputs), 1e-6, `ctc gradient B${B} T${T} C${C}`);
    }
  });

  it('with a scalar seed (the derivative of sum(ctc)) it is ctc_grad itself', () => {
    const { x, value, g } = ctcGraph([[1, 2]], randomLogits(rng(2), 1, 3, 3));
    const [d] = grad(b.reduce('sum', value, null), [x]);
    expect(d).toBe(b.mul(b.constant(1), g));
  });

  it('each frame of ctc_grad sums to 0 over the classes (softmax minus a posterior)', () => {
    const { grad: g } = refValues([[1, 2, 1], [2, 2, 0]], randomLogits(rng(4), 2, 6, 3));
    for (let i = 0; i < g.length; i += 3) expect(Math.abs(g[i]! + g[i + 1]! + g[i + 2]!)).toBeLessThan(1e-12);
  });

  it('the derivative with respect to int labels is refused clearly', () => {
    const { l, value } = ctcGraph([[1]], [[[0, 1]]]);
    expectLosscError(() => grad(b.reduce('sum', value, null), [l]), 'type', 'cannot differentiate', 'integer');
  });
});

// ---- the tfjs kernels ---------------------------------------------------------------------------

describe('ctc on tfjs', () => {
  it('the kernels agree with the float64 reference (value and ctc_grad), leaving no tensor behind', () => {
    const r = rng(17);
    for (const [B, T, C, L] of [[3, 5, 4, 3], [4, 8, 5, 4], [2, 2, 3, 3], [1, 3, 2, 0]] as const) {
      const labels = Array.from({ length: B }, (_, i) => randomRow(r, i % (L + 1), L, C));
      const logits = randomLogits(r, B, T, C, 3);
      const { l, x, value, g, inputs } = ctcGraph(labels, logits);
      const want = evaluate([value, g], inputs);
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => {
        const lt = tf.tensor(labels.flat(), [B, L], 'int32');
        const xt = tf.tensor(logits.flat(2), [B, T, C], 'float32');
        return new Plan([value, g], [l, x]).run([lt, xt]).map((t) => Array.from(t.dataSync()));
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(mismatch(got[0], [...want[0]!.data], 1e-5, 1e-5), `value B${B} T${T} C${C}`).toBeUndefined();
      expect(mismatch(got[1], [...want[1]!.data], 1e-4, 1e-5), `ctc_grad B${B} T${T} C${C}`).toBeUndefined();
    }
  });

  it('the fused target refuses ctc (it takes the tfjs path)', () => {
    const { l, x, value, g } = ctcGraph([[1, 2]], randomLogits(rng(1), 1, 3, 3));
    expect(fuse([value], [l, x])).toBeNull();
    expect(lastFuseRefusal()).toBe('unsupported op ctc');
    expect(fuse([g], [l, x])).toBeNull();
    expect(lastFuseRefusal()).toBe('unsupported op ctc_grad');
  });

  it('losses: value and gradient (lossc\'s and tfjs\'s tape) with no tensor leaked, every reduction', () => {
    const lib = Library.stdlib();
    const r = rng(23);
    const labels = [[1, 2, 1, 0], [3, 3, 0, 0], [2, 0, 0, 0]];
    const logits = randomLogits(r, 3, 6, 4);
    const ref = refValues(labels, logits);
    for (const reduction of ['sum_over_batch_size', 'sum', 'none'] as const) {
      const fn = makeLoss(lib, lib.get('ctc')!.def, { reduction });
      const before = tf.memory().numTensors;
      const yt = tf.tensor(labels);
      const yp = tf.tensor(logits);
      const v = fn(yt, yp);
      const gLossc = tf.grad((p: tf.Tensor) => tf.sum(fn(yt, p)))(yp);
      const gTape = tf.grad((p: tf.Tensor) => tf.sum(fn.compiled.applyTaped([yt, p])))(yp);
      const value = Array.from(v.dataSync());
      const gl = Array.from(gLossc.dataSync());
      const gt = Array.from(gTape.dataSync());
      tf.dispose([yt, yp, v, gLossc, gTape]);
      expect(tf.memory().numTensors, reduction).toBe(before);
      const scale = reduction === 'sum_over_batch_size' ? 1 / 3 : 1;
      const want = reduction === 'none' ? ref.value : [ref.value.reduce((s, q) => s + q, 0) * scale];
      expect(mismatch(value, want, 1e-5, 1e-5), reduction).toBeUndefined();
      expect(mismatch(gl, ref.grad.map((q) => q * scale), 1e-4, 1e-5), `${reduction}: lossc gradient`).toBeUndefined();
      expect(mismatch(gt, ref.grad, 1e-4, 1e-5), `${reduction}: tfjs tape through the kernel`).toBeUndefined();
    }
  });

  it('float labels are truncated to ints, as Keras casts them', () => {
    const x = randomLogits(rng(29), 2, 4, 3);
    const a = answer({ loss: 'ctc', reduction: 'none', y_true: [[1.7, 2.2], [2.9, 0.4]], y_pred: x });
    const c = answer({ loss: 'ctc', reduction: 'none', y_true: [[1, 2], [2, 0]], y_pred: x });
    if ('error' in a || 'error' in c) throw new Error(JSON.stringify([a, c]));
    expect(a.value).toEqual(c.value);
  });
});

// ---- errors ------------------------------------------------------------------------------------

describe('ctc errors', () => {
  it('the op checks dtypes, ranks and batch sizes', () => {
    const l = b.input('el', [2, 3], 'int32');
    const x = b.input('ex', [2, 4, 3]);
    expectLosscError(() => Node.make('ctc', [b.cast(l, 'float32'), x]), 'type', 'integer labels');
    expectLosscError(() => Node.make('ctc', [l, b.cast(x, 'int32')]), 'type', 'float logits');
    expectLosscError(() => Node.make('ctc', [b.input('el1', [2], 'int32'), x]), 'shape', 'rank 2', '[2]');
    expectLosscError(() => Node.make('ctc', [l, b.input('ex2', [2, 4])]), 'shape', 'rank 3', '[2, 4]');
    expectLosscError(() => Node.make('ctc_grad', [l, b.input('ex3', [3, 4, 3])]), 'shape', 'different batch sizes');
    expectLosscError(() => Node.make('ctc', [l, b.input('ex4', [2, 4, 0])]), 'shape', 'at least one class');
  });

  it('through eval: y_true must be rank 2, y_pred rank 3, one batch size; labels in range', () => {
    const x = randomLogits(rng(31), 2, 3, 3);
    const err = (y_true: unknown, y_pred: unknown) => {
      const a = answer({ loss: 'ctc', y_true, y_pred });
      if (!('error' in a)) throw new Error('no error');
      return a.error;
    };
    expect(err([1, 2], x)).toMatchObject({ kind: 'shape' });
    expect(err([[1], [2]], x[0])).toMatchObject({ kind: 'shape' });
    expect(err([[1], [2], [1]], x)).toMatchObject({ kind: 'shape' });
    expect(err([[1], [2], [1]], x).message).toContain('B = 2 here but 3');
    const bad = err([[1, 3], [1, 0]], x);
    expect(bad.kind).toBe('value');
    expect(bad.message).toContain('ctc labels must be whole numbers in 0..2');
  });
});

// ---- the language: builtin, stdlib loss, printing ---------------------------------------------

describe('ctc in the language', () => {
  it('the stdlib loss is the builtin applied to int labels and float logits', () => {
    const lib = Library.stdlib();
    const low = lowerDefinition(lib, 'ctc', { symbolic: true });
    expect(low.value.op).toBe('ctc');
    expect(low.value.shape).toEqual(['B']);
    expect(low.inputs.map((n) => n.dtype)).toEqual(['int32', 'float32']);
    expect(lib.get('ctc')!.def.doc).toContain('Graves et al. 2006');
  });

  it('a program calls it on float labels (truncated) and prints it back', () => {
    const src = 'loss twice(y_true: [B, L], y_pred: [B, T, C]) = 2 * ctc(y_true, y_pred)';
    const lib = Library.fromSource(src, 'twice.loss');
    const low = lowerDefinition(lib, 'twice', { symbolic: true });
    const inner = low.value.args[1]!;
    expect(inner.op).toBe('ctc');
    expect(inner.args[0]!.op).toBe('cast');
    const text = printDefinition({ kind: 'loss', name: 'twice', params: [{ name: 'y_true' }, { name: 'y_pred' }], options: [] }, low.value);
    expect(text).toContain('2 * ctc(int(y_true), y_pred)');
  });

  it('the printed derivative is ctc_grad(y_true, y_pred), valid lossc, LaTeX too', () => {
    const d = derivative('ctc', 'y_pred');
    expect(d.toString()).toBe('ctc_grad(y_true, y_pred)');
    const back = Library.fromSource('loss d(y_true: int[B, L], y_pred: [B, T, C]) = ctc_grad(y_true, y_pred)', 'd.loss');
    expect(lowerDefinition(back, 'd', { symbolic: true }).value).toBe(d.grads[0]);
    expect(toLatex(d.grads[0]!)).toContain('\\operatorname{ctc\\_grad}');
  });
});
