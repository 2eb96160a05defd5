// A family of well-formed programs for the stabiliser: formulas written the naive way (log of a
// sum of exps, log(1 + exp(x)), a hand-written softmax cross-entropy, log cosh, a norm of a
// difference) at large logits, where float32 overflows unless lossc rewrites them, while the
// float64 reference stays finite. Drawn from a separate random stream, so the other programs of
// a seed are unchanged.

import { Rng } from '../rng.js';
import { leaf, sizeOf } from './expr.js';
import type { WellProgram } from './program.js';

/** Naive formulas over z (large logits), y (targets in [0, 1]) and d (a difference, zero in some rows). */
const TEMPLATES: string[] = [
  'log(sum(exp(z), axis = -1))',
  'log(1 + exp(z))',
  'log(sigmoid(z))',
  'log(1 - sigmoid(z))',
  'exp(z) / (1 + exp(z))',
  '-sum(y * log(exp(z) / sum(exp(z), axis = -1, keepdims = true)), axis = -1)',
  '-sum(y * log(softmax(z)), axis = -1)',
  'log(exp(z - logsumexp(z, axis = -1, keepdims = true)))',
  'log((exp(z) + exp(-z)) / 2)',
  'sqrt(sum(d^2, axis = -1))',
  'norm(d)',
  'log(exp(z))',
  'softplus(z) - z * y',
  'log(cosh_like)',
];

export function isStabilitySeed(seed: number): boolean {
  return new Rng(seed ^ 0x51ab1e).next() < 0.06;
}

export function generateStability(seed: number): WellProgram {
  const r = new Rng(seed ^ 0x51ab1e);
  r.next();
  const shape = [r.int(1, 3), r.int(2, 4)];
  const n = sizeOf(shape);
  const scale = r.pick([10, 50, 100, 200]);
  const yPred = Array.from({ length: n }, () => Math.fround(r.uniform(-1.5, 1.5)));
  // Targets: probabilities; in some rows equal to the predictions (a zero difference, for the norm).
  const yTrue = Array.from({ length: n }, () => Math.fround(r.next()));
  const cols = shape[1]!;
  for (let row = 0; row < shape[0]!; row++) {
    if (r.chance(0.4)) for (let j = 0; j < cols; j++) yTrue[row * cols + j] = yPred[row * cols + j]!;
  }
  const terms = Array.from({ length: r.int(1, 2) }, () => r.pick(TEMPLATES));
  const reduceLast = (t: string) => (t.includes('axis = -1)') && !t.includes('keepdims') ? t : `mean(${t}, axis = -1)`);
  const body = terms.map((t) => reduceLast(t.replace('log(cosh_like)', 'log((exp(d) + exp(-d)) / 2)'))).join(' + ');
  const useOption = r.chance(0.5);
  const header = `loss f(y_true, y_pred${useOption ? `; c = ${scale}.0` : ''}) =`;
  const c = useOption ? 'c' : String(scale);
  const lets = [
    `z = ${c} * y_pred`,
    'y = y_true',
    `d = ${c} * (y_pred - y_true)`,
  ];
  const text = `${lets.map((l) => `let ${l}`).join('\n  ')}\n  ${body}`;
  return {
    seed,
    family: 'stability',
    yTrueShape: shape,
    yPredShape: shape,
    labels: false,
    yTrue,
    yPred,
    overrides: {},
    header,
    defs: [],
    lets: [],
    result: leaf(text, 'float', [shape[0]!], -1e3, 1e3),
  };
}
