/**
 * The new-run form's fields: every training setting of the engine's run config (src-main/engine/core/train-config.ts,
 * TrainConfigSchema), grouped, with its label and unit. Defaults are not repeated here: the form shows the values
 * the engine fills in (`runs.check` of an empty config), so they cannot drift from the schema. Validation is the
 * engine's too (`runs.check`); this module only turns text into JSON values.
 */
import type { ClusterProfile } from '../../src-main/ipc/api-types';

export type FieldKind = 'int' | 'number' | 'text' | 'bool' | 'select';

export interface FieldDef {
  /** Dotted path in the run config, as `runs.check` names it in errors. */
  path: string;
  label: string;
  kind: FieldKind;
  /** Unit shown after the input. */
  unit?: string;
  /** One short sentence under the input. */
  help?: string;
  /** An empty input leaves the key out, and the engine uses what `emptyMeans` says. */
  optional?: boolean;
  emptyMeans?: string;
  options?: readonly { value: string; label: string }[];
  /** Shown only with these training engines (default: always). */
  engines?: readonly Engine[];
  /** Label and unit under a given engine, where the setting means something else there (GPUs: per node on Slurm). */
  perEngine?: Partial<Record<Engine, Pick<FieldDef, 'label' | 'unit' | 'help'>>>;
}

export type Engine = 'local' | 'torch' | 'slurm';

/** The field as the form shows it under `engine`, or null when it is not a setting of that engine. */
export function fieldFor(def: FieldDef, engine: Engine): FieldDef | null {
  if (def.engines && !def.engines.includes(engine)) return null;
  return { ...def, ...def.perEngine?.[engine] };
}

/** A config's engine (`local` when unset or unknown). */
export function engineOf(config: Record<string, unknown>): Engine {
  const e = config['engine'];
  return e === 'torch' || e === 'slurm' ? e : 'local';
}

export interface FieldGroup {
  id: string;
  title: string;
  fields: FieldDef[];
}

/** The engines a run trains on (the search form offers them for evaluation too). */
export const ENGINE_OPTIONS = [
  { value: 'local', label: 'local (TF.js on this machine)' },
  { value: 'torch', label: 'torch (PyTorch, GPUs or CPU ranks)' },
  { value: 'slurm', label: 'slurm (PyTorch on a Slurm cluster)' },
] as const;

/** A cluster picker's options: each profile of Settings → Clusters, with where it is and what its nodes have. */
export function clusterOptions(clusters: readonly Pick<ClusterProfile, 'name' | 'transport' | 'sshHost' | 'partition' | 'gpusPerNode'>[]): { value: string; label: string }[] {
  return clusters.map((c) => ({
    value: c.name,
    label: `${c.name} (${c.transport === 'ssh' ? `ssh ${c.sshHost}` : 'this machine'}${c.partition ? `, partition ${c.partition}` : ''}, ${c.gpusPerNode ? `${c.gpusPerNode} GPU${c.gpusPerNode > 1 ? 's' : ''} per node` : 'CPU nodes'})`,
  }));
}

/** The TF.js backends a run may force (engine/backend.ts `BACKENDS`; `auto` takes the first that loads). */
const BACKEND_OPTIONS = [
  { value: 'auto', label: 'auto (the best that loads)' },
  { value: 'tensorflow-gpu', label: 'tensorflow-gpu (libtensorflow + CUDA)' },
  { value: 'tensorflow', label: 'tensorflow (libtensorflow on the CPU)' },
  { value: 'wasm', label: 'wasm (WebAssembly, SIMD)' },
  { value: 'cpu', label: 'cpu (plain JavaScript)' },
] as const;

