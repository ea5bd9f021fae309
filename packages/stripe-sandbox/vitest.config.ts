import { defineConfig } from 'vitest/config';

// The package's own run (`npm test` here). The product's root run includes these tests as well.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
