// A loss of a user's source through both compiled paths and the float64 reference, for the
// correctness tests: the fused target (cpu, no sample weight), the op-by-op tfjs path (a
// sample weight of 1 sends a call there, as any weighted or masked call goes), and the
// reference evaluator on the lowered IR, its gradient by central differences.

import { vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FastPath } from '../../src/compile/fast.js';
import { compile } from '../../src/index.js';
import { Library } from '../../src/lower/library.js';
import { lowerDefinition } from '../../src/lower/lower.js';
import * as b from '../../src/ir/build.js';
import { fromData, type NdArray } from '../../src/eval/ndarray.js';
import { numericGrad, total } from './numeric.js';
import { sig } from './source.js';

export interface ValueAndGrad {
  value: number;
  grad: number[];
}

const shapeOf = (a: number[][]) => [a.length, a[0]!.length];

/**
 * Value and d/d y_pred of loss `name` (default reduction: the mean) on the fused and op-by-op
 * paths; `fusedRan` says whether every unweighted call really ran the fused kernel.
 */
export function bothPaths(source: string, yTrue: number[][], yPred: number[][], name = 'f'): { fused: ValueAndGrad; general: ValueAndGrad; fusedRan: boolean } {
  const f = compile(source).losses[name]!();
  const t = tf.tensor(yTrue);
  const p = tf.tensor(yPred);
  const at = (weight: number | undefined): ValueAndGrad => {
    const [value, grad] = tf.tidy(() => {
      const r = tf.valueAndGrad((q: tf.Tensor) => f(t, q, weight) as tf.Scalar)(p);
      return [r.value.dataSync()[0]!, Array.from(r.grad.dataSync())] as const;
    });
    return { value, grad };
  };
  const spy = vi.spyOn(FastPath.prototype, 'tryCall');
  const fused = at(undefined);
  const fusedRan = spy.mock.results.length > 0 && spy.mock.results.every((r) => r.value instanceof tf.Tensor);
  spy.mockRestore();
  const general = at(1);
  tf.dispose([t, p]);
  return { fused, general, fusedRan };
}

/** The same loss in float64 on the lowered (unrewritten) IR: the mean of its per-sample values, and its gradient by central differences. */
export function reference(source: string, yTrue: number[][], yPred: number[][], name = 'f', h = 1e-6): ValueAndGrad {
  const lowered = lowerDefinition(Library.fromSource(source), name, { signature: sig({ y_true: shapeOf(yTrue), y_pred: shapeOf(yPred) }) });
  const v = lowered.value;
  const mean = v.rank ? b.div(b.reduce('sum', v, null), b.size(v, null)) : v;
  const inputs: Record<string, NdArray> = { y_true: fromData(shapeOf(yTrue), yTrue.flat()), y_pred: fromData(shapeOf(yPred), yPred.flat()) };
  return { value: total(mean, inputs), grad: Array.from(numericGrad(mean, 'y_pred', inputs, h)) };
}
