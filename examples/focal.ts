// Focal loss vs binary cross-entropy on an imbalanced problem (5% positives).
// Trains the same small tfjs-layers model twice, once with each loss (both from lossc), and
// reports the recall of the minority class. Run: node dist/examples/focal.js

import * as tf from '@tensorflow/tfjs';
import { derivative, losses, lowerDefinition, Library, printBody, type LossFunction } from '../src/index.js';
import { binaryClassifier, curve, imbalancedData } from './common.js';

export interface FocalResult {
  recallFocal: number;
  recallBce: number;
  historyFocal: number[];
  historyBce: number[];
  text: string;
}

const makeData = (n: number, seed: number) => imbalancedData(n, seed, 0.05, 1.6);
const model = binaryClassifier;

function recall(m: tf.Sequential, x: tf.Tensor2D, y: tf.Tensor2D): number {
  return tf.tidy(() => {
    const pred = tf.greaterEqual(m.predict(x) as tf.Tensor, 0.5).cast('float32');
    const tp = tf.sum(tf.mul(pred, y)).dataSync()[0]!;
    const pos = tf.sum(y).dataSync()[0]!;
    return pos === 0 ? 0 : tp / pos;
  });
}

export async function runFocal(opts: { epochs?: number; n?: number; quiet?: boolean } = {}): Promise<FocalResult> {
  const epochs = opts.epochs ?? 15;
  const train = makeData(opts.n ?? 3000, 1);
  const test = makeData(2000, 2);
  const out: string[] = [];
  const lib = Library.stdlib();
  const shown = lowerDefinition(lib, 'focal_loss', { symbolic: true });
  out.push('focal_loss (stdlib/custom.loss), per sample:', printBody(shown.value).text.replace(/^/gm, '  '), '');
  out.push("its derivative with respect to y_pred (lossc grad focal_loss --wrt y_pred):");
  out.push(derivative('focal_loss', 'y_pred').toString().replace(/^/gm, '  '), '');

  const runs: Array<[string, LossFunction, number[]]> = [
    ['focal_loss(gamma = 2, alpha = 0.75)', losses.focal_loss!({ gamma: 2, alpha: 0.75 }), []],
    ['binary_crossentropy', losses.binary_crossentropy!(), []],
  ];
  const recalls: number[] = [];
  for (const [label, loss, history] of runs) {
    const m = model(7);
    const optimizer = tf.train.adam(0.02);
    m.compile({ optimizer, loss });
    const h = await m.fit(train.x, train.y, { epochs, batchSize: 128, shuffle: false, verbose: 0 });
    history.push(...(h.history.loss as number[]));
    recalls.push(recall(m, test.x, test.y));
    out.push(curve(`training loss, ${label}`, history));
    m.dispose();
    optimizer.dispose(); // its moment estimates are tensors too
  }
  out.push('', `minority-class recall on held-out data (threshold 0.5):`);
  out.push(`  focal_loss:          ${(recalls[0]! * 100).toFixed(1)}%`);
  out.push(`  binary_crossentropy: ${(recalls[1]! * 100).toFixed(1)}%`);
  tf.dispose([train.x, train.y, test.x, test.y]);
  const text = out.join('\n');
  if (!opts.quiet) console.log(text);
  return { recallFocal: recalls[0]!, recallBce: recalls[1]!, historyFocal: runs[0]![2], historyBce: runs[1]![2], text };
}

if (process.argv[1]?.endsWith('focal.js')) {
  await tf.setBackend('cpu');
  await runFocal();
}
