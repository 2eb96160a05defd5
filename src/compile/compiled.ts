// A definition compiled for tfjs: for each distinct set of input shapes (a cache, so the common
// case of one batch shape pays once), lower with exact shapes, fold and stabilise, derive the
// gradient symbolically, simplify it, and flatten both into plans. Calls join the value plan
// and the gradient plan with tf.customGrad, so training uses lossc's own derivative.

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../../grammar/ast.js';
import { grad } from '../autodiff/grad.js';
import { LosscError } from '../errors.js';
import * as b from '../ir/build.js';
import type { Node } from '../ir/node.js';
import { showShape } from '../ir/shape.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer } from '../lower/lower.js';
import { bindSignature } from '../lower/signature.js';
import { rewrite } from '../rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../rewrite/rules.js';
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

const CACHE_LIMIT = 32;

export interface Evaluated {
  value: tf.Tensor;
  mask?: tf.Tensor;
}

export class CompiledDefinition {
  private readonly cache = new Map<string, Entry>();
  private readonly withGradient: (...xs: tf.Tensor[]) => tf.Tensor;

  constructor(
    readonly lib: Library,
    readonly def: Definition,
    readonly options: Record<string, Static>,
  ) {
    // Check options now (unknown names, wrong types), before any tensor exists.
    new Lowerer(lib, false).resolveOptions(def, options, undefined);
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
    if (xs.length !== this.def.params.length) {
      throw new LosscError('arity', `\`${this.def.name}\` takes ${this.def.params.length} tensors (${this.def.params.map((p) => p.name).join(', ')}), got ${xs.length}`);
    }
    const key = xs.map((x) => x.shape.join('x')).join('|');
    const hit = this.cache.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const entry = this.build(xs.map((x) => x.shape));
    this.cache.set(key, entry);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private build(shapes: number[][]): Entry {
    const actual: Record<string, { shape: number[] }> = {};
    this.def.params.forEach((p, i) => (actual[p.name] = { shape: shapes[i]! }));
    const signature = bindSignature(this.def, actual);
    let lowered;
    try {
      lowered = new Lowerer(this.lib, false).lowerTop(this.def, this.options, signature);
    } catch (e) {
      if (e instanceof LosscError && e.kind === 'shape') {
        const shown = this.def.params.map((p, i) => `${p.name} ${showShape(shapes[i]!)}`).join(', ');
        throw new LosscError('shape', `\`${this.def.name}\` with ${shown}: ${e.detail}`, e.span);
      }
      throw e;
    }
    const roots = lowered.mask ? [lowered.value, lowered.mask] : [lowered.value];
    const stable = rewrite(roots, STABILIZE_RULES);
    const value = stable[0]!;
    const differentiable = lowered.inputs.map((n) => n.dtype === 'float32');
    const wrt = lowered.inputs.filter((_, i) => differentiable[i]);
    const seed = b.input('__dy', value.shape);
    const grads = wrt.length ? rewrite(grad(value, wrt, seed, lowered.origins), ALL_RULES) : [];
    return {
      inputs: lowered.inputs,
      value: new Plan([value], lowered.inputs),
      mask: stable[1] ? new Plan([stable[1]], lowered.inputs) : undefined,
      gradient: new Plan(grads, [...lowered.inputs, seed]),
      differentiable,
      labels: labelCheck(roots, lowered.inputs),
      shapes: { value: lowered.value.shape as number[], mask: lowered.mask?.shape as number[] | undefined },
    };
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
