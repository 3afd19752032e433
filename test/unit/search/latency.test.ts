/**
 * Latency: direct measurement, the per-layer table (coverage of every subnet's layers, save/load, device check) and
 * its prediction error — on the tiny space with few repeats to stay fast. The ≤ 10 % goal is measured on the 32×32
 * space by `src-main/bench/search-bench.ts` (docs/SEARCH.md); here only a loose bound, as this machine is shared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createOps } from '../../../src-main/engine/ops';
import { Rng } from '../../../src-main/engine/rng';
import { Supernet } from '../../../src-main/engine/supernet';
import { extractStatic } from '../../../src-main/engine/calibration';
import { maxGenome, minGenome, randomGenome } from '../../../src-main/engine/spaces/genome';
import { subnetPlan } from '../../../src-main/engine/spaces/plan';
import {
  buildLatencyTable,
  deviceFingerprint,
  enumerateLayers,
  fitScaleOverhead,
  latencyErrorReport,
  layerKey,
  loadLatencyTable,
  measureLatency,
  planLayers,
  predictLatency,
  saveLatencyTable,
} from '../../../src-main/search/latency';
import { resetStats } from '../../../src-main/search/evaluate';
import { TINY } from '../engine/tiny-space';

const ops = createOps('portable');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('latency', () => {
  it('enumerates every layer any subnet uses', () => {
    const keys = enumerateLayers(TINY);
    const rng = new Rng(1);
    for (const g of [minGenome(TINY), maxGenome(TINY), ...Array.from({ length: 200 }, () => randomGenome(TINY, rng))]) {
      for (const l of planLayers(subnetPlan(TINY, g))) expect(keys.has(layerKey(l)), layerKey(l)).toBe(true);
    }
  });

  it('measures a static subnet at batch 1 and another batch size', () => {
    const net = new Supernet({ space: TINY, ops });
    const g = maxGenome(TINY);
    const s = extractStatic(net, g, resetStats(net, g));
    const t = measureLatency(s, { batchSizes: [1, 4], warmup: 1, repeats: 3 });
    expect(t.map((r) => r.batch)).toEqual([1, 4]);
    const cpu = measureLatency(s, { clock: 'cpu', warmup: 1, repeats: 3 });
    expect(cpu[0].batch).toBe(1);
    expect(cpu[0].medianMs).toBeGreaterThan(0);
    for (const r of t) {
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.minMs).toBeLessThanOrEqual(r.medianMs);
      expect(r.maxMs).toBeGreaterThanOrEqual(r.medianMs);
    }
    s.dispose();
    net.dispose();
  });

  it('builds, saves and loads a table; predicts subnets; refuses another device; reports its error', () => {
    const t = buildLatencyTable(TINY, ops, { warmup: 1, repeats: 3, overheadSubnets: 1 });
    expect(t.statistic).toBe('median');
    expect(t.clock).toBe('wall');
    expect(Object.keys(t.entries).length).toBe(enumerateLayers(TINY).size);
    expect(t.overheadFit.length).toBe(3);
    expect(t.scale).toBeGreaterThan(0);
    expect(t.device.backend).toBe('cpu');
    expect(t.device.cpuCount).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'alphanet-lut-'));
    try {
      const path = join(dir, 'lut.json');
      saveLatencyTable(path, t);
      const back = loadLatencyTable(path, deviceFingerprint(ops));
      expect(back.entries).toEqual(t.entries);
      expect(() => loadLatencyTable(path, { ...deviceFingerprint(ops), backend: 'wasm' })).toThrow(/rebuild it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Prediction = scale · Σ entries of the subnet's layers + overhead (timing-independent check).
    for (const g of [minGenome(TINY), maxGenome(TINY)]) {
      const sum = planLayers(subnetPlan(TINY, g)).reduce((a, l) => a + t.entries[layerKey(l)], 0);
      expect(predictLatency(t, TINY, g)).toBeCloseTo(t.scale * sum + t.overheadMs, 9);
    }
    const report = latencyErrorReport(t, TINY, ops, { subnets: 4, warmup: 1, repeats: 3 });
    expect(report.rows).toHaveLength(4);
    for (const r of report.rows) expect(r.relError).toBeCloseTo(Math.abs(r.predictedMs - r.measuredMs) / r.measuredMs, 9);
    // Loose on purpose: the tiny space's layers take tens of µs, where timer and scheduling noise on the shared CPU
    // reach 100 % (seen: 133 %). It still catches unit mistakes (s vs ms: 1000×) and missing layers (an error).
    expect(Number.isFinite(report.medianRelError)).toBe(true);
    expect(report.medianRelError).toBeLessThan(5);
    expect(() => predictLatency({ ...t, spaceId: 'other' }, TINY, minGenome(TINY))).toThrow(/not 'tiny-test'/);
  });
});

describe('fitScaleOverhead', () => {
  it('recovers an exact linear relation and falls back with few points', () => {
    const fit = [1, 2, 5, 9].map((s) => ({ sumMs: s, measuredMs: 1.5 * s + 0.7 }));
    const r = fitScaleOverhead(fit);
    expect(r.scale).toBeCloseTo(1.5, 12);
    expect(r.overheadMs).toBeCloseTo(0.7, 12);
    expect(fitScaleOverhead(fit.slice(0, 2))).toEqual({ scale: 1, overheadMs: (fit[0].measuredMs - 1 + fit[1].measuredMs - 2) / 2 });
    expect(fitScaleOverhead([{ sumMs: 1, measuredMs: 3 }, { sumMs: 1, measuredMs: 4 }, { sumMs: 1, measuredMs: 5 }]).scale).toBe(1);
  });
});
