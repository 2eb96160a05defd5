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
import type { Dim } from '../ir/shape.js';
import { differentiate, sizeAssumptions, stabilise, type Pipeline, type Stage } from '../pipeline/pipeline.js';
import { sameShapes } from './fused-codegen/binding.js';
import { dimSize, szEval } from './fused-codegen/size.js';
import { engine, recordingGradients } from './engine.js';
import { fuse, type FusedKernel } from './fused.js';
import { checkLabels, labelCheck, type LabelCheck } from './labels.js';
import { newOutput, readData, wasmHeapMemory } from './tensor-data.js';
import { simdKernel, type SimdKernel, type SizeOf } from './wasm-simd/simd.js';

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
  /** Inputs declared int (labels) are truncated, as Keras casts them. */
  intInputs: boolean[];
  /** The class labels its `one_hot`s read, checked on each call's data (labels.ts). */
  labels?: LabelCheck;
  /** What its graphs assume of a signature's sizes (pipeline.ts's sizeAssumptions). */
  assumptions: Array<readonly [Dim, Dim]>;
}

/** A stage's reduced value, with its SIMD kernels per wasm heap. */
interface ValueEntry {
  root: Node;
  inputs: readonly Node[];
  kernels: WeakMap<WebAssembly.Memory, SimdKernel | null>;
}

/** A reduced value with the call's sizes. */
interface ValueAt {
  value: ValueEntry;
  size: SizeOf;
}

/** A SIMD kernel with the call's sizes bound. */
interface BoundSimd {
  run(inputs: readonly ArrayLike<number>[]): number | undefined;
}

/** An entry with the call's sizes: the value of each of its symbols; and the stage it is of. */
interface Prepared {
  entry: FastEntry;
  size: SizeOf;
  stage: Stage;
}

/** A dimension's value at a binding of a signature's symbols (NaN where it does not divide). */
function sizeAt(binding: ReadonlyMap<string, number>): (d: Dim) => number {
  return (d) => {
    try {
      return szEval(dimSize(d), (name) => binding.get(name) ?? NaN);
    } catch {
      return NaN; // a size the fused target cannot read (it refuses such graphs anyway)
    }
  };
}

const holds = (assumptions: FastEntry['assumptions'], size: (d: Dim) => number) => assumptions.every(([a, b]) => size(a) === size(b));

function scaled(g: Float32Array, s: number): Float32Array {
  return s === 1 ? g : g.map((v) => v * s);
}

export class FastPath {
  constructor(
    /** The stages it shares with the op-by-op path (a CompiledDefinition's `pipeline`). */
    private readonly pipeline: Pipeline,
    private readonly reduction: FastReduction,
  ) {}

  /**
   * Build (or find) the generated functions for these input shapes; null when not possible. They
   * are made once per shape signature (pipeline.ts) and take the call's sizes; where a graph
   * needs the sizes themselves (or assumes what this call's sizes break), once per shape.
   */
  prepare(shapes: readonly (readonly number[])[]): Prepared | null {
    // The common case, the shapes of the last call again: nothing to look up.
    const last = this.last;
    if (last && sameShapes(last.shapes, shapes)) return last.prepared;
    const prepared = this.lookUp(shapes);
    this.last = { shapes: shapes.map((s) => [...s]), prepared };
    return prepared;
  }

  private last?: { shapes: number[][]; prepared: Prepared | null };

  private lookUp(shapes: readonly (readonly number[])[]): Prepared | null {
    if (shapes.some((s) => s.includes(0))) return null; // empty tensors: Keras's special cases, general path
    const { stage, binding } = this.pipeline.atSignature(shapes);
    if (stage) {
      const entry = stage.memo(`fused:${this.reduction}`, () => fusedEntry(stage, this.reduction));
      const size = sizeAt(binding);
      if (entry && holds(entry.assumptions, size)) return { entry, size, stage };
    }
    return this.concrete(shapes);
  }

  /** The kernels of the stage at exactly these shapes. */
  private concrete(shapes: readonly (readonly number[])[]): Prepared | null {
    let stage: Stage;
    try {
      stage = this.pipeline.at(shapes);
    } catch {
      return null; // shape errors and the like are reported by the general path, with context
    }
    const entry = stage.memo(`fused:${this.reduction}`, () => fusedEntry(stage, this.reduction));
    return entry && { entry, size: Number, stage };
  }

