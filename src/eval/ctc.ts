// Connectionist Temporal Classification (Graves et al. 2006), computed plainly in float64: the
// forward algorithm for the loss and the forward-backward algorithm for its derivative. CTC is a
// primitive of the IR because it needs a recurrence over time the language cannot express; this
// one implementation is the meaning of the `ctc` and `ctc_grad` ops in the reference evaluator
// (src/eval/reference.ts) and the body of their tfjs kernels (src/compile/kernels.ts), which read
// the tensors' data out since tfjs has no CTC op.
//
// Conventions (Keras 3, keras_losses.md §3 "Sequence"):
// - labels (B, L) whole numbers; 0 is the blank AND the padding value. The label length of a row
//   is its number of non-zero entries, and its label sequence is the FIRST label-length entries
//   (so [1, 2, 0, 2] is read as [1, 2, 0]: a 0 inside the sequence is a label symbol that emits
//   class 0, as JAX/numpy compute it).
// - logits (B, T, C) unnormalised; the loss runs on log_softmax over C, blank = class 0, every row
//   uses all T frames.
// - The extended sequence l' = [0, l1, 0, l2, ..., 0, lL, 0] (S = 2L + 1 states); from state s a
//   frame may stay (s), advance (s + 1), or skip the blank between two labels (s + 2, to a label
//   position, only when the two labels differ: repeated labels need a blank between them).
// - log 0 is represented by -1e5 (LOG_ZERO), as the JAX and numpy backends do: before the first
//   frame the lattice is in state 0 with log-weight 0 and in every other state with log-weight
//   -1e5. So an impossible alignment (labels plus required blanks longer than T) gives a loss
//   near 1e5 rather than infinity, and everything stays finite. The value is
//   -log sum(alpha_{T-1}(S-1), alpha_{T-1}(S-2)) for exactly this lattice, and the derivative
//   below is the exact derivative of that value (the backward pass ends exactly in the two final
//   states, so sum_s alpha_t(s) beta_t(s) = p at every t).

import { LosscError } from '../errors.js';

/** log 0 as the JAX/numpy backends of Keras represent it. */
export const LOG_ZERO = -1e5;

export interface CtcDims {
  batch: number;
  /** Label slots per row (L). */
  labels: number;
  /** Frames (T). */
  time: number;
  /** Classes (C), the blank (0) included. */
  classes: number;
}

function lse2(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  const m = a > b ? a : b;
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

function lse3(a: number, b: number, c: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(c)) return NaN;
  let m = a > b ? a : b;
  if (c > m) m = c;
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
}

/** The label sequence of row `b`: its first (number of non-zero entries) entries, checked. */
export function labelSequence(labels: ArrayLike<number>, b: number, d: CtcDims): number[] {
  const row = b * d.labels;
  let count = 0;
  for (let i = 0; i < d.labels; i++) if (labels[row + i] !== 0) count++;
  const seq: number[] = [];
  for (let i = 0; i < count; i++) {
    const l = labels[row + i]!;
    if (!Number.isInteger(l) || l < 0 || l >= d.classes) {
      throw new LosscError('value', `ctc labels must be whole numbers in 0..${d.classes - 1} (class ids of the last axis of the logits, 0 the blank), got ${l} at [${b}, ${i}]`);
    }
    seq.push(l);
  }
  return seq;
}

/** log_softmax over the class axis of row `b`: T×C log-probabilities. */
function logSoftmaxRow(logits: ArrayLike<number>, b: number, d: CtcDims): Float64Array {
  const { time: T, classes: C } = d;
  const out = new Float64Array(T * C);
  const base = b * T * C;
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[base + t * C + c]!);
    const shift = Number.isFinite(m) ? m : 0;
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[base + t * C + c]! - shift);
    const lz = shift + Math.log(s);
    for (let c = 0; c < C; c++) out[t * C + c] = logits[base + t * C + c]! - lz;
  }
  return out;
}

/** The extended sequence [0, l1, 0, ..., lL, 0] and, per state, whether the skip from s - 2 is allowed. */
function extended(seq: readonly number[]): { ext: Int32Array; skip: Uint8Array } {
  const S = 2 * seq.length + 1;
  const ext = new Int32Array(S);
  const skip = new Uint8Array(S);
  seq.forEach((l, k) => {
    ext[2 * k + 1] = l;
    // Label position 2k+1 may be entered from the previous label (2k-1) over no blank, unless
    // the two labels are equal.
    if (k > 0 && seq[k - 1] !== l) skip[2 * k + 1] = 1;
  });
  return { ext, skip };
}

