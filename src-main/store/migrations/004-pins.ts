/**
 * Pinned subnets: the user pins an evaluated subnet in the Pareto explorer to keep it on top of lists and
 * draw it apart. A flag on the evaluation itself, so a pin follows the subnet wherever it is listed (every search
 * that reached it, the run's front) and goes away with the run (the evaluations cascade from `runs`).
 */
export const sql = `
ALTER TABLE subnet_evaluations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
CREATE INDEX subnet_evaluations_pinned ON subnet_evaluations(run_id) WHERE pinned = 1;
`;
