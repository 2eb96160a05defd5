// On cpu, tfjs's binary kernels broadcast by indexing each element generically (an array per
// element), so the op-by-op kernels repeat an operand stretched along a unit axis first
// (src/compile/kernels.ts `repeatTo`, off the tape): exactly tf.broadcastTo's values, and the
// kernels' results unchanged, NaN and infinities included.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { KERNELS, repeatTo } from '../src/compile/kernels.js';
import * as b from '../src/ir/build.js';
import { Node } from '../src/ir/node.js';

const SHAPES: Array<[number[], number[]]> = [
  [[3, 1], [3, 4]],
  [[1, 4], [3, 4]],
  [[4], [3, 4]],
  [[2, 1, 3], [2, 5, 3]],
  [[1, 1], [2, 3]],
  [[2, 3, 1], [2, 3, 4]],
  [[1], [5]],
  [[1, 3, 1], [2, 3, 2]],
  [[0, 1], [0, 4]],
];

const values = (n: number) => Float32Array.from({ length: n }, (_, i) => [NaN, Infinity, -Infinity, -0][i % 7] ?? i * 0.37 - 1);

describe('repeatTo and the elementwise kernels on cpu', () => {
  it.each(SHAPES)('%j to %j: the values of tf.broadcastTo', (from, to) => {
    const x = tf.tensor(values(from.reduce((p, q) => p * q, 1)), from);
    const got = repeatTo(x, to);
    const want = tf.broadcastTo(x, to);
    expect(got.shape).toEqual(to);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([x, got, want]);
  });

  it.each(['add', 'sub', 'mul', 'div'] as const)('%s of operands that broadcast: as tfjs computes it', async (op) => {
    await tf.setBackend('cpu');
    for (const [from, to] of SHAPES) {
      for (const [sa, sb] of [[from, to], [to, from]] as const) {
        const [x, y] = [tf.tensor(values(sa.reduce((p, q) => p * q, 1)), sa), tf.tensor(values(sb.reduce((p, q) => p * q, 1)).reverse(), sb)];
        const node = Node.make(op, [b.input('a', sa), b.input('b', sb)]);
        const got = KERNELS[op]([x, y], node);
        const want = tf[op](x, y);
        expect(got.shape, `${op} ${sa} ${sb}`).toEqual(want.shape);
        expect(Array.from(got.dataSync()), `${op} ${sa} ${sb}`).toEqual(Array.from(want.dataSync()));
        tf.dispose([x, y, got, want]);
      }
    }
  });
});