/** Every group but distillation (its own control) and the search space (its own editor). */
export const FIELD_GROUPS: FieldGroup[] = [
  {
    id: 'data',
    title: 'Data',
    fields: [
      { path: 'name', label: 'Run name', kind: 'text', optional: true, emptyMeans: '<space>-<dataset>-<distillation>' },
      { path: 'dataset', label: 'Dataset', kind: 'select' },
      { path: 'batchSize', label: 'Batch size', kind: 'int', unit: 'images / step', help: 'A partial last batch is dropped.' },
      { path: 'stepsPerEpoch', label: 'Steps per epoch', kind: 'int', unit: 'steps', optional: true, emptyMeans: 'the whole training split', help: 'A cap, for short runs on a subset.' },
      { path: 'augment', label: 'Augment training images (random crop and flip)', kind: 'bool' },
      { path: 'seed', label: 'Seed', kind: 'int', help: 'Weight init, data order, subnet sampling and drop masks.' },
    ],
  },
  {
    id: 'schedule',
    title: 'Schedule',
    fields: [
      { path: 'epochs', label: 'Epochs', kind: 'int', unit: 'epochs' },
      { path: 'optimizer.lr', label: 'Base learning rate', kind: 'number', unit: 'per step', optional: true, emptyMeans: '0.1 · max(1, ⌊batch / 256⌋)', help: 'Cosine decay over the whole run.' },
      { path: 'optimizer.warmupEpochs', label: 'Warmup', kind: 'number', unit: 'epochs', help: 'Linear warmup; fractions allowed.' },
      { path: 'optimizer.warmupStartFactor', label: 'Warmup starts at', kind: 'number', unit: '× base LR' },
    ],
  },
  {
    id: 'optimizer',
    title: 'Optimizer and regularization',
    fields: [
      { path: 'optimizer.momentum', label: 'Momentum μ', kind: 'number' },
      { path: 'optimizer.nesterov', label: 'Nesterov momentum', kind: 'bool' },
      { path: 'optimizer.weightDecay', label: 'Weight decay λ', kind: 'number', help: 'L2, not on BN parameters and biases.' },
      { path: 'optimizer.gradClipValue', label: 'Gradient clip', kind: 'number', unit: '± per entry', help: '0 turns clipping off.' },
      { path: 'labelSmoothing', label: 'Label smoothing ε', kind: 'number' },
      { path: 'dropout', label: 'Dropout', kind: 'number', unit: 'rate', help: 'Before the classifier, max subnet only.' },
      { path: 'dropConnect', label: 'Drop-connect', kind: 'number', unit: 'rate', help: 'Last stages, max subnet only.' },
    ],
  },
  {
    id: 'sandwich',
    title: 'Sandwich rule',
    fields: [
      { path: 'subnetsPerStep', label: 'Subnets per step', kind: 'int', unit: 'subnets', help: 'Max, random ones, min.' },
      { path: 'sandwichRule', label: 'Last member is the min subnet', kind: 'bool' },
    ],
  },
  {
    id: 'validation',
    title: 'Validation',
    fields: [
      { path: 'validation.everyEpochs', label: 'Validate every', kind: 'int', unit: 'epochs', help: '0: only after the last epoch.' },
      { path: 'validation.calibrationBatches', label: 'BN calibration batches', kind: 'int', unit: 'batches / subnet' },
      { path: 'validation.calibrationBatchSize', label: 'Calibration batch size', kind: 'int', unit: 'images' },
      { path: 'validation.randomSubnets', label: 'Random subnets validated', kind: 'int', unit: 'besides min and max' },
      { path: 'validation.batchSize', label: 'Validation batch size', kind: 'int', unit: 'images' },
      { path: 'validation.maxImages', label: 'Validate on at most', kind: 'int', unit: 'images', optional: true, emptyMeans: 'all validation images' },
    ],
  },
  {
    id: 'checkpoints',
    title: 'Checkpoints and logging',
    fields: [
      { path: 'checkpoint.everySteps', label: 'Checkpoint every', kind: 'int', unit: 'steps', help: 'Also at each epoch end, pause and finish.' },
      { path: 'checkpoint.keepLast', label: 'Keep the newest', kind: 'int', unit: 'checkpoints (+ the best)' },
      { path: 'progressEverySteps', label: 'Progress every', kind: 'int', unit: 'steps' },
      { path: 'metrics.flushEverySteps', label: 'Write metrics every', kind: 'int', unit: 'steps' },
      { path: 'metrics.flushEverySeconds', label: '… or every', kind: 'number', unit: 's' },
    ],
  },
  {
    id: 'nan',
    title: 'NaN policy',
    fields: [
      {
        path: 'nan.policy',
        label: 'On a non-finite loss or gradient',
        help: 'Rollback reloads the last good checkpoint and multiplies the LR by the factor.',
        kind: 'select',
        options: [
          { value: 'rollback', label: 'roll back, lower the LR' },
          { value: 'stop', label: 'stop (fail the run)' },
        ],
      },
      { path: 'nan.lrFactor', label: 'LR factor per rollback', kind: 'number', unit: '×' },
      { path: 'nan.maxRollbacks', label: 'Fail after', kind: 'int', unit: 'rollbacks' },
    ],
  },
  {
    id: 'backend',
    title: 'Backend',
    fields: [{ path: 'backend', label: 'TF.js backend', kind: 'select', options: BACKEND_OPTIONS }],
  },
  {
    id: 'engine',
    title: 'Engine',
    fields: [
      {
        path: 'engine',
        label: 'Training engine',
        kind: 'select',
        help: 'torch: the PyTorch engine through torchrun, for GPUs (docs/TORCH.md); slurm: the same engine as a job on a cluster of Settings → Clusters (docs/CLUSTER.md).',
        options: ENGINE_OPTIONS,
      },
      // The cluster's options are its profiles (clusters.list), given by the page.
      { path: 'cluster', label: 'Cluster', kind: 'select', engines: ['slurm'], help: 'A cluster of Settings → Clusters.' },
      { path: 'nodes', label: 'Nodes', kind: 'int', unit: 'nodes', engines: ['slurm'], help: 'Ranks: nodes × GPUs (or CPU ranks) per node.' },
      {
        path: 'gpus',
        label: 'GPUs',
        kind: 'int',
        unit: 'one rank each',
        help: '0: the CPU.',
        engines: ['torch', 'slurm'],
        perEngine: { slurm: { label: 'GPUs per node', unit: 'one rank each', help: "0: the cluster profile's GPUs per node; CPU ranks if it has none." } },
      },
      {
        path: 'ranks',
        label: 'CPU ranks',
        kind: 'int',
        unit: 'processes',
        help: 'Without GPUs.',
        optional: true,
        emptyMeans: '1',
        engines: ['torch', 'slurm'],
        perEngine: { slurm: { label: 'CPU ranks per node' } },
      },
    ],
  },
];

