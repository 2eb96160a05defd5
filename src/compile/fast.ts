// The fast path for the common call: a loss reduced to one number (Keras's default
// sum_over_batch_size, or sum/mean), no sample weight or mask, on a backend that keeps tensors
// on the CPU (cpu, wasm). Value and gradient come from ONE generated JavaScript function over
// the tensors' data (src/compile/fused.ts), instead of one tfjs kernel per primitive forward and
// again backward. Anything else goes the op-by-op tfjs way.
//
// Which gradients: training differentiates with respect to y_pred (the last input), so its
// gradient is computed in the same pass as the value. The others (y_true, rarely wanted) are
// computed only if tfjs's backprop actually asks for them, by a second generated function.

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../../grammar/ast.js';
import { grad } from '../autodiff/grad.js';
import * as b from '../ir/build.js';
import type { Node } from '../ir/node.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer } from '../lower/lower.js';
import { bindSignature } from '../lower/signature.js';
import { rewrite } from '../rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../rewrite/rules.js';
import { fuse, type FusedKernel } from './fused.js';
import { checkLabels, labelCheck, type LabelCheck } from './labels.js';
import { newOutput, readData } from './tensor-data.js';

/** Backends whose tensors live in CPU memory, where reading data out costs a copy, not a sync. */
const CPU_BACKENDS = new Set(['cpu', 'wasm']);

export type FastReduction = 'sum' | 'sum_over_batch_size' | 'mean';

interface FastEntry {
  /** value only */
  value: FusedKernel;
  /** value, then the gradient of the primary input (the last differentiable one) */
  valueAndGrad: FusedKernel;
  /** the gradients of the other inputs, built when first asked for */
  others: () => FusedKernel | null;
  primary: number;
  differentiable: boolean[];
  inputShapes: number[][];
  /** Inputs declared int (labels) are truncated, as Keras casts them. */
  intInputs: boolean[];
  /** The class labels its `one_hot`s read, checked on each call's data (labels.ts). */
  labels?: LabelCheck;
}

const CACHE_LIMIT = 32;

