/**
 * Where a machine's latency lookup tables live: `<home>/latency/<space>-<space hash>-c<classes>-b<batch>-<device id>.json`.
 * One table per search space (by id and content, since an inline space may reuse an id), classifier size, batch
 * size and device — the device id is the short hash of the fingerprint (CPU, OS, backend, tfjs version, ops mode;
 * see `deviceFingerprint` in latency.ts), so a table built on another machine or backend is simply not found here,
 * and `loadLatencyTable` double-checks the fingerprint stored inside.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SupernetOps } from '../engine';
import type { SearchSpace } from '../engine/core';
import { deviceIdOf } from './latency';
import {
  buildLatencyTable,
  deviceFingerprint,
  loadLatencyTable,
  saveLatencyTable,
  type BuildTableOptions,
  type DeviceFingerprint,
  type LatencyTable,
} from './latency';

export const latencyTableDir = (home: string): string => join(home, 'latency');

/** The file of the table for (space, classes, batch) on the device `fp`. */
export function latencyTablePath(home: string, space: SearchSpace, numClasses: number, batch: number, fp: DeviceFingerprint): string {
  const spaceHash = createHash('sha256').update(JSON.stringify(space)).digest('hex').slice(0, 8);
  const safeId = space.id.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(latencyTableDir(home), `${safeId}-${spaceHash}-c${numClasses}-b${batch}-${deviceIdOf(fp)}.json`);
}

/** This machine's table for the space on the active backend, if one was built; undefined otherwise. */
export function findLatencyTable(home: string, space: SearchSpace, numClasses: number, ops: SupernetOps, batch = 1): { table: LatencyTable; path: string; device: DeviceFingerprint } | undefined {
  const device = deviceFingerprint(ops);
  const path = latencyTablePath(home, space, numClasses, batch, device);
  if (!existsSync(path)) return undefined;
  return { table: loadLatencyTable(path, device), path, device };
}

/** Builds this machine's table (see `buildLatencyTable` for the options and their defaults) and saves it. */
export function buildAndSaveLatencyTable(home: string, space: SearchSpace, ops: SupernetOps, opts: BuildTableOptions & { numClasses: number }): { table: LatencyTable; path: string; device: DeviceFingerprint } {
  const table = buildLatencyTable(space, ops, opts);
  const path = latencyTablePath(home, space, opts.numClasses, table.batch, table.device);
  saveLatencyTable(path, table);
  return { table, path, device: table.device };
}
