/**
 * `alphanet datasets …`: import, list, show, remove, re-split, and create the built-in demo set. Same conventions
 * as every command (context.ts): text by default, JSON with the global `--json`, data directory from `--home` /
 * ALPHANET_HOME / the app's default.
 */
import { Option, type Command } from 'commander';
import {
  IMPORT_FORMATS,
  MAX_FOLDER_SIZE,
  MIN_FOLDER_SIZE,
  SPLITS,
  ensureDemoDataset,
  getDataset,
  importDataset,
  listDatasets,
  removeDataset,
  sampleGrid,
  setValSplit,
  type DatasetInfo,
  type ImportFormat,
  type ImportProgress,
} from '../data';
import type { Db } from '../store/db';
import { boundedNumber as num } from './args';
import type { CliContext } from './context';

const shape = (d: DatasetInfo) => `${d.height}×${d.width}×${d.channels}`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
const splitLine = (d: DatasetInfo) => SPLITS.map((s) => `${s} ${d.splits[s].count}`).join(' · ');

/** Multi-line text description of a dataset, with a per-class table and a text histogram of the training counts. */
export function formatDataset(d: DatasetInfo): string {
  const w = Math.max(5, ...d.classNames.map((n) => n.length));
  const max = Math.max(1, ...d.splits.train.classCounts);
  const rows = d.classNames.map((n, i) => {
    const [tr, va, te] = SPLITS.map((s) => String(d.splits[s].classCounts[i]).padStart(7));
    return `  ${n.padEnd(w)} ${tr} ${va} ${te}  ${'█'.repeat(Math.round((d.splits.train.classCounts[i] / max) * 20))}`;
  });
  return [
    `${d.name} (${d.id})`,
    `  format:   ${d.format}`,
    `  source:   ${d.source}`,
    `  hash:     ${d.contentHash}`,
    `  shape:    ${shape(d)} (H×W×C), ${d.classNames.length} classes, ${mb(d.sizeBytes)}`,
    `  splits:   ${splitLine(d)} (val: ${Math.round(d.valFraction * 100)} % of each training class, seed ${d.valSeed})`,
    `  mean:     ${d.mean.map((m) => m.toFixed(4)).join(' ')}`,
    `  std:      ${d.std.map((m) => m.toFixed(4)).join(' ')}`,
    `  augment:  random crop (pad ${d.augment.padding})${d.augment.flip ? ' + horizontal flip' : ', no flip'}`,
    `  created:  ${d.createdAt}`,
    '',
    `  ${'class'.padEnd(w)}   train     val    test`,
    ...rows,
  ].join('\n');
}

