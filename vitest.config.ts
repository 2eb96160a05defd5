import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fast-check's global seed: property tests are deterministic (test/setup/seed.ts); the parser (test/setup/grammar.ts).
    setupFiles: ['test/setup/seed.ts', 'test/setup/grammar.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: 1 on the 2-core CI machine. Both cores,
    // and the longest files first (sequence.shuffle off keeps vitest's duration-based order).
    maxWorkers: 2,
  },
});
