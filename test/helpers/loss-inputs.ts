// Random inputs that suit each stdlib loss (labels where it wants labels, probabilities where it
// wants probabilities), kept away from kinks (clip bounds, hinge corners, ties) so that finite
// differences are meaningful. Every stdlib loss must appear here: a test checks that.

import { rng } from '../../examples/common.js';

/** y_pred is a matrix, except for sequence losses (CTC: [batch, time, classes]). */
export type Gen = (r: () => number) => { yTrue: number[][] | number[]; yPred: number[][] | number[][][] };

const N = 4;
const C = 3;

const rows = (n: number, c: number, f: (i: number, j: number) => number) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => f(i, j)));

const uniform = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();
const away = (r: () => number, lo: number, hi: number, from: number, gap: number) => {
  for (;;) {
    const v = uniform(r, lo, hi);
    if (Math.abs(v - from) > gap) return v;
  }
};

export const real: Gen = (r) => ({ yTrue: rows(N, C, () => uniform(r, -2, 2)), yPred: rows(N, C, () => uniform(r, -2, 2)) });
const positive: Gen = (r) => ({ yTrue: rows(N, C, () => uniform(r, 0.2, 3)), yPred: rows(N, C, () => uniform(r, 0.2, 3)) });
const binaryProb: Gen = (r) => ({ yTrue: rows(N, C, () => (r() < 0.5 ? 0 : 1)), yPred: rows(N, C, () => uniform(r, 0.05, 0.95)) });
const binaryLogit: Gen = (r) => ({ yTrue: rows(N, C, () => (r() < 0.5 ? 0 : 1)), yPred: rows(N, C, () => uniform(r, -3, 3)) });
const signedHinge: Gen = (r) => ({
  yTrue: rows(N, C, () => (r() < 0.5 ? -1 : 1)),
  // keep 1 - y*yhat away from 0 (the hinge corner)
  yPred: rows(N, C, () => away(r, -2, 2, 1, 0.1) * (r() < 0.5 ? 1 : -1)).map((row) => row.map((v) => (Math.abs(Math.abs(v) - 1) < 0.1 ? v * 1.5 : v))),
});
const oneHot = (r: () => number) => rows(N, C, (_, j) => j).map((row) => {
  const k = Math.floor(r() * C);
  return row.map((j) => (j === k ? 1 : 0));
});
const probRows = (r: () => number) =>
  rows(N, C, () => uniform(r, 0.1, 1)).map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
const categoricalProb: Gen = (r) => ({ yTrue: oneHot(r), yPred: probRows(r) });
const categoricalLogit: Gen = (r) => ({ yTrue: oneHot(r), yPred: rows(N, C, () => uniform(r, -3, 3)) });
const sparseProb: Gen = (r) => ({ yTrue: Array.from({ length: N }, () => Math.floor(r() * C)), yPred: probRows(r) });
const sparseLogit: Gen = (r) => ({ yTrue: Array.from({ length: N }, () => Math.floor(r() * C)), yPred: rows(N, C, () => uniform(r, -3, 3)) });
const distributions: Gen = (r) => ({ yTrue: probRows(r), yPred: probRows(r) });
const segmentation: Gen = (r) => ({ yTrue: rows(N, C, () => (r() < 0.5 ? 0 : 1)), yPred: rows(N, C, () => uniform(r, 0.05, 0.95)) });
const normalizedEmbeddings: Gen = (r) => ({
  yTrue: [1, 1, 2, 2, 3, 3],
  yPred: rows(6, 4, () => uniform(r, -1, 1)).map((row) => {
    const n = Math.hypot(...row);
    return row.map((v) => v / n);
  }),
});
const embeddings = (parts: number): Gen => (r) => ({ yTrue: Array.from({ length: N }, () => 0), yPred: rows(N, parts * 2, () => uniform(r, -1, 1)) });
const labelledEmbeddings: Gen = (r) => ({ yTrue: [0, 0, 1, 1, 2, 2], yPred: rows(6, 3, () => uniform(r, -1, 1)) });
const distances: Gen = (r) => ({ yTrue: rows(N, 1, () => (r() < 0.5 ? 0 : 1)), yPred: rows(N, 1, () => away(r, 0.05, 2, 1, 0.1)) });
/** CTC: labels [N, 3] in 1..3 (a repeat now and then), padded with 0 at the end; logits [N, 6, 4]. */
const sequences: Gen = (r) => ({
  yTrue: Array.from({ length: N }, (_, i) => {
    const len = i % 4;
    const row = [0, 0, 0];
    for (let k = 0; k < len; k++) row[k] = k > 0 && r() < 0.3 ? row[k - 1]! : 1 + Math.floor(r() * 3);
    return row;
  }),
  yPred: Array.from({ length: N }, () => rows(6, 4, () => uniform(r, -2, 2))),
});
const nonzeroTargets: Gen = (r) => ({ yTrue: rows(N, C, () => away(r, -2, 2, 0, 0.3)), yPred: rows(N, C, () => uniform(r, -2, 2)) });

