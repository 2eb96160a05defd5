import { defineConfig } from 'vitest/config';

// Test files that share one process per worker (isolate: false), so tfjs, chevrotain and src/ are
// loaded once per worker instead of once per file (about 0.9 s of CPU a file). A file belongs here
// only if it mocks no module and asserts nothing that depends on what an earlier file compiled:
// name hints are global (src/ir/names.ts: hash-consed nodes keep the last `let` name they were
// given), so printed formulas, derivatives and exported code can differ after another file ran;
// those files stay isolated. test/setup/shared.ts puts tfjs back on cpu before each shared file.
const SHARED = [
  'api-gradients', 'api', 'attributes', 'autodiff', 'bad-data', 'bundle', 'eval-reference', 'fast-path', 'fit',
  'fused', 'fuzz-regressions-2', 'fuzz-slice', 'grammar-errors', 'grammar-limits', 'grammar-property', 'grammar',
  'ir', 'keras-cases', 'models', 'pipeline', 'shapes',
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
