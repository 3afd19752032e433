/**
 * The machine to itself, for timing: a latency lookup table times every layer of a space on this machine, and its
 * entries are only worth something when nothing else shares the CPU (docs/SEARCH.md, "Latency"). `holdMachine`
 * records a hold in the store (`machine_holds`); from then on no job queue of any process sharing the database
 * starts a job (`JobQueue.pump` checks `liveMachineHold`), and the holder waits until the jobs already running have
 * finished — it does not pause them: a run or search stops only when its user says so. Queued jobs keep their
 * place and start once the hold is released.
 */
import type { Db } from '../store/db';
import { addMachineHold, listMachineHolds, removeMachineHold, type MachineHold } from '../store/holds';
import { listRunningJobs, type JobTable } from '../store/jobs';
import { pidAlive } from './runner-process';

/** The oldest hold whose process is alive (dead holders' rows are skipped). */
export function liveMachineHold(db: Db): MachineHold | undefined {
  return listMachineHolds(db).find((h) => pidAlive(h.pid));
}

/** A running job as the holder reports it while it waits. */
export interface RunningJobRef {
  table: JobTable;
  id: number;
}

export interface HoldOptions {
  /** The holding process (default this one). */
  pid?: number;
  /** Look at the running jobs this often, ms (default 1000). */
  pollMs?: number;
  /** Whenever the set of running jobs waited for changes (first call: before waiting at all, if any run). */
  onWaiting?: (jobs: RunningJobRef[]) => void;
  /** Gives up waiting: the hold is removed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Holds the machine for `reason` and resolves, with the function that releases it, once no job is running (two
 * looks `pollMs` apart find none: a queue that had just decided to start a job before the hold was recorded has
 * claimed it by the second look). The hold stays recorded while waiting, so nothing new starts meanwhile.
 */
/**
 * Removes the holds of processes that are gone (a holder killed mid-build: a cancelled latency table). They hold
 * nothing already ({@link liveMachineHold} skips them), but would only confuse whoever reads the rows.
 */
export function clearDeadHolds(db: Db, exceptPid?: number): void {
  for (const h of listMachineHolds(db)) if (h.pid !== exceptPid && !pidAlive(h.pid)) removeMachineHold(db, h.pid);
}

export async function holdMachine(db: Db, reason: string, o: HoldOptions = {}): Promise<() => void> {
  const pid = o.pid ?? process.pid;
  const pollMs = o.pollMs ?? 1000;
  clearDeadHolds(db, pid);
  addMachineHold(db, pid, reason);
  const release = () => removeMachineHold(db, pid);
  try {
    let last = '';
    let clear = 0;
    while (clear < 2) {
      o.signal?.throwIfAborted();
      const running = listRunningJobs(db).filter((j) => pidAlive(j.pid)).map((j) => ({ table: j.table, id: j.id }));
      if (running.length) {
        clear = 0;
        const key = JSON.stringify(running);
        if (key !== last) o.onWaiting?.(running);
        last = key;
      } else {
        clear++;
      }
      if (clear < 2) await new Promise((r) => setTimeout(r, pollMs));
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}

/** `run 3, search 2` for messages. */
export function jobList(jobs: RunningJobRef[]): string {
  return jobs.map((j) => `${j.table === 'runs' ? 'run' : 'search'} ${j.id}`).join(', ');
}
