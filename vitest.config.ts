import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fast-check's global seed: property tests are deterministic (test/setup/seed.ts).
    setupFiles: ['test/setup/seed.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
