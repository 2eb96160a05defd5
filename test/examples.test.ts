// The examples in examples/, each trained on small data: they run, and they show what they
// claim (with their fixed seeds). Each stays well under 15 s on the cpu backend.

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runFocal } from '../examples/focal.js';
import { runTriplet } from '../examples/triplet.js';
import { runFbeta } from '../examples/fbeta.js';
import { runL2 } from '../examples/l2.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `f` and checks it leaves no tensor behind. */
async function leakFree<T>(f: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await f();
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}

describe('examples', () => {
  it('focal: focal loss finds more of the minority class than binary cross-entropy', async () => {
    const r = await runFocal({ epochs: 8, n: 1500, quiet: true });
    expect(r.recallFocal).toBeGreaterThan(r.recallBce);
    expect(r.historyFocal).toHaveLength(8);
    expect(r.historyFocal.every(Number.isFinite)).toBe(true);
    expect(r.historyBce.every(Number.isFinite)).toBe(true);
    expect(r.text).toContain('minority-class recall');
  }, 15_000);

  it('triplet: training makes the embedding separate the clusters (1-NN accuracy goes up)', async () => {
    const r = await leakFree(() => runTriplet({ epochs: 3, n: 300, triplets: 600, quiet: true }));
    expect(r.history).toHaveLength(3);
    expect(r.history[2]!).toBeLessThan(r.history[0]!);
    expect(r.accuracyAfter).toBeGreaterThan(r.accuracyBefore + 0.2);
    expect(r.accuracyAfter).toBeGreaterThan(r.accuracyInput);
    expect(r.text).toContain('after training');
    expect(r.text).toContain('concat([');
  }, 15_000);

  it('fbeta: F2-trained classifier has higher recall and higher F2 than the cross-entropy one', async () => {
    const r = await leakFree(() => runFbeta({ epochs: 6, n: 1500, quiet: true }));
    expect(r.fbeta.recall).toBeGreaterThan(r.bce.recall);
    expect(r.fbeta.f2).toBeGreaterThan(r.bce.f2);
    // The trade the loss makes: recall is bought with precision.
    expect(r.fbeta.precision).toBeLessThan(r.bce.precision);
    expect(r.historyFbeta[r.historyFbeta.length - 1]!).toBeLessThan(r.historyFbeta[0]!);
    expect(r.text).toMatch(/fbeta_loss\(beta = 2\)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%/);
  }, 15_000);

  it('l2: the kernel norm shrinks strictly as the factor grows', async () => {
    const r = await leakFree(() => runL2({ epochs: 20, quiet: true }));
    expect(r.runs.map((x) => x.factor)).toEqual([0, 1e-3, 1e-2, 1e-1]);
    const norms = r.runs.map((x) => x.kernelNorm);
    for (let i = 1; i < norms.length; i++) expect(norms[i]!, `norms ${norms.join(', ')}`).toBeLessThan(norms[i - 1]!);
    // The penalty is part of the training loss tfjs reports: it grows with the factor.
    const lossesByFactor = r.runs.map((x) => x.loss);
    for (let i = 1; i < lossesByFactor.length; i++) expect(lossesByFactor[i]!).toBeGreaterThan(lossesByFactor[i - 1]!);
    expect(r.runs.every((x) => x.accuracy > 0.7)).toBe(true);
  }, 15_000);
});
