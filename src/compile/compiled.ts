// A definition compiled for tfjs: for each distinct set of input shapes, the pipeline's stage
// (src/pipeline/: lowered with exact shapes, stabilised; cached, so the common case of one batch
// shape pays once), its gradient derived symbolically and simplified, both flattened into plans
// kept on the stage. A call is one tape node (tfjs's kernel function with its own backward, as
// tf.customGrad makes) joining the value plan and the gradient plans, so training uses lossc's
// own derivative.

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../../grammar/ast.js';
import * as b from '../ir/build.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer } from '../lower/lower.js';
import { differentiate, Pipeline, type Stage } from '../pipeline/pipeline.js';
import { rewrite } from '../rewrite/engine.js';
import { ALL_RULES } from '../rewrite/rules.js';
import { topoSort, type Node } from '../ir/node.js';
import { alias, attachSaved, engine, recordingGradients } from './engine.js';
import { untaped } from './kernels.js';
import { checkLabels, labelCheck, type LabelCheck } from './labels.js';
import { Plan, tfjsForms } from './plan.js';

/**
 * The gradient with respect to one input: its plan reads the inputs, the seed `__dy`, and then
 * `shared`, the forward's intermediates it needs (computed once, by the forward, and saved).
 */
interface Gradient {
  plan: Plan;
  shared: Node[];
}

interface Entry {
  inputs: Node[];
  value: Plan;
  /** The value and then the primary gradient's shared intermediates (for a call on the tape). */
  valueShared: Plan;
  /** The output mask alone (for losses with one), so it is not recomputed with the value. */
  mask?: Plan;
  /** The input whose gradient shares the forward's intermediates (the last float one: y_pred). */
  primary: number;
  /** d value / d input i, built on first use: tfjs asks only for the inputs on its path. */
  gradient(i: number): Gradient;
  /** Which inputs the gradient plan differentiates (floats); the others get zeros. */
  differentiable: boolean[];
  /** The class labels its `one_hot`s read, checked on each call's data (labels.ts). */
  labels?: LabelCheck;
  /** The shapes of the per-sample values and of the output mask. */
  shapes: OutputShapes;
}

/**
 * What a call does to the per-sample values in the loss's own tape node (src/keras/wrapper.ts):
 * its forward runs off the tape, and its derivative is given in closed form.
 */
export interface Reducer {
  /** Tensors it reads that tfjs may differentiate (a sample weight): inputs of the tape node. */
  readonly inputs: tf.Tensor[];
  /** The result from the per-sample values, the output mask and `inputs`; `keep`: what the backward reads (recording only). */
  forward(values: tf.Tensor, mask: tf.Tensor | undefined, inputs: tf.Tensor[], recording: boolean): { out: tf.Tensor; keep: tf.Tensor[] };
  /** d result / d values times dy (the seed of the loss's gradient plans), from the kept tensors. */
  seed(dy: tf.Tensor, kept: tf.Tensor[]): tf.Tensor;
  /** d result / d inputs[j] times dy; `values` computes the per-sample values again (not kept: rarely asked for). */
  inputGradient(j: number, dy: tf.Tensor, kept: tf.Tensor[], values: () => tf.Tensor): tf.Tensor;
}

export interface OutputShapes {
  value: number[];
  mask?: number[];
}

export interface Evaluated {
  value: tf.Tensor;
  mask?: tf.Tensor;
}

export class CompiledDefinition {
  /** The lowered stages, one per input shapes; the fast path shares it (src/compile/fast.ts). */
  readonly pipeline: Pipeline;
  constructor(
    readonly lib: Library,
    readonly def: Definition,
    readonly options: Record<string, Static>,
  ) {
    // Check options now (unknown names, wrong types), before any tensor exists.
    new Lowerer(lib, false).resolveOptions(def, options, undefined);
    this.pipeline = new Pipeline(lib, def, options);
  }

