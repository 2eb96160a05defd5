// Seeded randomness for the bench: its data, and the order in which interleaved calls run.

/** A linear congruential generator: numbers in [0, 1), the same for the same seed. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/**
 * A seeded random order of 0..n-1 for each round of interleaved calls. Not a fixed order or a
 * rotation: V8's collections come at a fixed period in calls (every 4th cpu fit mse batch-1024
 * step took +17 ms, whichever model ran it), and a rotation of two calls per round has period 4
 * too, so every slow step fell on lossc's model and the row read 0.93–0.97× where two models with
 * the same loss read 1.00×. In a random order the slow calls fall on every side alike.
 */
export function shuffler(n: number, seed = 2026): () => number[] {
  const r = lcg(seed);
  return () => {
    const o = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [o[i], o[j]] = [o[j]!, o[i]!];
    }
    return o;
  };
}
