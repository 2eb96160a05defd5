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
