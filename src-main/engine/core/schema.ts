/**
 * Search spaces and genomes as data, validated by one schema.
 *
 * A search space is the paper's `supernet_config` (METHOD.md §3.1) in camelCase JSON: a first conv, a list of
 * MobileNetV3-style MB stages, and a v3 head. Width, kernel and expand ratio are chosen once per stage and shared by
 * every active block of that stage; depth keeps the first d blocks (METHOD.md §3.1).
 *
 * A genome (an architecture, one subnet) has the paper's gene layout:
 * `width` = [first_conv, stage 1 … stage n, last_conv], and one `depth`, `kernelSize`, `expandRatio` per stage.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
/** A non-empty, strictly increasing list of choices. */
const choices = z
  .array(positiveInt)
  .min(1)
  .refine((xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]), 'choices must be strictly increasing');

export const StageSchema = z.strictObject({
  /** Stage name, e.g. `mb3`. */
  name: z.string().min(1),
  /** Output channel choices. */
  width: choices,
  /** Number of blocks choices; the stage runs its first d blocks. */
  depth: choices,
  /** Depthwise kernel choices (odd); smaller kernels are the centre crop of the largest. */
  kernelSize: choices.refine((ks) => ks.every((k) => k % 2 === 1), 'kernel sizes must be odd'),
  /** Expand-ratio choices; a stage whose largest ratio is 1 has no expand conv (METHOD.md §3.2, mb1). */
  expandRatio: choices,
  /** Stride of the stage's first block (1 or 2). */
  stride: z.union([z.literal(1), z.literal(2)]),
  /** Squeeze-and-excitation in every block of the stage. */
  se: z.boolean(),
});

export const SearchSpaceSchema = z
  .strictObject({
    /** Registry id, e.g. `alphanet-imagenet`. Lower-case letters, digits and dashes. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    /** Human-readable description, including why its choices were made. */
    description: z.string().default(''),
    /** Input channels: 3 (RGB) or 1 (grayscale). */
    inputChannels: z.union([z.literal(1), z.literal(3)]),
    /** Classifier outputs. A supernet may override it to fit a dataset. */
    numClasses: positiveInt,
    /** Input resolution choices (square, pixels). */
    resolutions: choices,
    firstConv: z.strictObject({
      width: choices,
      /** Kernel of the first conv (the paper: 3). */
      kernelSize: positiveInt.refine((k) => k % 2 === 1, 'kernel size must be odd'),
      stride: z.union([z.literal(1), z.literal(2)]),
    }),
    stages: z.array(StageSchema).min(1),
    /** Feature-mix (last_conv) width choices, `c_last` in METHOD.md §3.2. */
    lastConv: z.strictObject({ width: choices }),
    /** The v3 head expands the last stage's width by this factor before pooling (the paper: 6). */
    headExpand: positiveInt.default(6),
    /** Batch-norm epsilon (the paper: 1e-5; TF's default 1e-3 is wrong here). */
    bnEps: z.number().positive().default(1e-5),
    /**
     * `per-stage`: every width gene is free (the paper). `multiplier`: one width index is shared by every width
     * gene (a slimmable network's width multiplier); all width lists must then have the same length.
     */
    widthMode: z.enum(['per-stage', 'multiplier']).default('per-stage'),
    /** Drop-connect only on the identity blocks of the last `dropConnectLastStages` stages (the paper: 2). */
    dropConnectLastStages: z.number().int().nonnegative().default(2),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.stages.forEach((st, i) => {
      // A stage either has no expand conv (the only ratio is 1) or always has one; mixing would make the static
      // subnet of a t = 1 genome differ from its supernet path.
      if (st.expandRatio.length > 1 && st.expandRatio[0] === 1) {
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'expandRatio'], message: 'expand ratio 1 may only be the single choice of a stage' });
      }
      if (names.has(st.name)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `duplicate stage name '${st.name}'` });
      names.add(st.name);
    });
    if (s.widthMode === 'multiplier') {
      const n = s.firstConv.width.length;
      const lists: [string, number[]][] = [
        ['firstConv.width', s.firstConv.width],
        ...s.stages.map((st, i): [string, number[]] => [`stages.${i}.width`, st.width]),
        ['lastConv.width', s.lastConv.width],
      ];
      for (const [path, l] of lists) {
        if (l.length !== n) {
          ctx.addIssue({ code: 'custom', path: path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)), message: `widthMode 'multiplier' needs ${n} width choices here (as firstConv.width), got ${l.length}` });
        }
      }
    }
  });

export type StageSpec = z.infer<typeof StageSchema>;
export type SearchSpace = z.infer<typeof SearchSpaceSchema>;
/** What a user writes: defaults may be left out. */
export type SearchSpaceInput = z.input<typeof SearchSpaceSchema>;

export const GenomeSchema = z.strictObject({
  resolution: positiveInt,
  /** [first_conv, stage 1 … stage n, last_conv]. */
  width: z.array(positiveInt),
  depth: z.array(positiveInt),
  kernelSize: z.array(positiveInt),
  expandRatio: z.array(positiveInt),
});
export type Genome = z.infer<typeof GenomeSchema>;

/** Turns a zod error into one line per bad field, each naming the field's path. */
export function formatIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${prefix}${path.replace(/^\./, '') || '(root)'}: ${i.message}`;
    })
    .join('\n');
}

export class SpaceError extends Error {
  override name = 'SpaceError';
}

/** Validates a search space; the error names every bad field. */
export function parseSearchSpace(json: unknown, source = 'search space'): SearchSpace {
  const r = SearchSpaceSchema.safeParse(json);
  if (!r.success) throw new SpaceError(`invalid ${source}:\n${formatIssues(r.error)}`);
  return r.data;
}
