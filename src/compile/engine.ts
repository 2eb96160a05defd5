// What lossc reads of tfjs's engine beyond its public API: whether a gradient is being recorded,
// running a kernel function with its own backward function (the fast path's kernels), and the
// saved tensors of the tape node just recorded.

import * as tf from '@tensorflow/tfjs';

export interface EngineInternals {
  state: {
    gradientDepth: number;
    kernelDepth: number;
    activeTape: Array<{ outputs: tf.Tensor[]; saved: tf.Tensor[] }> | null;
    tensorInfo: WeakMap<object, { backend: unknown }>;
  };
  runKernelFunc(config: {
    forwardFunc: (backend: unknown, save: (ts: tf.Tensor[]) => void) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor;
}

export const engine = () => tf.engine() as unknown as EngineInternals;

/** Is a gradient being recorded right now (inside tf.grad, variableGrads, model.fit)? */
export function recordingGradients(): boolean {
  const { state } = engine();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * Hands tensors a kernel function made and kept (tf.keep) to the tape node that just recorded it
 * (`out` its result), as saved tensors: tfjs disposes them with the tape, and passes them to the
 * backward function after those its save function copied. save() copies each tensor (an
 * Identity kernel, a full copy on wasm), which only a tensor that outlives the call needs.
 */
export function attachSaved(out: tf.Tensor, tensors: tf.Tensor[]): void {
  const tape = engine().state.activeTape;
  const node = tape?.[tape.length - 1];
  if (!node || node.outputs[0] !== out) {
    tf.dispose(tensors);
    throw new Error("lossc: the tape node of a call is not the engine's last (tfjs internals changed?)");
  }
  node.saved.push(...tensors);
}

/** Backends that count references to a tensor's data (incRef, as their Reshape does). */
const SHARED_DATA = new Set(['cpu', 'wasm', 'webgl']);

/**
 * A new tensor on t's data, as its Reshape makes one: no kernel and no copy (wasm's Identity, which
 * t.clone() runs, copies the data). t.clone() where the backend does not count references, or t's
 * data is not on the current backend.
 */
export function alias(t: tf.Tensor): tf.Tensor {
  const backend = tf.backend() as tf.KernelBackend & { incRef(dataId: object): void };
  if (!SHARED_DATA.has(tf.getBackend()) || engine().state.tensorInfo.get(t.dataId)?.backend !== backend) return t.clone();
  backend.incRef(t.dataId);
  return tf.engine().makeTensorFromDataId(t.dataId, t.shape, t.dtype, backend);
}
