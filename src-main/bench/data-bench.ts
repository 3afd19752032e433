/**
 * Data benchmark, against the data pipeline's targets: import time of a 60,000-image 28×28 IDX set (gzipped, as
 * MNIST ships), of a 50,000-image CIFAR-10 folder and of the same as a .tar.gz, of 10,000 small JPEGs in class folders; the demo set's
 * generation; and loader ms per augmented 64-image batch, against the ≈ 2.8 s a wasm training sandwich step takes
 * at batch 64 on the 32×32 space (target: the loader ≥ 5× faster than training consumes). The synthetic files are
 * written byte-exactly per each format's spec in a temporary folder, which is removed afterwards.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openHomeDatabase } from '../store/db';
import { createLoader, generateDemo, importDataset, removeDataset, type DatasetInfo } from '../data';
import { jpegFile, tarball, tempDir, writeCifar10, writeIdxSet } from '../data/synthetic';

export interface DataBenchRow {
  case: string;
  /** What was measured: seconds for imports and generation, milliseconds per batch for loaders. */
  value: number;
  unit: 's' | 'ms/batch';
  /** The issue's target in the same unit, where it has one. */
  target: number | null;
  ok: boolean | null;
  note: string;
}

/** Seconds of one training sandwich step on wasm at batch 64, 32×32 (docs/BENCHMARKS.md): the loader's consumer. */
const TRAIN_STEP_MS = 2800;

export interface DataBenchOptions {
  /** Loader batches to time per case; default 50. */
  loaderBatches?: number;
  /** Progress lines; default to stderr. */
  log?: (s: string) => void;
}

/** Runs the data benchmark and returns one row per case (also logged as it goes). */
export async function runDataBench(opts: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const nb = opts.loaderBatches ?? 50;
  if (tf.getBackend() === undefined || tf.getBackend() === null) await tf.setBackend('cpu');
  const work = tempDir('alphanet-databench-');
  const home = join(work, 'home');
  const db = openHomeDatabase(home);
  const rows: DataBenchRow[] = [];
  const add = (r: Omit<DataBenchRow, 'ok'>) => {
    const row = { ...r, ok: r.target === null ? null : r.value <= r.target };
    rows.push(row);
    log(`  ${row.case}: ${row.value} ${row.unit}${row.target !== null ? ` (target ≤ ${row.target}: ${row.ok ? 'ok' : 'MISSED'})` : ''}${row.note ? ` — ${row.note}` : ''}`);
  };
  const timeImport = async (path: string, name: string): Promise<{ s: number; info: DatasetInfo }> => {
    const t0 = performance.now();
    const r = await importDataset(home, db, path, { name });
    return { s: Number(((performance.now() - t0) / 1000).toFixed(2)), info: r.info };
  };
  try {
    log('data benchmark: writing synthetic sources…');
    writeIdxSet(join(work, 'mnist'), { nTrain: 60_000, nTest: 10_000, gz: true });
    const idx = await timeImport(join(work, 'mnist'), 'mnist');
    add({ case: 'import IDX 60k+10k 28×28 (.gz)', value: idx.s, unit: 's', target: 3, note: '' });

    const cifarDir = join(work, 'cifar-10-batches-bin');
    writeCifar10(cifarDir, { perBatch: 10_000, nTest: 10_000 });
    const cifar = await timeImport(cifarDir, 'cifar');
    add({ case: 'import CIFAR-10 50k+10k (folder)', value: cifar.s, unit: 's', target: 5, note: '' });
    const tgz = join(work, 'cifar-10-binary.tar.gz');
    writeFileSync(tgz, tarball(Object.fromEntries(readdirSync(cifarDir).map((f) => [`cifar-10-batches-bin/${f}`, readFileSync(join(cifarDir, f))]))));
    // The same content again: removed first, or the import would only recognise it.
    removeDataset(home, db, cifar.info.id);
    const cifarTgz = await timeImport(tgz, 'cifar-tgz');
    add({ case: 'import CIFAR-10 50k+10k (.tar.gz)', value: cifarTgz.s, unit: 's', target: 5, note: 'gunzip included' });

    const jpgDir = join(work, 'jpegs');
    // jpeg-js's encoder takes ~60 ms an image (it rebuilds its tables each call), so 100 distinct 64×48 JPEGs are
    // encoded and each written 100 times; decoding cost does not depend on repetition. 64×48 makes the import crop
    // and resize too.
    const pool = Array.from({ length: 100 }, (_, i) => jpegFile(64, 48, i, 85));
    for (let c = 0; c < 10; c++) {
      mkdirSync(join(jpgDir, `class${c}`), { recursive: true });
      for (let i = 0; i < 1000; i++) writeFileSync(join(jpgDir, `class${c}`, `${i}.jpg`), pool[(c * 10 + i) % 100]);
    }
    const jpg = await timeImport(jpgDir, 'jpegs');
    add({ case: 'import 10,000 JPEGs 64×48 → 32×32 (folder)', value: jpg.s, unit: 's', target: 30, note: 'one thread' });

    let t0 = performance.now();
    generateDemo();
    add({ case: 'generate demo set 10k+2k 32×32', value: Number(((performance.now() - t0) / 1000).toFixed(2)), unit: 's', target: 2, note: '' });

    const loaderCase = async (info: DatasetInfo, name: string, resolution?: number) => {
      const l = createLoader(home, info, 'train', { batchSize: 64, seed: 0, shuffle: true, augment: true, resolution });
      let n = 0;
      const it = l[Symbol.asyncIterator]();
      const first = await it.next(); // excludes loading the split from disk
      tf.dispose([first.value!.x, first.value!.y]);
      t0 = performance.now();
      while (n < nb) {
        const r = await it.next();
        if (r.done) break;
        tf.dispose([r.value.x, r.value.y]);
        n++;
      }
      l.close();
      const ms = Number(((performance.now() - t0) / n).toFixed(2));
      add({ case: `loader ${name}, batch 64, augmented`, value: ms, unit: 'ms/batch', target: TRAIN_STEP_MS / 5, note: `${Math.round(TRAIN_STEP_MS / ms)}× faster than a ${TRAIN_STEP_MS / 1000} s training step` });
    };
    await loaderCase(cifar.info.id === cifarTgz.info.id ? cifarTgz.info : cifar.info, 'CIFAR 32×32');
    await loaderCase(cifarTgz.info, 'CIFAR 32→24 (resize)', 24);
    await loaderCase(idx.info, 'IDX 28×28');
  } finally {
    db.close();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
