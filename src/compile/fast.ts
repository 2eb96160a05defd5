// The fast path for the common call: a loss reduced to one number (Keras's default
// sum_over_batch_size, or sum/mean), no sample weight or mask, on a backend that keeps tensors
// on the CPU (cpu, wasm). Value and gradient come from ONE generated JavaScript function over
// the tensors' data (src/compile/fused.ts), instead of one tfjs kernel per primitive forward and
// again backward. Anything else goes the op-by-op tfjs way.

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

/** Backends whose tensors live in CPU memory, where reading data out costs a copy, not a sync. */
const CPU_BACKENDS = new Set(['cpu', 'wasm']);

export type FastReduction = 'sum' | 'sum_over_batch_size' | 'mean';

interface FastEntry {
  /** value only */
  value: FusedKernel;
  /** value, then the gradient for each input (null where an input is not differentiable) */
  valueAndGrad: FusedKernel;
  differentiable: boolean[];
  inputShapes: number[][];
  /** Inputs declared int (labels) are truncated, as Keras casts them. */
  intInputs: boolean[];
}

const CACHE_LIMIT = 32;

/** Is a gradient being recorded right now (inside tf.grad, variableGrads, model.fit)? */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; kernelDepth: number } }).state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

export class FastPath {
  private readonly cache = new Map<string, FastEntry | null>();

  constructor(
    private readonly lib: Library,
    private readonly def: Definition,
    private readonly options: Record<string, Static>,
    private readonly reduction: FastReduction,
  ) {}

  /** The reduced loss with its gradient attached, or undefined when this call cannot take the fast path. */
  tryCall(xs: tf.Tensor[]): tf.Tensor | undefined {
    if (!CPU_BACKENDS.has(tf.getBackend())) return undefined;
    const key = xs.map((x) => x.shape.join('x')).join('|');
    let entry = this.cache.get(key);
    if (entry === undefined) {
      entry = this.build(xs.map((x) => x.shape));
      this.cache.set(key, entry);
      if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    }
    if (!entry) return undefined;
    const e = entry;
    const data = xs.map((x, i) => (e.intInputs[i] ? Int32Array.from(x.dataSync(), Math.trunc) : (x.dataSync() as ArrayLike<number>)));
    if (!recordingGradients()) return tf.scalar(e.value.run(data)[0]![0]!);
    const [value, ...grads] = e.valueAndGrad.run(data);
    const f = tf.customGrad(((...args: unknown[]) => {
      const save = args.pop() as (ts: tf.Tensor[]) => void;
      const ins = args as tf.Tensor[];
      save([]);
      return {
        value: tf.scalar(value![0]!),
        gradFunc: (dy: tf.Tensor) => {
          // dy is a scalar (the loss is); scaling in JS avoids tfjs's slow broadcasting multiply.
          const scale = dy.dataSync()[0]!;
          let k = 0;
          return ins.map((x, i) => {
            if (!e.differentiable[i]) return tf.zeros(x.shape);
            const g = grads[k++]!;
            const out = scale === 1 ? g : g.map((v) => v * scale);
            return tf.tensor(out, e.inputShapes[i]!, 'float32');
          });
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...t: tf.Tensor[]) => tf.Tensor;
    return f(...xs);
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
      const differentiable = lowered.inputs.map((n) => n.dtype === 'float32');
      const wrt = lowered.inputs.filter((_, i) => differentiable[i]);
      const grads = rewrite(grad(total, wrt), ALL_RULES);
      const [folded] = rewrite([total], STABILIZE_RULES);
      const value = fuse([folded!], lowered.inputs);
      const valueAndGrad = fuse([folded!, ...grads], lowered.inputs);
      if (!value || !valueAndGrad) return null;
      return { value, valueAndGrad, differentiable, inputShapes: shapes, intInputs: lowered.inputs.map((n) => n.dtype === 'int32') };
    } catch {
      return null; // shape errors and the like are reported by the general path, with context
    }
  }
}
