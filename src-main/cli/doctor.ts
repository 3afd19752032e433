/**
 * What `alphanet doctor` says about using every core: the machine's cores, the share jobs may hold (settings
 * `jobCores` / ALPHANET_JOB_CORES), how many data-parallel workers a default run trains on, and the newest training
 * speed recorded in the home's database, per worker. The database is only read when it exists (doctor creates none).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jobCores } from '../settings';
import { openHomeDatabase } from '../store/db';
import { latestStepSpeed, type LatestStepSpeed } from '../store/runs';
import { TrainConfigSchema } from '../engine/core';
import { machineCores, resolveWorkers } from '../train/workers';

export interface ParallelReport {
  cores: number;
  jobCores: number;
  /** Workers of a run with the default config (`workers: auto`, batch 64) here. */
  defaultWorkers: number;
  latest: (LatestStepSpeed & { imagesPerSecPerWorker: number }) | null;
}

export function parallelReport(home: string, backend: string, env: NodeJS.ProcessEnv): ParallelReport {
  const cores = machineCores();
  const budget = jobCores(home, env) ?? cores;
  const defaults = TrainConfigSchema.parse({});
  let latest: LatestStepSpeed | undefined;
  if (existsSync(join(home, 'alphanet.db'))) {
    const db = openHomeDatabase(home);
    try {
      latest = latestStepSpeed(db);
    } finally {
      db.close();
    }
  }
  return {
    cores,
    jobCores: budget,
    defaultWorkers: resolveWorkers(defaults, { cores: budget, backend }),
    latest: latest ? { ...latest, imagesPerSecPerWorker: latest.imagesPerSec / (latest.workers ?? 1) } : null,
  };
}

export function formatParallelReport(p: ParallelReport): string[] {
  const l = p.latest;
  return [
    `cores:     ${p.cores} on this machine; jobs may use ${p.jobCores} (settings jobCores, ALPHANET_JOB_CORES)`,
    `workers:   a default run (workers auto, batch 64) trains on ${p.defaultWorkers} data-parallel ${p.defaultWorkers === 1 ? 'worker' : 'workers'}, one core each`,
    l
      ? `speed:     run ${l.runId} '${l.name}' step ${l.step}: ${l.imagesPerSec.toFixed(1)} images/s on ${l.workers ?? 1} ${(l.workers ?? 1) === 1 ? 'worker' : 'workers'} (${l.imagesPerSecPerWorker.toFixed(1)} per worker)`
      : 'speed:     no training step recorded in this home yet',
  ];
}