  /**
   * The value as one tape node whose backward runs lossc's gradient plans, only for the inputs
   * tfjs asks for (y_pred's; y_true is not on a training step's path). On the tape, the forward
   * also keeps the intermediates y_pred's gradient reads, so the backward does not compute them
   * again. With a reducer, the node's result is the reduced value (Keras's weighting and
   * reduction run inside it, off the tape) and its backward seeds the plans with the reducer's
   * closed-form d result / d values: no tape kernels, saved copies or their backward kernels.
   */
  private taped(xs: tf.Tensor[], reducer?: Reducer, entry = this.entry(xs)): tf.Tensor {
    const recording = recordingGradients();
    const extra = reducer?.inputs ?? [];
    let kept = 0;
    let held: tf.Tensor[] | undefined;
    const forwardFunc = (_backend: unknown, save: (ts: tf.Tensor[]) => void): tf.Tensor => {
      const ins = this.prepare(entry, xs);
      // The output mask selects entries and is not differentiated: it is computed here, off the tape.
      const mask = () => entry.mask?.run(ins)[0];
      if (!recording) {
        const value = entry.value.run(ins)[0]!;
        return reducer ? reducer.forward(value, mask(), extra, false).out : value;
      }
      // The shared intermediates are saved only: one that is an input needs no copy of its own.
      const [value, ...shared] = entry.valueShared.run(ins, 1);
      const r = reducer?.forward(value!, mask(), extra, true);
      const keep = r?.keep ?? [];
      kept = keep.length;
      const out = r ? r.out : value!;
      // What the backward reads: a tensor made here is kept as it is (attachSaved); one that
      // outlives the call (an input, the result) gets a tensor of its own on its data, as save()
      // would give a copy.
      const copies = new Map<tf.Tensor, tf.Tensor | undefined>([...xs, ...extra, out].map((t) => [t, undefined]));
      const hold = (t: tf.Tensor) => {
        if (!copies.has(t)) return tf.keep(t);
        const c = copies.get(t) ?? tf.keep(alias(t));
        copies.set(t, c);
        return c;
      };
      held = [...ins, ...shared, ...keep].map(hold);
      save([]);
      return out;
    };
    const backwardsFunc = (dy: tf.Tensor, saved: tf.Tensor[]): Record<string, () => tf.Tensor> => {
      const n = xs.length;
      const keep = saved.slice(saved.length - kept);
      const grads: Record<string, () => tf.Tensor> = {};
      xs.forEach((x, i) => {
        grads[i] = () => {
          if (!entry.differentiable[i]) return tf.zeros(x.shape, 'float32');
          const g = entry.gradient(i);
          const shared = i === entry.primary ? saved.slice(n, saved.length - kept) : [];
          const seed = reducer ? reducer.seed(dy, keep) : dy;
          return g.plan.run([...saved.slice(0, n), seed, ...shared])[0]!;
        };
      });
      const values = () => entry.value.run(saved.slice(0, n))[0]!;
      extra.forEach((_, j) => (grads[n + j] = () => reducer!.inputGradient(j, dy, keep, values)));
      return grads;
    };
    const inputs = Object.fromEntries([...xs, ...extra].map((x, i) => [String(i), x]));
    const out = engine().runKernelFunc({ forwardFunc, backwardsFunc, inputs });
    if (held) attachSaved(out, held);
    return out;
  }

  get name(): string {
    return this.def.name;
  }

  /** Cast inputs to the dtypes the definition declares (int labels truncate, as Keras casts). */
  private prepare(entry: Entry, xs: readonly tf.Tensor[]): tf.Tensor[] {
    return xs.map((x, i) => {
      const want = entry.inputs[i]!.dtype;
      if (x.dtype === want) return x;
      if (want === 'bool') return tf.notEqual(x, 0);
      return tf.cast(x, want);
    });
  }

  /** The compiled plans for these input shapes (built on first use). */
  entry(xs: readonly { readonly shape: number[] }[]): Entry {
    const stage = this.pipeline.at(xs.map((x) => x.shape));
    return stage.memo('plans', () => plans(stage));
  }

  /** The shapes apply gives at these input shapes, known before any kernel runs. */
  outputShapes(shapes: readonly number[][]): OutputShapes {
    return this.entry(shapes.map((shape) => ({ shape }))).shapes;
  }

