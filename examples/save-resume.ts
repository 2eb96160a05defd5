// Save, load in a fresh process, and resume training. A small classifier is trained with a
// lossc loss and regularizer written by the user (compile), a stdlib metric and an
// activity-regularization layer; it is saved to a folder with saveModel (weights, optimizer
// state, and the lossc losses in the model's metadata); a new Node process loads it with
// loadModel and trains on; and this process checks that the weights are those of training
// without the break. Run: node dist/examples/save-resume.js [--dir DIR] (keeps the saved model in DIR)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compile, layers, loadModel, losses, saveModel } from '../src/index.js';
import { gaussian, rng, seededInit } from './common.js';
import { fileHandler } from './file-handler.js';

const SOURCE = `
# Focal-weighted categorical cross-entropy over softmax outputs.
loss focal_cce(y_true, y_pred; gamma = 2.0) =
  let p = clip(y_pred, epsilon, 1 - epsilon)
  sum(-y_true * (1 - p)^gamma * log(p), axis = -1)

# Weight decay with a floor: only weights above \`free_size\` in magnitude are penalised.
regularizer soft_l2(w; l2 = 0.001, free_size = 0.05) = l2 * sum(relu(abs(w) - free_size)^2)
`;

const { focal_cce, soft_l2 } = compile(SOURCE);

function data(n: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const r = rng(42);
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    xs.push([0, 1, 2, 3].map((j) => gaussian(r) + (j === c ? 1.5 : 0)));
    ys.push(c);
  }
  return { x: tf.tensor2d(xs), y: tf.oneHot(tf.tensor1d(ys, 'int32'), 3).toFloat() as tf.Tensor2D };
}

function makeModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu', kernelInitializer: seededInit(1), kernelRegularizer: soft_l2({ l2: 0.01 }) }),
      layers.activityRegularization({ l1: 1e-3 }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seededInit(2) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.02), loss: focal_cce({ gamma: 2 }), metrics: [losses.categorical_crossentropy()] });
  return model;
}

const FIT = { batchSize: 30, shuffle: false, verbose: 0 } as const;

function weights(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** The second process: load, train `epochs` more, write the weights and the losses. */
async function resume(dir: string, epochs: number): Promise<void> {
  const model = await loadModel(fileHandler(dir));
  const { x, y } = data(120);
  const h = await model.fit(x, y, { ...FIT, epochs });
  writeFileSync(join(dir, 'resumed.json'), JSON.stringify({ weights: weights(model), history: h.history }));
}

export interface SaveResumeResult {
  maxDiff: number;
  text: string;
}

/** The whole loop; `script` is the runnable file of this example (for the second process). */
export async function runSaveResume(opts: { script: string; dir?: string; before?: number; after?: number }): Promise<SaveResumeResult> {
  const before = opts.before ?? 4;
  const after = opts.after ?? 4;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'lossc-save-resume-'));
  const { x, y } = data(120);
  const first = makeModel();
  const h1 = await first.fit(x, y, { ...FIT, epochs: before });
  await saveModel(first, fileHandler(dir));
  const child = spawnSync(process.execPath, [opts.script, '--resume', dir, String(after)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the resuming process failed:\n${child.stderr}`);
  const resumed = JSON.parse(readFileSync(join(dir, 'resumed.json'), 'utf8')) as { weights: number[][]; history: { loss: number[] } };
  const straight = makeModel();
  const h = await straight.fit(x, y, { ...FIT, epochs: before + after });
  const ref = weights(straight);
  const maxDiff = Math.max(...ref.flatMap((w, i) => w.map((v, j) => Math.abs(v - resumed.weights[i]![j]!))));
  if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  const fmt = (l: number[]) => l.map((v) => v.toFixed(4)).join(' ');
  const text = [
    `trained ${before} epochs (loss ${fmt(h1.history.loss as number[])}), saved with saveModel`,
    `a fresh process loaded it with loadModel and trained ${after} more (loss ${fmt(resumed.history.loss)})`,
    `training ${before + after} epochs without the break: loss ${fmt(h.history.loss as number[])}`,
    `weights ${maxDiff < 1e-5 ? 'match' : 'DIFFER'}: max |difference| = ${maxDiff.toExponential(2)} (float32 tolerance 1e-5)`,
  ].join('\n');
  return { maxDiff, text };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  await tf.setBackend('cpu');
  const args = process.argv.slice(2);
  if (args[0] === '--resume') await resume(args[1]!, Number(args[2]));
  else {
    const dirAt = args.indexOf('--dir');
    const r = await runSaveResume({ script: self, dir: dirAt >= 0 ? args[dirAt + 1] : undefined });
    console.log(r.text);
    if (r.maxDiff >= 1e-5) process.exitCode = 1;
  }
}
