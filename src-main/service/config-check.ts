/**
 * `runs.check`: a run config input checked with the training schema (src-main/engine/core/train-config.ts) and answered field by
 * field, never refused, so the new-run form can show each error at its field while the user types. The subnets'
 * MFLOPs come from the engine's counter (engine/core/flops.ts) whenever the search-space part is valid on its own.
 */
import type { DatasetInfo } from '../data/types';
import { DEMO_CLASSES, DEMO_COUNTS } from '../data/demo';
import { DEFAULT_VAL_FRACTION } from '../data/splits';
import {
  subnetCost,
  maxGenome,
  minGenome,
  getSpace,
  SearchSpaceSchema,
  type SearchSpace,
  TrainConfigSchema,
  parseTrainConfig,
} from '../engine/core';
import type { ConfigCheck } from '../ipc/api-types';
import { issuePath } from '../ipc/api-schemas';

/** What a check needs to know about a dataset a config names. */
export type DatasetFacts = Pick<DatasetInfo, 'name' | 'channels' | 'classNames'> & { trainCount: number };

/** The demo set's facts before it has been generated (`demo` is generated on first use; see data/demo.ts). */
export const DEMO_FACTS: DatasetFacts = {
  name: 'demo',
  channels: 3,
  classNames: DEMO_CLASSES,
  trainCount: Math.round(DEMO_COUNTS.train * (1 - DEFAULT_VAL_FRACTION)),
};

type FieldError = ConfigCheck['errors'][number];

/** The space a config input names or holds, or its field errors. `undefined` takes the schema's default. */
function checkSpace(raw: unknown): { space: SearchSpace } | { errors: FieldError[] } {
  const parsed = TrainConfigSchema.shape.space.safeParse(raw);
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => ({ field: ['space', issuePath(i.path)].filter(Boolean).join('.'), message: i.message })) };
  if (typeof parsed.data === 'string') {
    try {
      return { space: getSpace(parsed.data) };
    } catch (e) {
      return { errors: [{ field: 'space', message: (e as Error).message }] };
    }
  }
  const s = SearchSpaceSchema.safeParse(parsed.data);
  if (!s.success) return { errors: s.error.issues.map((i) => ({ field: ['space', issuePath(i.path)].filter(Boolean).join('.'), message: i.message })) };
  return { space: s.data };
}

/**
 * Checks `input` and returns every field error (dotted paths, e.g. `optimizer.lr`, `space.stages.3.width`), the
 * MFLOPs and parameter counts of the min and max subnets (classifier sized for the dataset when it is known), and the
 * config with every default filled in when there is no error.
 * @param findDataset looks up a dataset by id or name; `undefined` when there is none (`demo` before it exists is
 *   answered with {@link DEMO_FACTS}).
 */
export function checkConfig(input: Record<string, unknown>, findDataset: (idOrName: string) => DatasetFacts | undefined): ConfigCheck {
  const errors: FieldError[] = [];
  const space = checkSpace(input.space);
  if ('errors' in space) errors.push(...space.errors);

  const whole = TrainConfigSchema.safeParse(input);
  if (!whole.success) {
    for (const i of whole.error.issues) {
      const field = issuePath(i.path);
      // The space was checked above, more precisely.
      if (field === 'space' || field.startsWith('space.')) continue;
      errors.push({ field: field || '(config)', message: i.message });
    }
  }

  const datasetName = typeof input.dataset === 'string' ? input.dataset : input.dataset === undefined ? 'demo' : undefined;
  const dataset = datasetName === undefined ? undefined : (findDataset(datasetName) ?? (datasetName === 'demo' ? DEMO_FACTS : undefined));
  if (datasetName !== undefined && datasetName !== '' && !dataset) {
    errors.push({ field: 'dataset', message: `no dataset '${datasetName}' here: import it on the Datasets page, or use 'demo'` });
  }
  if (dataset && 'space' in space && dataset.channels !== space.space.inputChannels) {
    errors.push({
      field: 'dataset',
      message: `dataset '${dataset.name}' has ${dataset.channels}-channel images but space '${space.space.id}' takes ${space.space.inputChannels}-channel images`,
    });
  }
  if (dataset && whole.success && dataset.trainCount < whole.data.batchSize) {
    errors.push({ field: 'batchSize', message: `dataset '${dataset.name}' has ${dataset.trainCount} training images, fewer than one batch of ${whole.data.batchSize}` });
  }

  let flops: ConfigCheck['flops'] = null;
  if ('space' in space) {
    const classes = dataset?.classNames.length ?? space.space.numClasses;
    const lo = subnetCost(space.space, minGenome(space.space), classes);
    const hi = subnetCost(space.space, maxGenome(space.space), classes);
    flops = { minMFlops: lo.mflops, maxMFlops: hi.mflops, minParams: lo.params, maxParams: hi.params };
  }
  const ok = errors.length === 0;
  return { ok, errors, flops, normalized: ok ? (parseTrainConfig(input) as Record<string, unknown>) : null };
}

/** Facts of a stored dataset. */
export const datasetFacts = (d: DatasetInfo): DatasetFacts => ({ name: d.name, channels: d.channels, classNames: d.classNames, trainCount: d.splits.train.count });
