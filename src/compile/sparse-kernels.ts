// Sparse selections on the op-by-op path (issue 13 item 5), as the fused target's sparse.ts does
// them: the adjoint of a row-wise max/min (where(x == max(x), g / ties, 0), the tied entries
// sharing g equally, TensorFlow's rule) and what it flows through (fused-codegen/sparse.ts
// isSparse, on the IR) is zero but at the picked entries. A matmul with such an operand (the chain
// back through a distance matrix X Xᵀ) is a scatter of those entries, not a dense [N, N]·[N, D]
// product, and a sum of one down its rows reads it once in storage order (tfjs-backend-wasm sums
// an [N, N] over axis 0 by transposing it first: 0.3 s at N = 4096). Where the data is on the host
// (cpu, wasm) and tfjs is not recording a gradient (none is taken through these): elsewhere the
// tfjs kernels run. Zeros are skipped only when the other operand is all finite (0 · inf is NaN in
// the dense product). Sums are in doubles, in order, rounded once.

import * as tf from '@tensorflow/tfjs';
import type { Node } from '../ir/node.js';
import { isSparse } from './fused-codegen/sparse.js';
import { recordingGradients } from './engine.js';
import { newOutput, readData } from './tensor-data.js';

const HOST_DATA = new Set(['cpu', 'wasm']);

const known = new WeakMap<Node, boolean>();
/** isSparse, once per node (plans run the same nodes every call). */
function sparse(n: Node): boolean {
  let s = known.get(n);
  if (s === undefined) known.set(n, (s = isSparse(n)));
  return s;
}

const usable = (xs: readonly tf.Tensor[]) => HOST_DATA.has(tf.getBackend()) && !recordingGradients() && xs.every((x) => x.dtype === 'float32' && x.rank === 2);

function allFinite(x: ArrayLike<number>): boolean {
  for (let q = 0; q < x.length; q++) if (!Number.isFinite(x[q]!)) return false;
  return true;
}

/** A float32 tensor of `shape` from sums computed in doubles by `fill`. */
function computed(shape: number[], fill: (acc: Float64Array) => void): tf.Tensor {
  // The output first: making it may grow the wasm heap, which would void views read before.
  const out = newOutput(shape);
  const acc = new Float64Array(out.data.length);
  fill(acc);
  out.data.set(acc);
  return out.toTensor();
}

/** matmul(a, b) of 2-D float tensors as a scatter of its sparse operand's entries; null when neither is sparse. */
export function sparseMatmul(a: tf.Tensor, b: tf.Tensor, n: Node): tf.Tensor | null {
  if (!usable([a, b])) return null;
  const s = sparse(n.args[0]!) ? 0 : sparse(n.args[1]!) ? 1 : -1;
  if (s < 0) return null;
  const [I, K] = a.shape as [number, number];
  const J = b.shape[1]!;
  return computed([I, J], (acc) => {
    const A = readData(a);
    const B = readData(b);
    const skip = allFinite(s === 0 ? B : A);
    if (s === 0) {
      for (let i = 0; i < I; i++) {
        for (let k = 0; k < K; k++) {
          const x = A[i * K + k]!;
          if (x === 0 && skip) continue;
          const o = i * J;
          const ob = k * J;
          for (let j = 0; j < J; j++) acc[o + j]! += x * B[ob + j]!;
        }
      }
    } else {
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < J; j++) {
          const x = B[k * J + j]!;
          if (x === 0 && skip) continue;
          for (let i = 0; i < I; i++) acc[i * J + j]! += A[i * K + k]! * x;
        }
      }
    }
  });
}

/** sum(x, axis = 0) of a sparse 2-D float tensor, its rows read in storage order; null when not that. */
export function sparseColumnSum(x: tf.Tensor, n: Node): tf.Tensor | null {
  const axes = n.attrs.axes as number[];
  if (axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -2) || !usable([x]) || !sparse(n.args[0]!)) return null;
  const [R, C] = x.shape as [number, number];
  return computed(n.shape as number[], (acc) => {
    const X = readData(x);
    for (let r = 0; r < R; r++) {
      const o = r * C;
      for (let c = 0; c < C; c++) acc[c]! += X[o + c]!;
    }
  });
}
