// Shared pieces of the examples: a seeded random source (so runs are repeatable) and a
// small printer for training curves.

import * as tf from '@tensorflow/tfjs';

/** Mulberry32: a tiny seeded PRNG, so every example run sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller). */
export function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** "epoch  1: 0.6931  ▇▇▇▇▇▇" lines for a loss history. */
export function curve(label: string, losses: number[]): string {
  const max = Math.max(...losses);
  const min = Math.min(...losses);
  const lines = losses.map((l, i) => {
    const bar = '█'.repeat(Math.max(1, Math.round(((l - min) / (max - min || 1)) * 30)));
    return `  epoch ${String(i + 1).padStart(2)}: ${l.toFixed(4)}  ${bar}`;
  });
  return [`${label}:`, ...lines].join('\n');
}

/** Weights for a deterministic model: glorot-uniform from our own seeded source. */
export function seededInit(seed: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed });
}

/** An imbalanced 2-D binary problem: a `rate` fraction of positives, shifted by `shift`. */
export function imbalancedData(n: number, seed: number, rate: number, shift: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const r = rng(seed);
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i < n; i++) {
    const positive = r() < rate;
    const c = positive ? shift : 0;
    xs.push([c + gaussian(r), c + gaussian(r)]);
    ys.push([positive ? 1 : 0]);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys) };
}

/** The small classifier the binary examples train: 2 → 8 (relu) → 1 (sigmoid). */
export function binaryClassifier(seed: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [2], units: 8, activation: 'relu', kernelInitializer: seededInit(seed) }));
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: seededInit(seed + 1) }));
  return m;
}
