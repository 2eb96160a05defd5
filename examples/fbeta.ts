// F-beta loss vs binary cross-entropy for a thresholded classifier on an imbalanced problem
// (8% positives, overlapping classes). Trains the same small tfjs-layers model with lossc's
// fbeta_loss(beta = 2), which optimises a soft F2 directly (recall weighted 4x precision), and
// with binary_crossentropy; reports precision, recall and F2 at threshold 0.5 for both.
// Run: node dist/examples/fbeta.js

import * as tf from '@tensorflow/tfjs';
import { losses, lowerDefinition, Library, printBody, type LossFunction } from '../src/index.js';
import { binaryClassifier, curve, imbalancedData } from './common.js';

export interface Scores {
  precision: number;
  recall: number;
  f2: number;
}

export interface FbetaResult {
  fbeta: Scores;
  bce: Scores;
  historyFbeta: number[];
  historyBce: number[];
  text: string;
}

const makeData = (n: number, seed: number) => imbalancedData(n, seed, 0.08, 1.5);
const model = binaryClassifier;

/** Precision, recall and F2 of the predictions thresholded at 0.5 (0 where undefined). */
function scores(m: tf.Sequential, x: tf.Tensor2D, y: tf.Tensor2D): Scores {
  return tf.tidy(() => {
    const pred = tf.greaterEqual(m.predict(x) as tf.Tensor, 0.5).cast('float32');
    const tp = tf.sum(tf.mul(pred, y)).dataSync()[0]!;
    const predicted = tf.sum(pred).dataSync()[0]!;
    const actual = tf.sum(y).dataSync()[0]!;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = actual === 0 ? 0 : tp / actual;
    const f2 = precision + recall === 0 ? 0 : (5 * precision * recall) / (4 * precision + recall);
    return { precision, recall, f2 };
  });
}

export async function runFbeta(opts: { epochs?: number; n?: number; quiet?: boolean } = {}): Promise<FbetaResult> {
  const epochs = opts.epochs ?? 15;
  const train = makeData(opts.n ?? 3000, 31);
  const test = makeData(2000, 32);
  const out: string[] = [];
  const shown = lowerDefinition(Library.stdlib(), 'fbeta_loss', { symbolic: true });
  out.push('fbeta_loss (stdlib/custom.loss), one value for the whole batch:', printBody(shown.value).text.replace(/^/gm, '  '), '');

  const runs: Array<[string, LossFunction, number[]]> = [
    ['fbeta_loss(beta = 2)', losses.fbeta_loss!({ beta: 2 }), []],
    ['binary_crossentropy', losses.binary_crossentropy!(), []],
  ];
  const results: Scores[] = [];
  for (const [label, loss, history] of runs) {
    const m = model(5);
    const optimizer = tf.train.adam(0.02);
    m.compile({ optimizer, loss });
    const h = await m.fit(train.x, train.y, { epochs, batchSize: 128, shuffle: false, verbose: 0 });
    history.push(...(h.history.loss as number[]));
    results.push(scores(m, test.x, test.y));
    out.push(curve(`training loss, ${label}`, history));
    m.dispose();
    optimizer.dispose();
  }
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(11);
  out.push('', 'held-out data, threshold 0.5:');
  out.push(`  ${''.padEnd(22)}${'precision'.padStart(11)}${'recall'.padStart(11)}${'F2'.padStart(11)}`);
  runs.forEach(([label], i) => {
    const s = results[i]!;
    out.push(`  ${label.padEnd(22)}${pct(s.precision)}${pct(s.recall)}${pct(s.f2)}`);
  });
  tf.dispose([train.x, train.y, test.x, test.y]);
  const text = out.join('\n');
  if (!opts.quiet) console.log(text);
  return { fbeta: results[0]!, bce: results[1]!, historyFbeta: runs[0]![2], historyBce: runs[1]![2], text };
}

if (process.argv[1]?.endsWith('fbeta.js')) {
  await tf.setBackend('cpu');
  await runFbeta();
}
