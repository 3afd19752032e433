/**
 * The engine that computes a search's evaluations (docs/SEARCH.md, docs/TORCH.md): `local` (TF.js in the search
 * runner, what every search before this migration used) or `torch` (the PyTorch engine's evaluator process). The
 * evaluations themselves stay engine-neutral: both engines compute the same numbers for the same cache key, and
 * `subnet_evaluations.backend` already says what computed each row.
 */
export const sql = `
ALTER TABLE searches ADD COLUMN engine TEXT NOT NULL DEFAULT 'local';
`;
