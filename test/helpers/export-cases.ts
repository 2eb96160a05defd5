// The cases the exported Python is checked on, with lossc's own answers: every Keras reference
// case, and per stdlib loss (and per user-written loss) random inputs from helpers/loss-inputs.ts
// with every reduction, with and without sample weights. Modules are exported per loss and per
// option set (an option whose value changes the formula is fixed at export, `-o k=v`).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, type EvalRequest } from '../../src/cli/eval.js';
import { exportLoss, type Target } from '../../src/export/index.js';
import { Library } from '../../src/lower/library.js';
import { REDUCTIONS } from '../../src/keras/wrapper.js';
import { baseName, kerasCases, shapeOf } from './arrays.js';
import { LOSS_INPUTS, logitOptions, seeded } from './loss-inputs.js';
import type { PyCase } from './python.js';

/** A user-written loss file, exported as one module beside the stdlib's. */
export const USER_SOURCE = `
# Asymmetric squared error: under-predictions cost \`under\` times more.
loss asymmetric_squared(y_true, y_pred; under = 3.0) =
  let d = y_pred - y_true
  let w = where(d < 0, under, 1)
  mean(w * d^2, axis = -1)

# Log-loss of a softmax over logits, with per-class weights.
loss weighted_softmax_ce(y_true, y_pred; weights = [1.0, 2.0, 0.5]) =
  let logp = y_pred - logsumexp(y_pred, axis = -1, keepdims = true)
  -sum(weights * y_true * logp, axis = -1)

# A wavy error made of cosh, sinh, cos and sin (every target spells them as its module's function).
loss wavy(y_true, y_pred; k = 1.0) =
  let d = y_pred - y_true
  mean(cosh(d) - 1 + 0.1 * sinh(d) * cos(k * d) + 0.1 * sin(d)^2, axis = -1)
`;

export interface Expected {
  case: PyCase;
  value: unknown;
  grad?: unknown;
  /** The source for lossc's own answer (user losses). */
  source?: string;
}

export interface CaseSet {
  expected: Expected[];
  /** How many distinct losses were exported. */
  losses: number;
  modules: number;
}

const optionTags = new Map<string, number>();
const moduleName = (loss: string, options: Record<string, unknown>, target: string, g: boolean) => {
  const key = JSON.stringify(options);
  if (!optionTags.has(key)) optionTags.set(key, optionTags.size);
  const tag = key === '{}' ? '' : `_o${optionTags.get(key)}`;
  return `${loss}${tag}_${target}${g ? '_g' : ''}`;
};

class Exporter {
  readonly written = new Set<string>();
  constructor(
    readonly dir: string,
    readonly targets: Target[],
    readonly withGradient: boolean,
  ) {}

  /** The module (per target) for a loss with these options, exported on first use. */
  module(loss: string, options: Record<string, unknown>, target: Target, g = false, source?: string): string {
    const name = moduleName(source ? 'user' : loss, options, target, g);
    if (!this.written.has(name)) {
      const text = source ? exportLoss(source, target, { options, withGradient: g }) : exportLoss(loss, target, { options, withGradient: g });
      writeFileSync(join(this.dir, `${name}.py`), text);
      this.written.add(name);
    }
    return name;
  }
}

function lossc(req: EvalRequest, grad: boolean): { value: unknown; grad?: unknown } {
  const out = answer({ ...req, grad });
  if ('error' in out) throw new Error(`lossc itself fails on ${String(req.id)}: ${out.error.message}`);
  return out;
}

