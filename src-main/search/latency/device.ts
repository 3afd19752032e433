/** The device a latency was measured on: its fingerprint, whether two are the same machine, and its short id. Part of the latency module (index.ts has the overview). */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, type SupernetOps } from '../../engine';

export const DeviceFingerprintSchema = z.object({
  cpuModel: z.string(),
  cpuCount: z.number().int(),
  platform: z.string(),
  arch: z.string(),
  /** TF.js backend name (`wasm`, `cpu`, `tensorflow`, …). */
  backend: z.string(),
  tfjsVersion: z.string(),
  /** How the supernet ops are formulated (portable / native). */
  opsMode: z.string(),
  /** WASM SIMD, when known. */
  simd: z.boolean().nullable(),
});
export type DeviceFingerprint = z.infer<typeof DeviceFingerprintSchema>;

export function deviceFingerprint(ops: SupernetOps): DeviceFingerprint {
  const c = cpus();
  const active = activeBackend();
  return {
    cpuModel: c[0]?.model?.trim() ?? 'unknown',
    cpuCount: c.length,
    platform: process.platform,
    arch: process.arch,
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    opsMode: ops.mode,
    simd: active && active.tfBackend === tf.getBackend() ? active.simd : null,
  };
}

export function sameDevice(a: DeviceFingerprint, b: DeviceFingerprint): boolean {
  const keys: (keyof DeviceFingerprint)[] = ['cpuModel', 'cpuCount', 'platform', 'arch', 'backend', 'tfjsVersion', 'opsMode'];
  return keys.every((k) => a[k] === b[k]);
}

/** A short, stable id of a device fingerprint: the first 16 hex digits of the sha256 of its sorted-key JSON. */
export function deviceIdOf(fingerprint: object): string {
  const sorted = Object.fromEntries(Object.entries(fingerprint).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