  /** Per-sample values (with lossc's gradient attached) and the output mask, if the loss has one. */
  apply(xs: tf.Tensor[]): Evaluated {
    const entry = this.entry(xs);
    checkLabels(entry.labels, xs, this.def.name);
    const value = this.taped(xs, undefined, entry);
    if (!entry.mask) return { value };
    // The output mask selects entries; it is not differentiated (stop_gradient semantics), so it
    // is computed off tfjs's tape: tf.grad never backpropagates into its comparisons and casts.
    const maskPlan = entry.mask;
    return { value, mask: untaped(() => maskPlan.run(this.prepare(entry, xs))[0]!) };
  }

  /** The per-sample values reduced by `reducer` (the Keras wrapper's steps 5–7), as one tape node. */
  applyReduced(xs: tf.Tensor[], reducer: Reducer): tf.Tensor {
    const entry = this.entry(xs);
    checkLabels(entry.labels, xs, this.def.name);
    return this.taped(xs, reducer, entry);
  }

  /** The value through the plain op-by-op path, differentiated by tfjs's tape (for checking). */
  applyTaped(xs: tf.Tensor[]): tf.Tensor {
    const entry = this.entry(xs);
    checkLabels(entry.labels, xs, this.def.name);
    return tf.tidy(() => entry.value.run(this.prepare(entry, xs))[0]!);
  }
}

/** The value, mask and gradient plans of a stage (a gradient is seeded by `__dy`). */
function plans(stage: Stage): Entry {
  const { lowered, value, mask, differentiable } = stage;
  const seed = b.input('__dy', value.shape);
  const derive = (i: number) => differentiate(value, [lowered.inputs[i]!], { seed, origins: lowered.origins })[0]!;
  const primary = differentiable.lastIndexOf(true);
  const grads = new Map<number, Gradient>();
  // The taped forward: the value, or the value in the gradient's normal forms where that shares
  // more of the gradient's kernels (focal loss: softplus and sigmoid once, not twice).
  const [formed] = tfjsForms([value]) as [Node];
  let taped = formed;
  if (primary >= 0) {
    const [root] = tfjsForms([derive(primary)]) as [Node];
    const [normal] = tfjsForms(rewrite([value], ALL_RULES)) as [Node];
    const [asIs, simplified] = [sharingOf(formed, root), sharingOf(normal, root)];
    const { shared } = simplified.saves > asIs.saves ? simplified : asIs;
    if (simplified.saves > asIs.saves) taped = normal;
    grads.set(primary, { plan: new Plan([root], [...lowered.inputs, seed, ...shared]), shared });
  }
  return {
    inputs: lowered.inputs,
    value: new Plan([value], lowered.inputs),
    valueShared: new Plan([taped, ...(grads.get(primary)?.shared ?? [])], lowered.inputs),
    mask: mask ? new Plan([mask], lowered.inputs) : undefined,
    primary,
    gradient(i) {
      let g = grads.get(i);
      if (!g) grads.set(i, (g = { plan: new Plan([derive(i)], [...lowered.inputs, seed]), shared: [] }));
      return g;
    },
    differentiable,
    labels: labelCheck(lowered.mask ? [lowered.value, lowered.mask] : [lowered.value], lowered.inputs),
    shapes: { value: lowered.value.shape as number[], mask: lowered.mask?.shape as number[] | undefined },
  };
}

/** Ops that run no kernel (a scalar made from a number, or a bound input). */
const FREE = new Set(['input', 'const', 'param', 'size']);

/**
 * The forward's intermediates the gradient `root` should read rather than compute again: of the
 * nodes both graphs compute, those the gradient reads from outside them (each is one saved
 * tensor, an Identity kernel, in place of all the kernels below it); `saves` is the kernels saved.
 * Not the value itself, which reaches the gradient only through the chain rule.
 */
function sharingOf(value: Node, root: Node): { shared: Node[]; saves: number } {
  const forward = new Set(topoSort([value]));
  const order = topoSort([root]);
  const both = new Set(order.filter((n) => forward.has(n) && !FREE.has(n.op) && n !== value));
  const read = new Set<Node>();
  if (both.has(root)) read.add(root);
  for (const n of order) if (!both.has(n)) for (const a of n.args) if (both.has(a)) read.add(a);
  return { shared: [...read], saves: both.size - read.size };
}