/** Build every case for `targets` (module files go to `dir`). */
export function buildCases(dir: string, targets: Target[], opts: { grad: boolean; withGradient: boolean; classes: boolean; vjp?: boolean }): Map<Target, CaseSet> {
  const ex = new Exporter(dir, targets, opts.withGradient);
  const out = new Map<Target, CaseSet>(targets.map((t) => [t, { expected: [], losses: 0, modules: 0 }]));
  const add = (target: Target, e: Expected) => out.get(target)!.expected.push(e);
  const lib = Library.stdlib();
  const names = lib.names().filter((n) => lib.get(n)!.def.kind === 'loss');
  const grad = opts.grad;
  // The Keras reference cases.
  for (const c of kerasCases()) {
    const req: EvalRequest = { id: c.id, loss: c.loss, options: c.options, reduction: c.reduction, call: c.call, y_true: c.y_true, y_pred: c.y_pred, sample_weight: c.sample_weight, mask: c.mask };
    const want = lossc(req, grad);
    // (The gradient module first: its lowering then serves every target.)
    if (opts.withGradient) ex.module(c.loss, c.options, 'pytorch', true);
    for (const t of targets) {
      const pc: PyCase = { id: `keras:${c.id}`, module: ex.module(c.loss, c.options, t), loss: c.loss, options: c.options, reduction: c.reduction, call: c.call, y_true: c.y_true, y_pred: c.y_pred, sample_weight: c.sample_weight, mask: c.mask, class: opts.classes && t !== 'numpy' && t !== 'jax' && c.call !== 'function' };
      if (t === 'pytorch' && grad) Object.assign(pc, { grad: true, grad_module: opts.withGradient ? ex.module(c.loss, c.options, t, true) : undefined });
      add(t, { case: pc, ...want });
    }
  }
  // Random cases: every stdlib loss (aliases too), every option set, every reduction, +- weights.
  const r = seeded(16);
  const user = [
    { loss: 'asymmetric_squared', gen: LOSS_INPUTS.mean_squared_error!.gen, options: [{}, { under: 0.5 }] },
    { loss: 'weighted_softmax_ce', gen: LOSS_INPUTS.categorical_crossentropy!.gen2!, options: [{}, { weights: [0.3, 1, 2] }] },
    { loss: 'wavy', gen: LOSS_INPUTS.mean_squared_error!.gen, options: [{}, { k: 2 }] },
  ];
  const plans = [
    ...names.map((loss) => {
      const e = LOSS_INPUTS[baseName(lib, loss)]!;
      return { loss, source: undefined as string | undefined, sets: [...e.options.map((o) => ({ o, gen: e.gen })), ...logitOptions(baseName(lib, loss)).map((o) => ({ o, gen: e.gen2! }))] };
    }),
    ...user.map((u) => ({ loss: u.loss, source: USER_SOURCE, sets: u.options.map((o) => ({ o, gen: u.gen })) })),
  ];
  for (const p of plans) {
    for (const [k, { o, gen }] of p.sets.entries()) {
      const { yTrue, yPred } = gen(r);
      // Weights shaped like the per-sample values.
      const shape = shapeOf(lossc({ loss: p.loss, source: p.source, options: o, call: 'function', y_true: yTrue, y_pred: yPred }, false).value);
      // A loss of the whole batch (one number) refuses reduction 'none' (its weight here is a number).
      const batchLevel = shape.length === 0;
      const fill = (d: number): unknown => (d === shape.length ? Math.round(r() * 100) / 50 : Array.from({ length: shape[d]! }, () => fill(d + 1)));
      const sw = fill(0);
      for (const reduction of REDUCTIONS) {
        for (const weighted of [false, true]) {
          const id = `random:${p.loss}:${k}:${reduction}:${weighted ? 'w' : '-'}`;
          const req: EvalRequest = { id, loss: p.loss, source: p.source, options: o, reduction, y_true: yTrue, y_pred: yPred, sample_weight: weighted ? sw : undefined };
          const g = grad;
          const refused = batchLevel && reduction === 'none';
          if (opts.withGradient) ex.module(p.loss, o, 'pytorch', true, p.source);
          if (opts.vjp) ex.module(p.loss, o, 'jax', true, p.source);
          if (opts.vjp && reduction === (batchLevel ? 'sum' : 'none') && !weighted && p.loss !== 'ctc') {
            // jax.custom_vjp's backward (lossc's derivative) against lossc's gradient of the values' sum.
            const vid = `vjp:${p.loss}:${k}`;
            const per = lossc({ ...req, id: vid, call: 'function', sample_weight: undefined }, true);
            const pc: PyCase = { id: vid, module: ex.module(p.loss, o, 'jax', false, p.source), grad_module: ex.module(p.loss, o, 'jax', true, p.source), loss: p.loss, options: o, call: 'function', y_true: yTrue, y_pred: yPred, vjp: true };
            add('jax', { case: pc, ...per, source: p.source });
          }
          if (refused) continue;
          const want = lossc(req, g);
          for (const t of targets) {
            const pc: PyCase = { id, module: ex.module(p.loss, o, t, false, p.source), loss: p.loss, options: o, reduction, y_true: yTrue, y_pred: yPred, sample_weight: weighted ? sw : null, class: opts.classes && !weighted && t !== 'numpy' && t !== 'jax' };
            if (t === 'pytorch' && g) Object.assign(pc, { grad: true, grad_module: opts.withGradient ? ex.module(p.loss, o, t, true, p.source) : undefined });
            add(t, { case: pc, ...want, source: p.source });
          }
        }
      }
    }
  }
  for (const t of targets) {
    const set = out.get(t)!;
    set.losses = names.length + user.length;
    set.modules = [...ex.written].filter((m) => m.includes(`_${t}`)).length;
  }
  return out;
}