export function registerDatasetCommands(program: Command, ctx: CliContext): void {
  const { io, json, print } = ctx;
  /** Runs `fn` with the home directory and its database. */
  const withDb = <T>(fn: (home: string, db: Db) => T | Promise<T>): Promise<T> => ctx.withDb((db, home) => fn(home, db));

  const ds = program.command('datasets').description('import, list, show and remove datasets');

  ds.command('import')
    .description('import a dataset: an IDX folder (MNIST family, raw or .gz), CIFAR-10/100 binary (folder or .tar.gz), or a folder of class subfolders of PNG/JPEG images')
    .argument('<path>', 'folder or .tar.gz / .tgz / .tar archive')
    .option('--name <name>', 'dataset name (default: the folder or archive name)')
    .addOption(new Option('--format <format>', 'override the detected format').choices([...IMPORT_FORMATS]))
    .option('--size <n>', 'image folders: side of the stored square images (default 32)', num('--size', MIN_FOLDER_SIZE, MAX_FOLDER_SIZE, true))
    .addOption(new Option('--channels <n>', 'image folders: force 1 (greyscale) or 3 (RGB) channels (default: the images\')').choices(['1', '3']))
    .option('--val <fraction>', 'fraction of each training class held out for search validation (default 0.1)', num('--val', 0, 0.9, false))
    .option('--val-seed <n>', 'seed of the validation split (default 0)', num('--val-seed', 0, 2 ** 31 - 1, true))
    .action(async (path: string, o: { name?: string; format?: ImportFormat; size?: number; channels?: string; val?: number; valSeed?: number }) => {
      let last = { phase: '', t: 0 };
      const onProgress = (p: ImportProgress) => {
        if (json()) return;
        const now = performance.now();
        const end = p.done === p.total;
        // At most one line a second per phase, plus each phase's end.
        if (p.phase === last.phase && !end && now - last.t < 1000) return;
        if (p.total <= 1 && p.phase !== 'write') return;
        last = { phase: p.phase, t: now };
        const eta = p.etaSeconds === null || end ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
        const unit = p.phase === 'write' ? ` (${mb(p.done)} of ${mb(p.total)})` : ` of ${p.total}`;
        io.err(`${p.phase}: ${p.phase === 'write' ? Math.round((100 * p.done) / p.total) + ' %' : p.done}${unit}${eta}\n`);
      };
      const r = await withDb((home, db) =>
        importDataset(home, db, path, {
          name: o.name,
          format: o.format,
          size: o.size,
          channels: o.channels === undefined ? undefined : (Number(o.channels) as 1 | 3),
          valFraction: o.val,
          valSeed: o.valSeed,
          onProgress,
        }),
      );
      const d = r.info;
      print({ existing: r.existing, seconds: Number(r.seconds.toFixed(2)), dataset: d }, () =>
        r.existing
          ? `already imported as '${d.name}' (${d.id}): same content (${d.contentHash.slice(0, 19)}…); nothing written`
          : `imported '${d.name}' (${d.id}) in ${r.seconds.toFixed(1)} s: ${d.format}, ${shape(d)}, ${d.classNames.length} classes; ${splitLine(d)}`,
      );
    });

  ds.command('list')
    .description('list the imported datasets')
    .action(() =>
      withDb((_home, db) => {
        const all = listDatasets(db);
        print(all, () => {
          if (!all.length) return 'no datasets yet: `alphanet datasets import <path>`, or `alphanet datasets demo` for the built-in one';
          const rows = all.map((d) => [d.id, d.name, d.format, shape(d), String(d.classNames.length), String(d.splits.train.count), String(d.splits.val.count), String(d.splits.test.count), mb(d.sizeBytes)]);
          const head = ['id', 'name', 'format', 'shape', 'classes', 'train', 'val', 'test', 'size'];
          const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
          return [head, ...rows].map((r) => r.map((c, i) => (i >= 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n');
        });
      }),
    );

  ds.command('show')
    .description('show a dataset: source, hash, shape, class counts per split, mean/std, histogram')
    .argument('<id|name>')
    .option('--samples <n>', 'with --json: include up to n thumbnails per class (PNG data URLs)', num('--samples', 0, 64, true), 0)
    .action((idOrName: string, o: { samples: number }) =>
      withDb((home, db) => {
        const d = getDataset(db, idOrName);
        const grid = o.samples > 0 ? sampleGrid(home, d, { perClass: o.samples }) : undefined;
        print({ ...d, ...(grid ? { samples: grid } : {}) }, () => formatDataset(d));
      }),
    );

  ds.command('remove')
    .description('remove a dataset (its row and its files)')
    .argument('<id|name>')
    .action((idOrName: string) =>
      withDb((home, db) => {
        const d = removeDataset(home, db, idOrName);
        print({ removed: d.id, name: d.name, freedBytes: d.sizeBytes }, () => `removed '${d.name}' (${d.id}), freed ${mb(d.sizeBytes)}`);
      }),
    );

  ds.command('split')
    .description('change the search-validation split carved out of train (stratified, seeded)')
    .argument('<id|name>')
    .requiredOption('--val <fraction>', 'fraction of each training class held out', num('--val', 0, 0.9, false))
    .option('--seed <n>', 'seed (default: the current one)', num('--seed', 0, 2 ** 31 - 1, true))
    .action((idOrName: string, o: { val: number; seed?: number }) =>
      withDb((home, db) => {
        const d = setValSplit(home, db, idOrName, { fraction: o.val, seed: o.seed });
        print(d, () => `'${d.name}': ${splitLine(d)}`);
      }),
    );

  ds.command('demo')
    .description('create (on first use) and show the built-in demo dataset: 10 classes of generated 32×32 RGB shapes and textures')
    .action(() =>
      withDb(async (home, db) => {
        const d = await ensureDemoDataset(home, db);
        print(d, () => formatDataset(d));
      }),
    );
}
