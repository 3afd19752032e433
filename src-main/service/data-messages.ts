/**
 * Messages between the service and its dataset worker thread (data-worker.ts): one job per worker, given in
 * `workerData`, answered by progress messages and one final `done` or `error`. Validated with zod on receipt: the
 * worker is our code, but a malformed message is a bug to report, not to half-read.
 */
import { z } from 'zod';
import { IMPORT_FORMATS, MAX_FOLDER_SIZE, MIN_FOLDER_SIZE } from '../data/types';

export const DataJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('import'),
    home: z.string().min(1),
    path: z.string().min(1),
    format: z.enum(IMPORT_FORMATS).optional(),
    name: z.string().min(1).optional(),
    valFraction: z.number().min(0).lt(1).optional(),
    size: z.number().int().min(MIN_FOLDER_SIZE).max(MAX_FOLDER_SIZE).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** The served mode's allowed folders: symbolic links out of them are not followed. */
    within: z.array(z.string()).optional(),
  }),
  z.strictObject({ kind: z.literal('demo'), home: z.string().min(1) }),
]);
export type DataJob = z.infer<typeof DataJobSchema>;

export const DataWorkerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('progress'),
    progress: z.strictObject({
      phase: z.enum(['read', 'decode', 'check', 'write']),
      done: z.number(),
      total: z.number(),
      etaSeconds: z.number().nullable(),
    }),
  }),
  /** `datasetId`: the stored (or, when `reused`, the already present) dataset; main reads its row itself. */
  z.strictObject({ type: z.literal('done'), datasetId: z.string(), reused: z.boolean() }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);
export type DataWorkerMessage = z.infer<typeof DataWorkerMessageSchema>;
