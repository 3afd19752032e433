/**
 * The run configuration: one zod schema holding every training default, with its unit, in one place.
 *
 * The paper's values (METHOD.md §2.1) are for 360 epochs of ImageNet at a global batch of 2048 on 64 GPUs. A workbench run
 * is a few thousand images for tens of epochs at batch 64 on a laptop CPU, so a few defaults are scaled; each such
 * field says why. A config that fails validation is refused with one line per bad field, naming it.
 */
import { z } from 'zod';
import { BACKENDS, SearchSpaceSchema, formatIssues, type SearchSpace, getSpace } from '.';
import { CONTROL_CHARS_MESSAGE, hasControlChars } from '../../text';

const int = z.number().int();
const posInt = int.positive();
const nonNeg = z.number().nonnegative();
const rate = z.number().min(0).lt(1);

/**
 * Epochs (fractions allowed; default 0, the paper's: none) during which the α kinds distil with KL before their own
 * divergence takes over. Not in the paper: a remedy the fidelity study (docs/FIDELITY.md, "Diagnosis") tests, because
 * there the α₋ branch slows the max subnet through the shared features in the early, high-learning-rate epochs.
 */
const KL_WARMUP_EPOCHS = nonNeg.default(0);

/** How the non-max sandwich members learn (METHOD.md §1.4, §1.6); `members[0]`, the max subnet, always uses the labels. */
export const DistillationSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      /** AlphaNet (default): per sample the larger of D_{α₋} and D_{α₊}, importance weights clipped at `clip`. */
      kind: z.literal('adaptive-alpha'),
      /** α₋ (default −1, the paper). */
      alphaMin: z.number().default(-1),
      /** α₊ (default 1, the paper). */
      alphaMax: z.number().default(1),
      /** β, the importance-weight clip (default 5, the paper). */
      clip: z.number().positive().default(5),
      klWarmupEpochs: KL_WARMUP_EPOCHS,
    }),
    /** AttentiveNAS / BigNAS inplace distillation: soft cross-entropy against the max subnet. */
    z.strictObject({ kind: z.literal('kl') }),
    z.strictObject({
      /** One fixed α. */
      kind: z.literal('alpha'),
      alpha: z.number(),
      /** β (default 5). */
      clip: z.number().positive().default(5),
      klWarmupEpochs: KL_WARMUP_EPOCHS,
    }),
    /** No distillation: every member trains on the labels. */
    z.strictObject({ kind: z.literal('none') }),
  ])
  .refine((d) => d.kind !== 'adaptive-alpha' || d.alphaMin < d.alphaMax, { message: 'alphaMin must be below alphaMax', path: ['alphaMin'] });

export const OptimizerSchema = z.strictObject({
  /** Only SGD (the paper's, AttentiveNAS `solver/build.py`). */
  kind: z.literal('sgd').default('sgd'),
  /** Momentum μ (default 0.9). */
  momentum: z.number().min(0).lt(1).default(0.9),
  /** Nesterov momentum (default true), PyTorch's formulation (see optimizer.ts). */
  nesterov: z.boolean().default(true),
  /**
   * Base learning rate, per step (unitless). Default: the paper's own rule 0.1 · max(1, ⌊batch/256⌋)
   * (AlphaNet `train_alphanet.py`), which is 0.1 for every batch below 512 — i.e. 0.1 at batch 64. The linear
   * scaling rule would give 0.025 at batch 64; on a few thousand images over tens of epochs that learns too slowly,
   * and 0.1 with warmup and gradient clipping is stable (the clip bounds every step's update).
   */
  lr: z.number().positive().optional(),
  /**
   * Linear warmup length in epochs (fractions allowed; default 1). The paper warms up 5 of 360 epochs (1.4 %);
   * for runs of 10–50 epochs one epoch is a similar share without wasting a short run on warmup.
   */
  warmupEpochs: nonNeg.default(1),
  /** Warmup starts at this fraction of the base LR (default 0.001, METHOD.md §2.1). */
  warmupStartFactor: z.number().positive().max(1).default(0.001),
  /**
   * L2 weight decay λ, coupled through the gradient (default 5e-5; none on BN parameters and biases). The paper
   * uses 1e-5 for 1.28 M images; with ~10³–10⁴ images the same net overfits sooner, so 5× more — still well below
   * the 5e-4 common for CIFAR ResNets, because inplace distillation already regularises the smaller subnets.
   */
  weightDecay: nonNeg.default(5e-5),
  /** Clip every gradient entry to [−c, c] before weight decay is added (default 1.0, METHOD.md §2 step 5); 0 = off. */
  gradClipValue: nonNeg.default(1.0),
});