export type DistillationKind = 'adaptive-alpha' | 'kl' | 'alpha' | 'none';

/** β, the importance-weight clip both α-divergence kinds share. */
const CLIP_FIELD: FieldDef = { path: 'distillation.clip', label: 'β (weight clip)', kind: 'number' };

/** The KL warm-up both α-divergence kinds share (not in the paper; docs/FIDELITY.md tests it as a remedy). */
const KL_WARMUP_FIELD: FieldDef = {
  path: 'distillation.klWarmupEpochs',
  label: 'KL warm-up',
  kind: 'number',
  unit: 'epochs',
  help: 'Distil with KL for these first epochs, then with this divergence; 0 (the paper) starts with it.',
};

/** The distillation choices with one sentence each, and the fields of each. */
export const DISTILLATIONS: readonly { kind: DistillationKind; label: string; sentence: string; fields: FieldDef[] }[] = [
  {
    kind: 'adaptive-alpha',
    label: 'Adaptive α-divergence (AlphaNet)',
    sentence:
      'Per sample, the smaller subnets learn from the max subnet with the larger of D_α₋ and D_α₊, which penalises both over- and under-estimating the teacher; importance weights are clipped at β.',
    fields: [
      { path: 'distillation.alphaMin', label: 'α₋', kind: 'number' },
      { path: 'distillation.alphaMax', label: 'α₊', kind: 'number' },
      CLIP_FIELD,
      KL_WARMUP_FIELD,
    ],
  },
  {
    kind: 'kl',
    label: 'KL (inplace distillation)',
    sentence: 'The smaller subnets match the max subnet’s soft predictions with a KL divergence, as in BigNAS and AttentiveNAS.',
    fields: [],
  },
  {
    kind: 'alpha',
    label: 'Fixed α',
    sentence: 'One α-divergence with a fixed α for every sample: an ablation of the adaptive choice.',
    fields: [
      { path: 'distillation.alpha', label: 'α', kind: 'number' },
      CLIP_FIELD,
      KL_WARMUP_FIELD,
    ],
  },
  {
    kind: 'none',
    label: 'None',
    sentence: 'Every subnet trains on the labels alone: the baseline without a teacher.',
    fields: [],
  },
];

/** Starting values of a distillation kind's parameters when the user switches to it (the engine's defaults). */
export const DISTILLATION_START: Readonly<Record<DistillationKind, Record<string, unknown>>> = {
  'adaptive-alpha': { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 0 },
  kl: { kind: 'kl' },
  // The schema has no default α; 0.5 lies between the adaptive pair's ends.
  alpha: { kind: 'alpha', alpha: 0.5, clip: 5, klWarmupEpochs: 0 },
  none: { kind: 'none' },
};

/**
 * The JSON value for a field's text. Empty: undefined (key left out) for an optional field, else null. Text that is
 * not a number stays a string, so `runs.check` refuses it at the field with the engine's own message.
 */
export function parseFieldText(def: Pick<FieldDef, 'kind' | 'optional'>, text: string): unknown {
  const t = text.trim();
  if (def.kind === 'text' || def.kind === 'select') return t === '' && def.optional ? undefined : def.kind === 'text' ? t : text;
  if (t === '') return def.optional ? undefined : null;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** A field's value as input text. */
export function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `16, 24` → [16, 24]; text that is not a list of numbers stays a string (the engine then names the field). */
export function parseList(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const nums = parts.map(Number);
  return parts.length > 0 && nums.every((n) => Number.isFinite(n)) ? nums : text;
}

/** A list as the editor shows it. */
export function listText(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : fieldText(value);
}
