/** Helpers for the tests that drive the built runner process (out/main/runner.js). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { forkRunner, type SpawnRunner } from '../../../src-main/jobs/run-manager';
import { TINY } from '../engine/tiny-space';

export const RUNNER = join(__dirname, '..', '..', '..', 'out', 'main', 'runner.js');

/** Fails with a clear message when the runner is not built (npm test builds it first). */
export function requireRunner(): string {
  if (!existsSync(RUNNER)) throw new Error(`${RUNNER} is missing: run \`npx electron-vite build\` (npm test does) before these tests`);
  return RUNNER;
}

/** The runner on the wasm backend (≈ 20× faster than cpu even on the tiny space). */
export const spawnWasmRunner: SpawnRunner = () => forkRunner(requireRunner(), { env: { ...process.env, ALPHANET_BACKEND: 'wasm' } });

/** A short tiny-space run on the demo dataset. */
export const tinyDemoConfig = (over: Record<string, unknown> = {}) => ({
  space: TINY,
  dataset: 'demo',
  epochs: 1,
  batchSize: 8,
  stepsPerEpoch: 4,
  backend: 'wasm',
  validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, batchSize: 100, maxImages: 100 },
  checkpoint: { everySteps: 2, keepLast: 2 },
  progressEverySteps: 1,
  metrics: { flushEverySteps: 1, flushEverySeconds: 1 },
  ...over,
});
