import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
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
      {
        // svelteTesting() adds the `browser` export condition (Svelte's client runtime) and auto-cleanup.
        plugins: [svelte({ configFile: 'svelte.config.mjs' }), svelteTesting()],
        test: {
          name: 'component',
          environment: 'jsdom',
          include: ['test/component/**/*.test.ts'],
          // vitest's 5 s default is too short for a page test on a loaded 2-core machine (first render + ECharts).
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          // Drives the built renderer (out/renderer): run `npx electron-vite build` first; .ci/run does.
          include: ['test/e2e/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
