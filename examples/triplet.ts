// A triplet-loss embedding of synthetic clusters (Schroff et al. 2015, FaceNet).
// Six Gaussian clusters in 8-D whose identity lives in two of the dimensions; the other six are
// larger noise. A small dense network maps each point to a 4-D embedding, trained with
// lossc's triplet_loss on (anchor, positive, negative) triplets placed side by side along axis 1.
// Reports the 1-nearest-neighbour accuracy of held-out points in embedding space before and
// after training. Run: node dist/examples/triplet.js

import * as tf from '@tensorflow/tfjs';
import { derivative, losses, lowerDefinition, Library, printBody } from '../src/index.js';
import { curve, gaussian, rng, seededInit } from './common.js';

export interface TripletResult {
  /** 1-NN accuracy of held-out points, in embedding space, with the untrained network. */
  accuracyBefore: number;
  /** The same after training with triplet_loss. */
  accuracyAfter: number;
  /** 1-NN accuracy in the raw 8-D input space, for reference. */
  accuracyInput: number;
  history: number[];
  text: string;
}

const DIM = 8;
const EMBED = 4;
const CLUSTERS = 6;

interface Points {
  xs: number[][];
  labels: number[];
}

/** Cluster k is centred on a circle of radius 2 in dimensions 0 and 1; dimensions 2..7 are noise. */
function makePoints(n: number, seed: number): Points {
  const r = rng(seed);
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % CLUSTERS;
    const angle = (2 * Math.PI * k) / CLUSTERS;
    const x = [2 * Math.cos(angle) + 0.35 * gaussian(r), 2 * Math.sin(angle) + 0.35 * gaussian(r)];
    for (let d = 2; d < DIM; d++) x.push(1.5 * gaussian(r));
    xs.push(x);
    labels.push(k);
  }
  return { xs, labels };
}

/** (anchor, positive, negative) rows of 3 * DIM numbers: a positive shares the anchor's cluster, a negative does not. */
function makeTriplets(points: Points, count: number, seed: number): tf.Tensor2D {
  const r = rng(seed);
  const byLabel: number[][] = Array.from({ length: CLUSTERS }, () => []);
  points.labels.forEach((k, i) => byLabel[k]!.push(i));
  const pick = (list: number[]) => list[Math.floor(r() * list.length)]!;
  const rows: number[][] = [];
  for (let t = 0; t < count; t++) {
    const a = t % points.xs.length;
    const k = points.labels[a]!;
    let p = pick(byLabel[k]!);
    while (p === a) p = pick(byLabel[k]!);
    const other = (k + 1 + Math.floor(r() * (CLUSTERS - 1))) % CLUSTERS;
    const n = pick(byLabel[other]!);
    rows.push([...points.xs[a]!, ...points.xs[p]!, ...points.xs[n]!]);
  }
  return tf.tensor2d(rows);
}

/** The fraction of queries whose nearest reference point (squared Euclidean) has their label. */
function nearestNeighbourAccuracy(ref: number[][], refLabels: number[], queries: number[][], queryLabels: number[]): number {
  let right = 0;
  queries.forEach((q, i) => {
    let best = Infinity;
    let label = -1;
    ref.forEach((x, j) => {
      let d = 0;
      for (let c = 0; c < q.length; c++) d += (q[c]! - x[c]!) ** 2;
      if (d < best) {
        best = d;
        label = refLabels[j]!;
      }
    });
    if (label === queryLabels[i]) right++;
  });
  return right / queries.length;
}

function embed(model: tf.LayersModel, xs: number[][]): number[][] {
  return tf.tidy(() => (model.predict(tf.tensor2d(xs)) as tf.Tensor).arraySync() as number[][]);
}

export async function runTriplet(opts: { epochs?: number; n?: number; triplets?: number; quiet?: boolean } = {}): Promise<TripletResult> {
  const epochs = opts.epochs ?? 10;
  const train = makePoints(opts.n ?? 600, 11);
  const test = makePoints(300, 12);
  const out: string[] = [];
  const lib = Library.stdlib();
  const shown = lowerDefinition(lib, 'triplet_loss', { symbolic: true });
  out.push('triplet_loss (stdlib/custom.loss), per sample:', printBody(shown.value).text.replace(/^/gm, '  '), '');
  out.push('its derivative with respect to y_pred (lossc grad triplet_loss --wrt y_pred):');
  out.push(derivative('triplet_loss', 'y_pred').toString().replace(/^/gm, '  '), '');

  // One pair of dense layers, shared: applied to a single point it is the embedding; applied to
  // a [3, DIM] row (anchor, positive, negative) it gives the three embeddings side by side.
  const hidden = tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: seededInit(21) });
  const last = tf.layers.dense({ units: EMBED, kernelInitializer: seededInit(22) });
  const one = tf.input({ shape: [DIM] });
  const embedder = tf.model({ inputs: one, outputs: last.apply(hidden.apply(one)) as tf.SymbolicTensor });
  const three = tf.input({ shape: [3 * DIM] });
  const split = tf.layers.reshape({ targetShape: [3, DIM] }).apply(three);
  const joined = tf.layers.flatten().apply(last.apply(hidden.apply(split))) as tf.SymbolicTensor;
  const trainer = tf.model({ inputs: three, outputs: joined });

  const accuracyInput = nearestNeighbourAccuracy(train.xs, train.labels, test.xs, test.labels);
  const accuracyBefore = nearestNeighbourAccuracy(embed(embedder, train.xs), train.labels, embed(embedder, test.xs), test.labels);

  const x = makeTriplets(train, opts.triplets ?? 1800, 13);
  const y = tf.zeros([x.shape[0], 3 * EMBED]); // unused by triplet_loss; tfjs wants the output's shape
  const optimizer = tf.train.adam(0.005);
  trainer.compile({ optimizer, loss: losses.triplet_loss!({ margin: 1.0 }) });
  const h = await trainer.fit(x, y, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  const history = h.history.loss as number[];
  const accuracyAfter = nearestNeighbourAccuracy(embed(embedder, train.xs), train.labels, embed(embedder, test.xs), test.labels);

  out.push(curve('training loss, triplet_loss(margin = 1)', history));
  out.push('', `1-nearest-neighbour accuracy of ${test.xs.length} held-out points (${CLUSTERS} clusters):`);
  const row = (label: string, v: number) => `  ${label.padEnd(34)}${(v * 100).toFixed(1)}%`;
  out.push(row(`raw ${DIM}-D inputs:`, accuracyInput));
  out.push(row(`${EMBED}-D embedding, before training:`, accuracyBefore));
  out.push(row(`${EMBED}-D embedding, after training:`, accuracyAfter));
  tf.dispose([x, y]);
  optimizer.dispose();
  // The dense layers are shared: their weights go when the last model using them is disposed.
  trainer.dispose();
  embedder.dispose();
  const text = out.join('\n');
  if (!opts.quiet) console.log(text);
  return { accuracyBefore, accuracyAfter, accuracyInput, history, text };
}

if (process.argv[1]?.endsWith('triplet.js')) {
  await tf.setBackend('cpu');
  await runTriplet();
}