interface EngineInternals {
  state: { gradientDepth: number; kernelDepth: number };
  runKernelFunc(config: {
    forwardFunc: (backend: unknown, save: (ts: tf.Tensor[]) => void) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor;
}

const engine = () => tf.engine() as unknown as EngineInternals;

/** Is a gradient being recorded right now (inside tf.grad, variableGrads, model.fit)? */
function recordingGradients(): boolean {
  const { state } = engine();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

function scaled(g: Float32Array, s: number): Float32Array {
  return s === 1 ? g : g.map((v) => v * s);
}

export class FastPath {
  private readonly cache = new Map<string, FastEntry | null>();

  constructor(
    private readonly lib: Library,
    private readonly def: Definition,
    private readonly options: Record<string, Static>,
    private readonly reduction: FastReduction,
  ) {}

  /** Build (or find) the generated functions for these input shapes; null when not possible. */
  prepare(shapes: number[][]): FastEntry | null {
    const key = shapes.map((s) => s.join('x')).join('|');
    let entry = this.cache.get(key);
    if (entry === undefined) {
      entry = this.build(shapes);
      this.cache.set(key, entry);
      if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    }
    return entry;
  }

  /** The reduced loss with its gradient attached, or undefined when this call cannot take the fast path. */
  tryCall(xs: tf.Tensor[]): tf.Tensor | undefined {
    if (!CPU_BACKENDS.has(tf.getBackend())) return undefined;
    const e = this.prepare(xs.map((x) => x.shape));
    if (!e) return undefined;
    checkLabels(e.labels, xs, this.def.name);
    if (!recordingGradients()) return tf.scalar(e.value.run(this.read(e, xs))[0]![0]!);
    // The gradient's tensor is made before the inputs are read (on wasm, making it may move the
    // heap that the inputs are read from) and written by the kernel in place.
    const out = newOutput(e.inputShapes[e.primary]!);
    let value: number;
    try {
      value = e.valueAndGrad.run(this.read(e, xs), [undefined, out.data])[0]![0]!;
    } catch (err) {
      out.discard();
      throw err;
    }
    const inputs: Record<string, tf.Tensor> = {};
    xs.forEach((x, i) => (inputs[i] = x));
    // What tf.customGrad does, but with a thunk per input, so tfjs asks only for the
    // gradients on its path (model.fit never asks for y_true's). The gradient is a saved
    // tensor: the tape keeps it until backprop is over, then disposes it, used or not.
    return engine().runKernelFunc({
      forwardFunc: (_backend, save) => {
        save([out.toTensor()]);
        return tf.scalar(value);
      },
      backwardsFunc: (dy, saved) => {
        const primaryGrad = saved[0]!;
        const s = dy.dataSync()[0]!; // the loss is a scalar, so dy is one number
        const out: Record<string, () => tf.Tensor> = {};
        xs.forEach((x, i) => {
          out[i] = () => {
            if (!e.differentiable[i]) return tf.zeros(x.shape);
            if (i === e.primary) return s === 1 ? primaryGrad.clone() : tf.mul(primaryGrad, s);
            const others = e.others();
            if (!others) throw new Error('lossc: no gradient kernel for a secondary input');
            const k = e.differentiable.filter((d, j) => d && j !== e.primary && j < i).length;
            return tf.tensor(scaled(others.run(this.read(e, xs))[k]!, s), e.inputShapes[i]!, 'float32');
          };
        });
        return out;
      },
      inputs,
    });
  }

  /** The inputs' data as the kernel takes it (labels declared int are truncated, as Keras casts them). */
  private read(e: FastEntry, xs: tf.Tensor[]): ArrayLike<number>[] {
    return xs.map((x, i) => (e.intInputs[i] ? Int32Array.from(readData(x), Math.trunc) : readData(x)));
  }

  private build(shapes: number[][]): FastEntry | null {
    if (shapes.some((s) => s.includes(0))) return null; // empty tensors: Keras's special cases, general path
    try {
      const actual: Record<string, { shape: number[] }> = {};
      this.def.params.forEach((p, i) => (actual[p.name] = { shape: shapes[i]! }));
      const lowered = new Lowerer(this.lib, false).lowerTop(this.def, this.options, bindSignature(this.def, actual));
      if (lowered.mask) return null; // masked means: divide by the valid count; the general path does it
      const [values] = rewrite([lowered.value], STABILIZE_RULES);
      const v = values!;
      let total: Node = v;
      if (v.rank > 0) {
        total = b.reduce('sum', v, null);
        if (this.reduction !== 'sum') total = b.div(total, b.size(v, null));
      }
      const [folded] = rewrite([total], STABILIZE_RULES);
      const differentiable = lowered.inputs.map((n) => n.dtype === 'float32');
      const primary = differentiable.lastIndexOf(true);
      if (primary < 0) return null;
      const [primaryGrad] = rewrite(grad(folded!, [lowered.inputs[primary]!]), ALL_RULES);
      const value = fuse([folded!], lowered.inputs);
      const valueAndGrad = fuse([folded!, primaryGrad!], lowered.inputs);
      if (!value || !valueAndGrad) return null;
      const rest = lowered.inputs.filter((_, i) => differentiable[i] && i !== primary);
      let others: FusedKernel | null | undefined;
      return {
        value,
        valueAndGrad,
        others: () => (others ??= rest.length ? fuse(rewrite(grad(folded!, rest), ALL_RULES), lowered.inputs) : null),
        primary,
        differentiable,
        inputShapes: shapes,
        intInputs: lowered.inputs.map((n) => n.dtype === 'int32'),
        labels: labelCheck([lowered.value], lowered.inputs),
      };
    } catch {
      return null; // shape errors and the like are reported by the general path, with context
    }
  }
}
