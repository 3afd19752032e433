/**
 * Search evaluation on a Slurm cluster (docs/CLUSTER.md "Searching on the cluster"): a search with `engine = 'slurm'`
 * names the cluster profile its evaluation jobs go to and their shape (nodes, ranks per node — the ranks split a
 * generation's candidates — and GPUs per node, 0: the profile's). The name is copied, not referenced, like
 * `cluster_jobs.cluster`: provenance outlives a removed profile. NULL for every other engine.
 */
export const sql = `
ALTER TABLE searches ADD COLUMN cluster TEXT;
ALTER TABLE searches ADD COLUMN cluster_nodes INTEGER CHECK (cluster_nodes IS NULL OR cluster_nodes >= 1);
ALTER TABLE searches ADD COLUMN cluster_ranks INTEGER CHECK (cluster_ranks IS NULL OR cluster_ranks >= 1);
ALTER TABLE searches ADD COLUMN cluster_gpus INTEGER CHECK (cluster_gpus IS NULL OR cluster_gpus >= 0);
`;
