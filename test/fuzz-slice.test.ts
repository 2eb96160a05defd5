// A small fixed slice of the fuzzer (npm run fuzz): well-formed programs checked against the
// float64 reference (value, gradient, fused vs op-by-op, leaks) and garbled programs (a located
// LosscError or success, never a crash). Fixed seeds, so it is the same run every time.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runOne, signature, type Kind } from '../fuzz/one.js';

const SLICES: Record<Kind, { from: number; count: number }> = {
  well: { from: 10003596, count: 150 },
  garbled: { from: 5000, count: 300 },
};

/**
 * Seeds of the slice that hit bugs still open on main when the slice was fixed (FUZZ_FINDINGS.md
 * has each one minimized). They are skipped, not expected to fail: once fixed, delete them here.
 */
const KNOWN_OPEN: Record<Kind, Record<number, string>> = {
  well: {},
  garbled: {},
};

/** Generous: a hang guard, not a timing. */
const PER_PROGRAM_MS = 20_000;

describe('fuzzer slice', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const kind of ['well', 'garbled'] as const) {
    it(`${SLICES[kind].count} ${kind === 'well' ? 'well-formed' : 'garbled'} programs`, async () => {
      const failures: string[] = [];
      const { from, count } = SLICES[kind];
      for (let seed = from; seed < from + count; seed++) {
        if (seed in KNOWN_OPEN[kind]) continue;
        const t0 = performance.now();
        // (The CLI stage of the garbled programs, for every third one: the in-process stages are the same code.)
        const c = await runOne(kind, seed, seed % 3 === 0);
        const ms = performance.now() - t0;
        if (c.verdict.kind === 'fail') failures.push(`seed ${seed}: ${signature(c.verdict)}\n${c.verdict.detail.slice(0, 300)}\n${c.text.slice(0, 1000)}`);
        if (ms > PER_PROGRAM_MS) failures.push(`seed ${seed}: took ${ms.toFixed(0)} ms`);
      }
      expect(failures).toEqual([]);
    }, 120_000);
  }
});
