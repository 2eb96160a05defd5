// A definition compiled for tfjs: for each distinct set of input shapes, the pipeline's stage
// (src/pipeline/: lowered with exact shapes, stabilised; cached, so the common case of one batch
// shape pays once), its gradient derived symbolically and simplified, both flattened into plans
// kept on the stage. Calls join the value plan and the gradient plan with tf.customGrad, so
// training uses lossc's own derivative.

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../../grammar/ast.js';
import * as b from '../ir/build.js';
import type { Node } from '../ir/node.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer } from '../lower/lower.js';
import { differentiate, Pipeline, type Stage } from '../pipeline/pipeline.js';
import { untaped } from './kernels.js';
import { checkLabels, labelCheck, type LabelCheck } from './labels.js';
import { Plan } from './plan.js';

interface Entry {
  inputs: Node[];
  value: Plan;
  /** The output mask alone (for losses with one), so it is not recomputed with the value. */
  mask?: Plan;
  gradient: Plan;
  /** Which inputs the gradient plan differentiates (floats); the others get zeros. */
  differentiable: boolean[];
  /** The class labels its `one_hot`s read, checked on each call's data (labels.ts). */
  labels?: LabelCheck;
  /** The shapes of the per-sample values and of the output mask. */
  shapes: OutputShapes;
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
  private readonly withGradient: (...xs: tf.Tensor[]) => tf.Tensor;

  constructor(
    readonly lib: Library,
    readonly def: Definition,
    readonly options: Record<string, Static>,
  ) {
    // Check options now (unknown names, wrong types), before any tensor exists.
    new Lowerer(lib, false).resolveOptions(def, options, undefined);
    this.pipeline = new Pipeline(lib, def, options);
    this.withGradient = tf.customGrad(((...args: unknown[]) => {
      const save = args.pop() as (ts: tf.Tensor[]) => void;
      const xs = args as tf.Tensor[];
      const entry = this.entry(xs);
      const value = tf.tidy(() => entry.value.run(this.prepare(entry, xs))[0]!);
      save(xs);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const grads = entry.gradient.run([...this.prepare(entry, saved), dy]);
            let k = 0;
            return entry.differentiable.map((d, i) => (d ? grads[k++]! : tf.zerosLike(saved[i]!)));
          }),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
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
    const value = this.withGradient(...xs);
    if (!entry.mask) return { value };
    // The output mask selects entries; it is not differentiated (stop_gradient semantics), so it
    // is computed off tfjs's tape: tf.grad never backpropagates into its comparisons and casts.
    const maskPlan = entry.mask;
    return { value, mask: untaped(() => maskPlan.run(this.prepare(entry, xs))[0]!) };
  }

  /** The value through the plain op-by-op path, differentiated by tfjs's tape (for checking). */
  applyTaped(xs: tf.Tensor[]): tf.Tensor {
    const entry = this.entry(xs);
    checkLabels(entry.labels, xs, this.def.name);
    return tf.tidy(() => entry.value.run(this.prepare(entry, xs))[0]!);
  }
}

/** The value, mask and gradient plans of a stage (the gradient is seeded by `__dy`). */
function plans(stage: Stage): Entry {
  const { lowered, value, mask, differentiable } = stage;
  const wrt = lowered.inputs.filter((_, i) => differentiable[i]);
  const seed = b.input('__dy', value.shape);
  const grads = wrt.length ? differentiate(value, wrt, { seed, origins: lowered.origins }) : [];
  return {
    inputs: lowered.inputs,
    value: new Plan([value], lowered.inputs),
    mask: mask ? new Plan([mask], lowered.inputs) : undefined,
    gradient: new Plan(grads, [...lowered.inputs, seed]),
    differentiable,
    labels: labelCheck(lowered.mask ? [lowered.value, lowered.mask] : [lowered.value], lowered.inputs),
    shapes: { value: lowered.value.shape as number[], mask: lowered.mask?.shape as number[] | undefined },
  };
}
