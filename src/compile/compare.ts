// Comparisons of operands that broadcast against each other, on wasm. tfjs-backend-wasm compares
// broadcast operands in a generic loop about 20× slower than its same-shape kernel (batch-hard's
// label test [N, 1] == [1, N] and its selections' tie test x == max(x) [N, N] against [N, 1], at
// N = 4096: 1.8-1.9 s each, against 0.08 s), while its float add broadcasts fast. So each operand
// is first widened to the result's shape by adding zeros of the shape it lacks (x + 0 is x for
// every float, -0 aside, which compares as 0 does), ints by way of float32 where that is exact
// (every value within 2^24, read off the host data).

import * as tf from '@tensorflow/tfjs';

/** Backends whose comparisons broadcast slowly and whose float adds do not. */
const SLOW_BROADCAST = new Set(['wasm']);
/** Integers up to this magnitude are exact in float32. */
const EXACT = 2 ** 24;

const sameShape = (a: number[], b: number[]) => tf.util.arraysEqual(a, b);

/** x as float32 with the same comparisons, or null where that is not exact. */
function asFloat(x: tf.Tensor): tf.Tensor | null {
  if (x.dtype === 'float32') return x;
  if (x.dtype === 'bool') return tf.cast(x, 'float32');
  if (x.dtype !== 'int32') return null;
  const data = x.dataSync();
  for (let i = 0; i < data.length; i++) if (!(Math.abs(data[i]!) <= EXACT)) return null;
  return tf.cast(x, 'float32');
}

/** x widened to `shape` by a broadcasting add of zeros of the axes it lacks. */
function widened(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (sameShape(x.shape, shape)) return x;
  const own = [...Array<number>(shape.length - x.rank).fill(1), ...x.shape];
  return tf.add(x, tf.zeros(shape.map((d, i) => (own[i] === 1 ? d : 1))));
}

/** `f` (a tfjs comparison) with its operands widened first where broadcasting them is slow. */
export function widenedCompare(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return (a, b) => {
    if (!SLOW_BROADCAST.has(tf.getBackend()) || a.size === 1 || b.size === 1 || sameShape(a.shape, b.shape)) return f(a, b);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const fa = asFloat(a);
    const fb = fa && asFloat(b);
    if (!fa || !fb) return f(a, b);
    return f(widened(fa, shape), widened(fb, shape));
  };
}
