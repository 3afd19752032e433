import { defineConfig } from 'vitest/config';

/**
 * Three projects mirror the source tree: `unit` (engine, store, data, ipc under plain Node), `component` (Svelte
 * components in jsdom) and `e2e` (the built renderer in Debian's Chromium). Slow suites run only with
 * ALPHANET_SLOW_TESTS=1 (`npm run test:slow`), which CI sets.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