/** Forward variables: alpha[t * S + s] = log weight of the prefixes ending in state s after frame t. */
function forward(lp: Float64Array, ext: Int32Array, skip: Uint8Array, T: number, C: number): Float64Array {
  const S = ext.length;
  const alpha = new Float64Array(T * S);
  // Before the first frame: state 0 with log weight 0, the others log 0 (= LOG_ZERO).
  let prev: Float64Array = new Float64Array(S).fill(LOG_ZERO);
  prev[0] = 0;
  for (let t = 0; t < T; t++) {
    const cur = alpha.subarray(t * S, (t + 1) * S);
    for (let s = 0; s < S; s++) {
      const stay = prev[s]!;
      const adv = s >= 1 ? prev[s - 1]! : -Infinity;
      const jump = skip[s] ? prev[s - 2]! : -Infinity;
      cur[s] = lse3(stay, adv, jump) + lp[t * C + ext[s]!]!;
    }
    prev = cur;
  }
  return alpha;
}

/** log p of the lattice after T frames (prev: the state log weights after the last frame). */
function finalLogP(last: ArrayLike<number>, S: number): number {
  return S >= 2 ? lse2(last[S - 1]!, last[S - 2]!) : last[0]!;
}

function checkDims(d: CtcDims, labelsLength: number, logitsLength: number): void {
  const { batch: B, labels: L, time: T, classes: C } = d;
  if (labelsLength !== B * L || logitsLength !== B * T * C) {
    throw new LosscError('shape', `ctc: labels [${B}, ${L}] and logits [${B}, ${T}, ${C}] do not match the data (${labelsLength} and ${logitsLength} values)`);
  }
  if (C < 1 && B * T > 0) throw new LosscError('shape', 'ctc needs at least one class (class 0, the blank) on the last axis of the logits');
}

/** Per row: -log p(labels | logits), shape (B). */
export function ctcLoss(labels: ArrayLike<number>, logits: ArrayLike<number>, d: CtcDims): Float64Array {
  checkDims(d, labels.length, logits.length);
  const { batch: B, time: T, classes: C } = d;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const { ext, skip } = extended(labelSequence(labels, b, d));
    const S = ext.length;
    if (T === 0) {
      const start = new Float64Array(S).fill(LOG_ZERO);
      start[0] = 0;
      out[b] = -finalLogP(start, S);
      continue;
    }
    const alpha = forward(logSoftmaxRow(logits, b, d), ext, skip, T, C);
    out[b] = -finalLogP(alpha.subarray((T - 1) * S), S);
  }
  return out;
}

/**
 * d loss_b / d logits[b, t, c] = softmax(logits)[b, t, c] - (1/p) sum_{s: l'_s = c} alpha_t(s) beta_t(s),
 * shape (B, T, C). beta_t(s) is the log weight of completing the sequence from state s after
 * frame t (frames t+1..T-1, ending in one of the two final states), so alpha_t(s) beta_t(s) / p is
 * the posterior of being in state s at frame t.
 */
export function ctcGrad(labels: ArrayLike<number>, logits: ArrayLike<number>, d: CtcDims): Float64Array {
  checkDims(d, labels.length, logits.length);
  const { batch: B, time: T, classes: C } = d;
  const out = new Float64Array(B * T * C);
  for (let b = 0; b < B; b++) {
    const { ext, skip } = extended(labelSequence(labels, b, d));
    const S = ext.length;
    if (T === 0) continue;
    const lp = logSoftmaxRow(logits, b, d);
    const alpha = forward(lp, ext, skip, T, C);
    const logP = finalLogP(alpha.subarray((T - 1) * S), S);
    // Backward variables after frame t, from the end: exactly 1 in the final states, 0 elsewhere.
    let beta = new Float64Array(S).fill(-Infinity);
    beta[S - 1] = 0;
    if (S >= 2) beta[S - 2] = 0;
    const gamma = new Float64Array(C);
    for (let t = T - 1; t >= 0; t--) {
      gamma.fill(0);
      for (let s = 0; s < S; s++) {
        const w = alpha[t * S + s]! + beta[s]! - logP;
        if (w !== -Infinity) gamma[ext[s]!]! += Math.exp(w);
      }
      const base = (b * T + t) * C;
      for (let c = 0; c < C; c++) out[base + c] = Math.exp(lp[t * C + c]!) - gamma[c]!;
      if (t === 0) break;
      // beta after frame t-1: move one frame (t) forward from each state.
      const next = new Float64Array(S);
      for (let s = 0; s < S; s++) {
        const e = (k: number) => lp[t * C + ext[k]!]! + beta[k]!;
        const stay = e(s);
        const adv = s + 1 < S ? e(s + 1) : -Infinity;
        const jump = s + 2 < S && skip[s + 2] ? e(s + 2) : -Infinity;
        next[s] = lse3(stay, adv, jump);
      }
      beta = next;
    }
  }
  return out;
}
