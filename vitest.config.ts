import { defineConfig } from 'vitest/config';

// Test files that share one process per worker (isolate: false), so tfjs, chevrotain and src/ are
// loaded once per worker instead of once per file (about 0.9 s of CPU a file). A file belongs here
// only if it mocks no module and asserts nothing that depends on what an earlier file did. Printed
// formulas qualify: name hints belong to the lowering that recorded them (src/ir/names.ts), so a
// printed derivative does not depend on what was lowered before (test/print-determinism.test.ts).
// test/setup/shared.ts puts tfjs back on cpu before each shared file.
const SHARED = [
  'api-gradients', 'api', 'attributes', 'autodiff', 'bad-data', 'bundle', 'cli', 'ctc', 'custom-losses', 'deep-programs',
  'derivatives-golden', 'eval-reference', 'export', 'export-ddp', 'export-standin', 'fast-path', 'fit', 'fused',
  'fuzz-regressions', 'fuzz-regressions-2', 'fuzz-slice', 'grammar-errors', 'grammar-limits', 'grammar-property', 'grammar',
  'hyperbolic-trig-ops', 'imports', 'ir', 'keras-cases', 'lower', 'math-regressions', 'models', 'pipeline', 'print',
  'print-determinism', 'rewrite', 'roundtrip', 'shapes', 'stability', 'stdlib-keras', 'swell',
  'keras-reduce', 'label-scan', 'repeat-broadcast', 'batch-hard-kernel', 'batch-hard-opbyop', 'batch-hard-memory',
  'fuzz-regressions-3', 'fuzz-regressions-4', 'fuzz-regressions-5', 'sparse-selection', 'opbyop-lean',
].map((f) => `test/${f}.test.ts`);

export default defineConfig({
  test: {
    // fast-check's global seed: property tests are deterministic (test/setup/seed.ts); the parser (test/setup/grammar.ts).
    setupFiles: ['test/setup/seed.ts', 'test/setup/grammar.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: 1 on the 2-core CI machine. Both cores,
    // and the longest files first (sequence.shuffle off keeps vitest's duration-based order).
    // Projects run in name order within the pool: the isolated (longer) files first.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED } },
      { extends: true, test: { name: 'shared', include: SHARED, isolate: false, setupFiles: ['test/setup/shared.ts'] } },
    ],
  },
});
