/**
 * The typed messages between the parent (RunManager) and the runner process, validated with zod on receipt in both
 * directions: a malformed message is a bug, reported as such instead of being half-understood.
 */
import { z } from 'zod';
import { EpochSchema, ProgressSchema } from '../train/progress';

export { EpochSchema, ProgressSchema, type EpochReport, type Progress } from '../train/progress';

export const ParentToRunnerSchema = z.discriminatedUnion('type', [
  /** Train run `runId` of the database in `home` (the row holds the config). `resume`: continue from its checkpoint. */
  z.strictObject({
    type: z.literal('start'),
    home: z.string().min(1),
    runId: z.number().int().positive(),
    resume: z.boolean(),
    /** Cores the queue gave the run: at most this many data-parallel workers (default: every core). */
    cores: z.number().int().positive().optional(),
  }),
  /** Stop after the current step with a checkpoint; the run becomes `paused`. */
  z.strictObject({ type: z.literal('pause') }),
  /** Stop after the current step; the run becomes `cancelled`. */
  z.strictObject({ type: z.literal('cancel') }),
  /**
   * The parent is going away: a Slurm run stops following its job and leaves it running (the run stays `running`
   * for the next workbench to adopt); any other run pauses as for `pause`.
   */
  z.strictObject({ type: z.literal('detach') }),
]);
export type ParentToRunner = z.infer<typeof ParentToRunnerSchema>;

export const RunnerToParentSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.number() }),
  ProgressSchema,
  EpochSchema,
  z.strictObject({ type: z.literal('event'), runId: z.number(), kind: z.string(), message: z.string(), step: z.number().optional() }),
  z.strictObject({
    type: z.literal('done'),
    runId: z.number(),
    status: z.enum(['finished', 'paused', 'cancelled', 'failed']),
    step: z.number(),
    error: z.string().optional(),
    /** Time spent writing metrics to SQLite, as a share of training-step time. */
    persistShare: z.number().optional(),
  }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);
export type RunnerToParent = z.infer<typeof RunnerToParentSchema>;
