/**
 * A briefly trained tiny run for the run-level search tests: the TINY space on the demo dataset (10 classes, val 1000
 * and test 2000 images), 12 sandwich steps at batch 8 in the built runner on wasm (a few seconds), in a fresh home.
 * Evaluations calibrate on 1 × 8 images (the run's validation setting), so each takes ~0.1 s.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunManager } from '../../../src-main/jobs/run-manager';
import { spawnWasmRunner, tinyDemoConfig } from '../train/runner-helpers';

export async function trainTinyRun(prefix = 'search-run-'): Promise<{ home: string; runId: number }> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const m = new RunManager({ home, spawn: spawnWasmRunner });
  try {
    const run = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 12, seed: 1 }));
    const done = await m.waitFor(run.id);
    if (done.status !== 'finished') throw new Error(`the fixture run ended ${done.status}: ${done.error}`);
    return { home, runId: run.id };
  } finally {
    m.close();
  }
}
