/**
 * Cores a job holds (docs/STORE.md): the job queue fills a budget of cores (settings `jobCores`) rather than running
 * one job at a time. A run holds one core per data-parallel worker, a search one. Set when the queue starts the job,
 * corrected by its runner when it uses fewer; kept afterwards (what the job last ran with). NULL in rows written
 * before this migration: counted as one core.
 */
export const sql = `
ALTER TABLE runs ADD COLUMN cores INTEGER CHECK (cores IS NULL OR cores >= 1);
ALTER TABLE searches ADD COLUMN cores INTEGER CHECK (cores IS NULL OR cores >= 1);
`;
