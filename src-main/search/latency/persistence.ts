/** Saving and loading a table (checked against the device it is used on). Part of the latency module (index.ts has the overview). */
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../../atomic-files';
import { type DeviceFingerprint, sameDevice } from './device';
import { type LatencyTable, LatencyTableSchema } from './table';

export function saveLatencyTable(path: string, t: LatencyTable): void {
  writeJsonAtomic(path, t);
}

/**
 * Loads a table; with `device`, throws when it was built on another machine or backend (a stale table predicts
 * nonsense silently, so rebuilding is the caller's cue).
 */
export function loadLatencyTable(path: string, device?: DeviceFingerprint): LatencyTable {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not a latency table: ${(e as Error).message}`);
  }
  if (typeof json === 'object' && json !== null && (json as { version?: unknown }).version === 1) {
    throw new Error(`latency table ${path} was built by an older method (layers timed alone, ~18 % error): rebuild it`);
  }
  const r = LatencyTableSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${path} is not a latency table: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const t = r.data;
  if (device && !sameDevice(t.device, device)) {
    throw new Error(
      `latency table ${path} was built on ${t.device.cpuModel} ×${t.device.cpuCount}, backend ${t.device.backend} (${t.device.opsMode}), tfjs ${t.device.tfjsVersion}; ` +
        `this is ${device.cpuModel} ×${device.cpuCount}, backend ${device.backend} (${device.opsMode}), tfjs ${device.tfjsVersion}: rebuild it`,
    );
  }
  return t;
}
