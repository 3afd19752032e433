/** Where a run keeps its files: `<home>/runs/<id>/` (checkpoints in `checkpoints/`). */
import { join } from 'node:path';

export function runDir(home: string, runId: number): string {
  return join(home, 'runs', String(runId));
}
