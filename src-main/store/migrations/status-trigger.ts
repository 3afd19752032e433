/**
 * The trigger that enforces the job lifecycle (`store/jobs.ts`, `JOB_TRANSITIONS`) in SQL, on a job table's
 * `status` column: migrations 002 (`runs`) and 003 (`searches`) create it. Frozen like the migrations that use it:
 * its text is part of their SQL, so editing it would change shipped migrations. A new lifecycle is a new function
 * and a new migration that drops and recreates the trigger.
 */
export function statusTransitionTrigger(table: 'runs' | 'searches', noun: 'run' | 'search'): string {
  return `CREATE TRIGGER ${table}_status_transition BEFORE UPDATE OF status ON ${table}
WHEN NEW.status <> OLD.status AND NOT (
     (OLD.status = 'queued'  AND NEW.status IN ('running', 'failed', 'cancelled'))
  OR (OLD.status = 'running' AND NEW.status IN ('paused', 'finished', 'failed', 'cancelled'))
  OR (OLD.status = 'paused'  AND NEW.status IN ('running', 'failed', 'cancelled'))
  OR (OLD.status = 'failed'  AND NEW.status = 'running')
)
BEGIN
  SELECT RAISE(ABORT, 'invalid ${noun} status transition');
END;`;
}
