import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    setupFiles: ['./local/polyfills.ts'],
    // Says once per run how to turn on tests skipped for want of Chromium or cfn-lint, and ends the
    // run with the least-privilege report of the AWS calls the functions made.
    globalSetup: ['./test/fixtures/optional-tools.ts', './test/fixtures/iam-usage.ts'],
    pool: 'forks',
    // Expected faults (a 503 from Stripe, a throttled send) log errors by design; show logs only
    // for the tests that fail, where they help.
    silent: 'passed-only',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
