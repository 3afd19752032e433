/**
 * What the trainer reports: a step's progress and an epoch's validation, as zod schemas because they also travel as
 * runner messages (jobs/run-messages.ts) and are validated on receipt.
 */
import { z } from 'zod';

/**
 * `arch`: the member's genome id (engine `genomeId`); `divergence`: a distilled member's divergence to the teacher
 * (engine `MemberResult.divergence`; null when not finite).
 */
const MemberLoss = z.strictObject({ role: z.string(), loss: z.number().nullable(), arch: z.string().optional(), divergence: z.number().nullable().optional() });

export const ProgressSchema = z.strictObject({
  type: z.literal('progress'),
  runId: z.number(),
  step: z.number(),
  totalSteps: z.number(),
  epoch: z.number(),
  batch: z.number(),
  /** Loss of each sandwich member, in order (max, random…, min). */
  losses: z.array(MemberLoss),
  lr: z.number(),
  imagesPerSec: z.number(),
  /** Data-parallel workers sharing each batch (images/s per worker = imagesPerSec / workers). */
  workers: z.number().int().positive().optional(),
  /** Seconds to the end of training at the recent speed (validation not included). */
  etaSec: z.number(),
  /** Share of distilled samples where α₋ won (adaptive-alpha only). */
  alphaMinShare: z.number().nullable(),
  /** Share of gradient entries clipped this window. */
  clippedShare: z.number(),
  /** Non-finite losses or gradient entries seen so far in this process. */
  nonFinite: z.number(),
  rollbacks: z.number(),
});
export type Progress = z.infer<typeof ProgressSchema>;

export const EpochSchema = z.strictObject({
  type: z.literal('epoch'),
  runId: z.number(),
  epoch: z.number(),
  step: z.number(),
  /**
   * Per validated subnet (`min`, `max`, `random-1`…): top-1 and mean cross-entropy on val after BN recalibration
   * (`valTop1`, `valLoss`) and before it, with the supernet's running statistics as training leaves them
   * (`valTop1Before`, `valLossBefore`; METHOD.md §4).
   */
  subnets: z.array(
    z.strictObject({ subnet: z.string(), mflops: z.number(), valTop1: z.number(), valLoss: z.number(), valTop1Before: z.number(), valLossBefore: z.number() }),
  ),
  seconds: z.number(),
});
export type EpochReport = z.infer<typeof EpochSchema>;
