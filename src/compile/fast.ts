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
import * as b from '../ir/build.js';
import type { Node } from '../ir/node.js';
import { differentiate, stabilise, type Pipeline, type Stage } from '../pipeline/pipeline.js';
import { engine, recordingGradients } from './engine.js';
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

function scaled(g: Float32Array, s: number): Float32Array {
  return s === 1 ? g : g.map((v) => v * s);
}

export class FastPath {
  constructor(
    /** The stages it shares with the op-by-op path (a CompiledDefinition's `pipeline`). */
    private readonly pipeline: Pipeline,
    private readonly reduction: FastReduction,
  ) {}

  /** Build (or find) the generated functions for these input shapes; null when not possible. */
  prepare(shapes: number[][]): FastEntry | null {
    if (shapes.some((s) => s.includes(0))) return null; // empty tensors: Keras's special cases, general path
    let stage: Stage;
    try {
      stage = this.pipeline.at(shapes);
    } catch {
      return null; // shape errors and the like are reported by the general path, with context
    }
    return stage.memo(`fused:${this.reduction}`, () => fusedEntry(stage, this.reduction));
  }

  /** The reduced loss with its gradient attached, or undefined when this call cannot take the fast path. */
  tryCall(xs: tf.Tensor[]): tf.Tensor | undefined {
    if (!CPU_BACKENDS.has(tf.getBackend())) return undefined;
    const e = this.prepare(xs.map((x) => x.shape));
    if (!e) return undefined;
    checkLabels(e.labels, xs, this.pipeline.def.name);
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
}

/** The fused kernels of a stage for one reduction; null when the fused target cannot take it. */
function fusedEntry(stage: Stage, reduction: FastReduction): FastEntry | null {
  try {
    const { lowered, value: v, differentiable } = stage;
    if (lowered.mask) return null; // masked means: divide by the valid count; the general path does it
    let total: Node = v;
    if (v.rank > 0) {
      total = b.reduce('sum', v, null);
      if (reduction !== 'sum') total = b.div(total, b.size(v, null));
    }
    const [folded] = stabilise([total]);
    const primary = differentiable.lastIndexOf(true);
    if (primary < 0) return null;
    const [primaryGrad] = differentiate(folded!, [lowered.inputs[primary]!]);
    const value = fuse([folded!], lowered.inputs);
    const valueAndGrad = fuse([folded!, primaryGrad!], lowered.inputs);
    if (!value || !valueAndGrad) return null;
    const rest = lowered.inputs.filter((_, i) => differentiable[i] && i !== primary);
    let others: FusedKernel | null | undefined;
    return {
      value,
      valueAndGrad,
      others: () => (others ??= rest.length ? fuse(differentiate(folded!, rest), lowered.inputs) : null),
      primary,
      differentiable,
      inputShapes: stage.shapes.map((s) => [...s]),
      intInputs: lowered.inputs.map((n) => n.dtype === 'int32'),
      labels: labelCheck([lowered.value], lowered.inputs),
    };
  } catch {
    return null; // errors of the derivation are reported by the general path, with context
  }
}
