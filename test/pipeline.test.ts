// The one pipeline (src/pipeline/pipeline.ts): the fused fast path and the op-by-op tfjs path
// of a loss share one cache of lowered stages, so a call's shapes are lowered, stabilised and
// differentiated once, whichever paths run them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { losses } from '../src/index.js';
import { Lowerer } from '../src/lower/lower.js';

afterEach(() => vi.restoreAllMocks());

describe('one pipeline, one cache', () => {
  it('lowers a signature once for the fused path, a shape once for the op-by-op path', async () => {
    await tf.setBackend('cpu');
    const f = losses.mean_squared_error();
    const lowerings = vi.spyOn(Lowerer.prototype, 'lowerTop');
    const yt = tf.tensor2d([[0, 1, 2], [3, 4, 5]]);
    const yp = tf.tensor2d([[1, 1, 1], [2, 2, 2]]);
    const fused = tf.tidy(() => Array.from(tf.grad((p: tf.Tensor) => f(yt, p))(yp).dataSync(), (v) => v + 0));
    const general = tf.tidy(() => Array.from(tf.grad((p: tf.Tensor) => f(yt, p, 1))(yp).dataSync(), (v) => v + 0));
    expect(general).toEqual(fused);
    expect(lowerings).toHaveBeenCalledTimes(2);
    // Another batch size of the same signature: nothing lowered again for the fused path.
    const [yt4, yp4] = [tf.zeros([4, 3]), tf.ones([4, 3])];
    tf.tidy(() => tf.grad((p: tf.Tensor) => f(yt4, p))(yp4));
    expect(lowerings).toHaveBeenCalledTimes(2);
    tf.dispose([yt, yp, yt4, yp4]);
  });
});
