/**
 * Cluster profiles (docs/CLUSTER.md), the rows of the `clusters` table (store/clusters.ts): how the workbench reaches
 * a Slurm cluster and what it asks of it. Node-free (zod only), so the renderer's API types, the argument schemas of
 * both transports, the CLI and the store share one definition and one validation.
 *
 * A profile reaches the cluster either `local`ly (sbatch/squeue/scancel/scontrol on this machine) or over `ssh` to a
 * login node with the user's own ssh config and keys (`ssh [-F sshConfig] sshHost`, BatchMode: never a password
 * prompt, and no password is ever stored). `runDir` is a directory every node of the cluster sees (the jobs read
 * their bundle and write progress and checkpoints there); `pythonSetup` is shell text run before `python`/`torchrun`
 * (e.g. `source ~/venvs/torch/bin/activate` or `module load pytorch`).
 */
import { z } from 'zod';

export const CLUSTER_TRANSPORTS = ['local', 'ssh'] as const;
export type ClusterTransport = (typeof CLUSTER_TRANSPORTS)[number];

/** Slurm's own syntax for partitions and accounts: no spaces, commas or shell characters. */
const slurmName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, _ . - only');
/** `[days-]hours:minutes:seconds` or minutes, as sbatch --time takes it. */
const timeLimit = z.string().regex(/^(\d+-)?\d{1,3}(:\d{2}){0,2}$/, 'Slurm time, e.g. 24:00:00 or 2-00:00:00');

export const ClusterProfileInputSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a name of letters, digits, _ . - (at most 64)'),
    transport: z.enum(CLUSTER_TRANSPORTS),
    /** ssh destination: a Host alias of the user's ssh config, or user@host. */
    sshHost: z
      .string()
      .regex(/^[A-Za-z0-9_.@:-]{1,255}$/, 'an ssh Host alias or user@host')
      .refine((s) => !s.startsWith('-'), 'an ssh Host alias or user@host')
      .nullish(),
    /** An ssh config file other than ~/.ssh/config (`ssh -F`). */
    sshConfig: z.string().min(1).max(4096).nullish(),
    partition: slurmName.nullish(),
    account: slurmName.nullish(),
    gpusPerNode: z.number().int().min(0).max(64).default(0),
    /** Absolute path, on the cluster, of a directory all its nodes share. */
    runDir: z
      .string()
      .min(2)
      .max(4096)
      .refine((s) => s.startsWith('/') || s.startsWith('~/'), 'an absolute path (or ~/…) on the cluster')
      .refine((s) => !/[\n\r'"`$\\]/.test(s.replace(/^~\//, '')), 'no quotes, $, backslashes or newlines'),
    /** Shell text run before python in every job and check. */
    pythonSetup: z.string().max(4096).default(''),
    python: z.string().regex(/^[A-Za-z0-9_./~-]{1,512}$/, 'a command or path').default('python3'),
    timeLimit: timeLimit.nullish(),
  })
  .superRefine((p, ctx) => {
    if (p.transport === 'ssh' && !p.sshHost) ctx.addIssue({ code: 'custom', path: ['sshHost'], message: 'an ssh profile needs a host' });
  });

export type ClusterProfileInput = z.input<typeof ClusterProfileInputSchema>;

export interface ClusterProfile {
  name: string;
  transport: ClusterTransport;
  sshHost: string | null;
  sshConfig: string | null;
  partition: string | null;
  account: string | null;
  gpusPerNode: number;
  runDir: string;
  pythonSetup: string;
  python: string;
  timeLimit: string | null;
  createdAt: string;
}

/** A validated profile (without its creation time), or the first problem as `field: message`. */
export function parseClusterProfile(input: unknown): { ok: true; profile: Omit<ClusterProfile, 'createdAt'> } | { ok: false; field: string; message: string } {
  const r = ClusterProfileInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.join('.') || 'profile';
    return { ok: false, field, message: `${field}: ${issue.message}` };
  }
  const p = r.data;
  return {
    ok: true,
    profile: {
      name: p.name,
      transport: p.transport,
      sshHost: p.transport === 'ssh' ? (p.sshHost ?? null) : null,
      sshConfig: p.transport === 'ssh' ? (p.sshConfig ?? null) : null,
      partition: p.partition ?? null,
      account: p.account ?? null,
      gpusPerNode: p.gpusPerNode,
      runDir: p.runDir.replace(/\/+$/, ''),
      pythonSetup: p.pythonSetup,
      python: p.python,
      timeLimit: p.timeLimit ?? null,
    },
  };
}

/** One line per check of `alphanet clusters test` / the settings page's Test button. */
export interface ClusterCheck {
  /** What was checked, e.g. "ssh login", "partition gpu". */
  name: string;
  ok: boolean;
  /** What was found, or precisely what is missing and how to fix it. */
  detail: string;
}
