// What lossc reads of tfjs's engine beyond its public API: whether a gradient is being recorded,
// and running a kernel function with its own backward function (the fast path's kernels).

import * as tf from '@tensorflow/tfjs';

export interface EngineInternals {
  state: { gradientDepth: number; kernelDepth: number };
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