/** Per loss: its input generator and the option sets to try. */
export const LOSS_INPUTS: Record<string, { gen: Gen; options: Array<Record<string, unknown>>; gen2?: Gen }> = {
  mean_squared_error: { gen: real, options: [{}] },
  mean_absolute_error: { gen: real, options: [{}] },
  mean_absolute_percentage_error: { gen: nonzeroTargets, options: [{}] },
  mean_squared_logarithmic_error: { gen: positive, options: [{}] },
  huber: { gen: real, options: [{}, { delta: 0.5 }, { delta: 3 }] },
  log_cosh: { gen: real, options: [{}] },
  elementwise_squared_error: { gen: real, options: [{}] },
  cosine_similarity: { gen: real, options: [{}, { axis: 0 }] },
  hinge: { gen: signedHinge, options: [{}] },
  squared_hinge: { gen: signedHinge, options: [{}] },
  categorical_hinge: { gen: (r) => ({ yTrue: oneHot(r), yPred: rows(N, C, () => uniform(r, -2, 2)) }), options: [{}] },
  kl_divergence: { gen: distributions, options: [{}] },
  poisson: { gen: positive, options: [{}] },
  binary_crossentropy: {
    gen: binaryProb,
    options: [{}, { label_smoothing: 0.1 }, { axis: 0 }],
    gen2: binaryLogit,
  },
  binary_focal_crossentropy: {
    gen: binaryProb,
    options: [{}, { gamma: 3 }, { apply_class_balancing: true, alpha: 0.3 }, { label_smoothing: 0.1 }],
    gen2: binaryLogit,
  },
  categorical_crossentropy: { gen: categoricalProb, options: [{}, { label_smoothing: 0.1 }], gen2: categoricalLogit },
  categorical_focal_crossentropy: { gen: categoricalProb, options: [{}, { gamma: 1, alpha: 0.5 }, { label_smoothing: 0.2 }], gen2: categoricalLogit },
  sparse_categorical_crossentropy: { gen: sparseProb, options: [{}, { ignore_class: 1 }], gen2: sparseLogit },
  categorical_generalized_cross_entropy: { gen: sparseProb, options: [{}, { q: 0.8 }] },
  dice: { gen: segmentation, options: [{}, { axis: [1] }] },
  tversky: { gen: segmentation, options: [{}, { alpha: 0.2, beta: 0.8 }] },
  circle: { gen: normalizedEmbeddings, options: [{}, { gamma: 10, margin: 0.25 }] },
  focal_loss: { gen: binaryProb, options: [{}, { gamma: 1, alpha: 0.5 }], gen2: binaryLogit },
  categorical_focal_loss: { gen: categoricalProb, options: [{}, { alpha: [0.2, 0.3, 0.5] }], gen2: categoricalLogit },
  fbeta_loss: { gen: binaryProb, options: [{}, { beta: 2 }] },
  triplet_loss: { gen: embeddings(3), options: [{}, { margin: 1 }] },
  batch_hard_triplet_loss: { gen: labelledEmbeddings, options: [{}, { margin: 1 }] },
  quadruplet_loss: { gen: embeddings(4), options: [{}] },
  contrastive_loss: { gen: distances, options: [{}, { margin: 2 }] },
  ctc: { gen: sequences, options: [{}] },
};

/** The option sets with from_logits on, for losses that have the option. */
export function logitOptions(name: string): Array<Record<string, unknown>> {
  const e = LOSS_INPUTS[name]!;
  return e.gen2 ? e.options.map((o) => ({ ...o, from_logits: true })) : [];
}

export function seeded(seed: number): () => number {
  return rng(seed);
}