  /** The reduced loss with its gradient attached, or undefined when this call cannot take the fast path. */
  tryCall(xs: tf.Tensor[]): tf.Tensor | undefined {
    if (!CPU_BACKENDS.has(tf.getBackend())) return undefined;
    const shapes = xs.map((x) => x.shape);
    const p = this.prepare(shapes);
    if (!p) return undefined;
    const { entry: e, size } = p;
    checkLabels(e.labels, xs, this.pipeline.def.name, size);
    if (!recordingGradients()) {
      const memory = wasmHeapMemory();
      const data = this.read(e, xs);
      const fast = memory ? this.simdOf(p, memory)?.run(data, p.size) : undefined;
      return tf.scalar(fast ?? e.value.run(data, undefined, shapes)[0]![0]!);
    }
    // The gradient's tensor is made before the inputs are read (on wasm, making it may move the
    // heap that the inputs are read from) and written by the kernel in place.
    const out = newOutput(shapes[e.primary]!);
    let value: number;
    try {
      value = e.valueAndGrad.run(this.read(e, xs), [undefined, out.data], shapes)[0]![0]!;
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
            const k = e.differentiable.filter((d, j) => d && j !== e.primary && j < i).length;
            return tf.tensor(scaled(this.otherGradients(p, shapes).run(this.read(e, xs), undefined, shapes)[k]!, s), x.shape, 'float32');
          };
        });
        return out;
      },
      inputs,
    });
  }

  /** The kernel of the secondary gradients, at these shapes (a signature's where its assumptions hold). */
  private otherGradients(p: Prepared, shapes: readonly (readonly number[])[]): FusedKernel {
    let others = p.entry.others();
    if (p.size !== Number && (!others || (others.symbolic && !holds(sizeAssumptions(others.roots), p.size)))) {
      others = this.concrete(shapes)?.entry.others() ?? null;
    }
    if (!others) throw new Error('lossc: no gradient kernel for a secondary input');
    return others;
  }

  /**
   * The value-only WebAssembly SIMD kernel on tfjs-backend-wasm's heap for these shapes, the call's
   * sizes bound; null where it does not cover the loss.
   */
  simdAt(shapes: readonly (readonly number[])[], memory: WebAssembly.Memory): BoundSimd | null {
    const p = this.prepare(shapes);
    const k = p && this.simdOf(p, memory);
    return k && { run: (xs) => k.run(xs, p.size) };
  }

  /** The SIMD kernel of a prepared stage's value (one module per shape signature: it takes the sizes). */
  private simdOf(p: Prepared, memory: WebAssembly.Memory): SimdKernel | null {
    const v = valueEntry(p.stage, this.reduction);
    if (!v) return null;
    let k = v.kernels.get(memory);
    if (k === undefined) v.kernels.set(memory, (k = simdKernel(v.root, v.inputs, memory)));
    return k;
  }

  /** The reduced, stabilised value for these shapes (of the stage `prepare` finds: per shape signature) with the call's sizes, and the inputs it reads: what the SIMD target compiles. */
  valueAt(shapes: readonly (readonly number[])[]): ValueAt | null {
    const p = this.prepare(shapes);
    const value = p && valueEntry(p.stage, this.reduction);
    return value && { value, size: p.size };
  }

  /** The inputs' data as the kernel takes it (labels declared int are truncated, as Keras casts them). */
  private read(e: FastEntry, xs: tf.Tensor[]): ArrayLike<number>[] {
    return xs.map((x, i) => (e.intInputs[i] ? Int32Array.from(readData(x), Math.trunc) : readData(x)));
  }
}

/** A stage's reduced value (memoised on it); null where the fast path does not take it. */
function valueEntry(stage: Stage, reduction: FastReduction): ValueEntry | null {
  return stage.memo(`simd:${reduction}`, () => {
    try {
      if (stage.lowered.mask) return null;
      const root = reducedValue(stage.value, reduction);
      return { root, inputs: stage.lowered.inputs, kernels: new WeakMap() };
    } catch {
      return null; // errors of the derivation are reported by the general path, with context
    }
  });
}

/** The loss reduced to one number, stabilised: what every kernel here computes. */
function reducedValue(v: Node, reduction: FastReduction): Node {
  let total: Node = v;
  if (v.rank > 0) {
    total = b.reduce('sum', v, null);
    if (reduction !== 'sum') total = b.div(total, b.size(v, null));
  }
  return stabilise([total])[0]!;
}

/**
 * The kernel of the gradients of the inputs other than the primary one. At a signature's stage a
 * derivative that needs the sizes themselves (concat's of unequal parts) gives null: the caller
 * then builds it at the call's exact shapes, where it can.
 */
function secondaryKernel(stage: Stage, folded: Node, rest: Node[]): FusedKernel | null {
  try {
    return fuse(differentiate(folded, rest), stage.lowered.inputs);
  } catch (e) {
    if (stage.shapes.every((s) => s.every((d) => typeof d === 'number'))) throw e;
    return null;
  }
}

/** The fused kernels of a stage for one reduction; null when the fused target cannot take it. */
function fusedEntry(stage: Stage, reduction: FastReduction): FastEntry | null {
  try {
    const { lowered, value: v, differentiable } = stage;
    if (lowered.mask) return null; // masked means: divide by the valid count; the general path does it
    const folded = reducedValue(v, reduction);
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
      others: () => (others ??= rest.length ? secondaryKernel(stage, folded!, rest) : null),
      primary,
      differentiable,
      intInputs: lowered.inputs.map((n) => n.dtype === 'int32'),
      labels: labelCheck([lowered.value], lowered.inputs),
      assumptions: sizeAssumptions([lowered.value, folded!, primaryGrad!]),
    };
  } catch {
    return null; // errors of the derivation are reported by the general path, with context
  }
}