export const ValidationSchema = z.strictObject({
  /** Validate after every N epochs (default 1) and always after the last; 0 = only after the last. */
  everyEpochs: int.nonnegative().default(1),
  /** BN calibration batches from the training split per subnet (default 16; the paper uses 64 at 32 per GPU). */
  calibrationBatches: posInt.default(16),
  /** Images per calibration batch (default 64). */
  calibrationBatchSize: posInt.default(64),
  /** Fixed random subnets validated besides min and max, drawn once from the seed (default 2). */
  randomSubnets: int.nonnegative().default(2),
  /** Images per validation batch (default 256; inference only). */
  batchSize: posInt.default(256),
  /** Validate on at most this many val images (default: all). */
  maxImages: posInt.optional(),
});

export const CheckpointSchema = z.strictObject({
  /** Write a checkpoint every N steps (default 50; one is always written at each epoch end, pause and finish). */
  everySteps: posInt.default(50),
  /** Keep the newest K checkpoints (default 2) plus the best one. */
  keepLast: posInt.default(2),
});

export const NanSchema = z.strictObject({
  /**
   * On a non-finite loss or gradient: `rollback` (default) reloads the last good checkpoint and multiplies the LR by
   * `lrFactor`; `stop` fails the run.
   */
  policy: z.enum(['rollback', 'stop']).default('rollback'),
  /** LR multiplier per rollback (default 0.5). */
  lrFactor: z.number().positive().lt(1).default(0.5),
  /** Fail after this many rollbacks in one run (default 5), instead of looping forever. */
  maxRollbacks: int.nonnegative().default(5),
});

export const TrainConfigSchema = z
  .strictObject({
    /** Display name (default: `<space>-<dataset>-<distillation>`). */
    name: z.string().min(1).max(200).refine((s) => !hasControlChars(s), CONTROL_CHARS_MESSAGE).optional(),
    /** Search space: a registered id (default `alphanet-cifar32`) or an inline space object. */
    space: z.union([z.string().min(1), z.looseObject({})]).default('alphanet-cifar32'),
    /** Dataset id or name (default `demo`, the built-in demo dataset). */
    dataset: z.string().min(1).default('demo'),
    /** Epochs (default 20). */
    epochs: posInt.default(20),
    /** Training batch, images per step (default 64; the WASM heap limits the 32×32 max subnet to ≈ 96). */
    batchSize: posInt.max(4096).default(64),
    /** At most this many steps per epoch (default: the whole training split); for short runs on a subset. */
    stepsPerEpoch: posInt.optional(),
    /** Seed of weight init, data order, subnet sampling and drop masks (default 0, the paper's). */
    seed: int.min(0).max(2 ** 31 - 1).default(0),
    distillation: DistillationSchema.default({ kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 0 }),
    /** Sandwich members per step (default 4: max, 2 random, min — METHOD.md §2). */
    subnetsPerStep: int.min(2).max(16).default(4),
    /** The last member is the min subnet (default true). */
    sandwichRule: z.boolean().default(true),
    optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
    /** Label smoothing ε of label losses (default 0.1). */
    labelSmoothing: rate.default(0.1),
    /** Dropout before the classifier, max subnet only (default 0.2). */
    dropout: rate.default(0.2),
    /** Drop-connect base rate on the last stages' identity blocks, max subnet only (default 0.2, METHOD.md §2.2). */
    dropConnect: rate.default(0.2),
    /** Training-time augmentation of the loader (default true). */
    augment: z.boolean().default(true),
    validation: ValidationSchema.default(ValidationSchema.parse({})),
    /** Emit a progress message every N steps (default 5). */
    progressEverySteps: posInt.default(5),
    checkpoint: CheckpointSchema.default(CheckpointSchema.parse({})),
    nan: NanSchema.default(NanSchema.parse({})),
    metrics: z
      .strictObject({
        /** Write buffered step metrics to SQLite every N steps (default 10) … */
        flushEverySteps: posInt.default(10),
        /** … or every N seconds, whichever comes first (default 5 s). */
        flushEverySeconds: z.number().positive().default(5),
      })
      .default({ flushEverySteps: 10, flushEverySeconds: 5 }),
    /**
     * Data-parallel workers (default `auto`: every core this run may use; docs/TRAINING.md). Each is a thread with its
     * own backend and supernet replica training an equal shard of every batch, so the batch must divide by it.
     * Only the speed depends on it, not the config: a checkpoint taken with N workers resumes with any M.
     */
    workers: z.union([z.literal('auto'), posInt.max(256)]).default('auto'),
    /** TF.js backend (default `auto`: the best that loads, see engine/backend.ts). */
    backend: z.enum(['auto', ...BACKENDS]).default('auto'),
    /**
     * Which engine trains (default `local`: TF.js in the runner process). `torch`: the PyTorch engine of
     * engines/torch, launched with torchrun from the runner, its progress streamed into the store (docs/TORCH.md).
     */
    engine: z.enum(['local', 'torch', 'slurm']).default('local'),
    /** torch engine: GPUs to train on, one DDP rank each (default 0: the CPU). slurm: GPUs per node. */
    gpus: int.min(0).max(64).default(0),
    /** torch engine on the CPU: DDP ranks (processes; default 1). With GPUs the ranks are the GPUs. slurm: per node. */
    ranks: posInt.max(64).optional(),
    /** slurm engine: the cluster profile (`alphanet clusters`, docs/CLUSTER.md) the run is submitted to. */
    cluster: z.string().min(1).max(64).optional(),
    /** slurm engine: nodes of the allocation (default 1); the ranks are nodes × (gpus or ranks) per node. */
    nodes: posInt.max(1024).default(1),
    /**
     * Fault injection for tests: poison the gradients with NaN at these global steps (1-based), once each per
     * process. Never set by the app or the CLI.
     */
    debug: z
      .strictObject({
        nanAtSteps: z.array(posInt).default([]),
        /** Data-parallel worker 1 dies (exits mid-step) at these global steps (1-based), once each per process. */
        workerExitAtSteps: z.array(posInt).default([]),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const torchRanks = (c.gpus > 0 ? c.gpus : (c.ranks ?? 1)) * (c.engine === 'slurm' ? c.nodes : 1);
    if (c.engine === 'slurm' && !c.cluster) ctx.addIssue({ code: 'custom', path: ['cluster'], message: "engine 'slurm' needs a cluster (alphanet clusters list)" });
    if (c.engine !== 'slurm' && (c.cluster !== undefined || c.nodes !== 1)) {
      ctx.addIssue({ code: 'custom', path: [c.cluster !== undefined ? 'cluster' : 'nodes'], message: "cluster and nodes are settings of engine 'slurm'" });
    }
    if (c.engine !== 'local' && c.batchSize % torchRanks !== 0) {
      ctx.addIssue({ code: 'custom', path: [c.gpus > 0 ? 'gpus' : 'ranks'], message: `batchSize (${c.batchSize}) must divide over ${torchRanks} torch ranks` });
    }
    if (c.engine === 'local' && (c.gpus > 0 || c.ranks !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.gpus > 0 ? 'gpus' : 'ranks'], message: "gpus and ranks are settings of engine 'torch'" });
    }
    if (typeof c.workers === 'number' && c.batchSize % c.workers !== 0) {
      ctx.addIssue({ code: 'custom', path: ['workers'], message: `batchSize (${c.batchSize}) must divide into ${c.workers} equal shards` });
    }
    if (c.optimizer.warmupEpochs > c.epochs) {
      ctx.addIssue({ code: 'custom', path: ['optimizer', 'warmupEpochs'], message: `must not exceed epochs (${c.epochs}), got ${c.optimizer.warmupEpochs}` });
    }
    const d = c.distillation;
    if ((d.kind === 'adaptive-alpha' || d.kind === 'alpha') && d.klWarmupEpochs >= c.epochs) {
      ctx.addIssue({
        code: 'custom',
        path: ['distillation', 'klWarmupEpochs'],
        message: `must be below epochs (${c.epochs}), got ${d.klWarmupEpochs}: the run would distil with KL throughout`,
      });
    }
  });

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
export type DistillationConfig = z.infer<typeof DistillationSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates a config and fills in every default; the error names each bad field. */
export function parseTrainConfig(json: unknown, source = 'training config'): TrainConfig {
  const r = TrainConfigSchema.safeParse(json);
  if (!r.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(r.error)}`);
  if (typeof r.data.space !== 'string') {
    const s = SearchSpaceSchema.safeParse(r.data.space);
    if (!s.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(s.error, 'space.')}`);
  } else {
    try {
      getSpace(r.data.space);
    } catch (e) {
      throw new ConfigError(`invalid ${source}:\nspace: ${(e as Error).message}`);
    }
  }
  return r.data;
}

/** The search space a config names (registered id) or holds (inline). */
export function configSpace(c: TrainConfig): SearchSpace {
  return typeof c.space === 'string' ? getSpace(c.space) : SearchSpaceSchema.parse(c.space);
}

/** The base LR of a config: its own, else the paper's rule 0.1 · max(1, ⌊batch/256⌋). */
export function baseLr(c: TrainConfig): number {
  return c.optimizer.lr ?? 0.1 * Math.max(1, Math.floor(c.batchSize / 256));
}

/**
 * The distillation of the step after `step` steps (0-based): KL while `step` is below the KL warm-up's
 * `klWarmupEpochs × stepsPerEpoch`, else the configured one. The PyTorch engine's `distillation_at` is the same rule.
 */
export function distillationAt(d: DistillationConfig, step: number, stepsPerEpoch: number): DistillationConfig {
  if ((d.kind === 'adaptive-alpha' || d.kind === 'alpha') && step < d.klWarmupEpochs * stepsPerEpoch) return { kind: 'kl' };
  return d;
}

/** A default run name. */
export function defaultRunName(c: TrainConfig): string {
  return c.name ?? `${configSpace(c).id}-${c.dataset}-${c.distillation.kind}`;
}
