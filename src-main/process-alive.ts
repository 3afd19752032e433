/**
 * Whether a process is alive — for stale jobs (jobs/) and for temporary files left by a killed process (an import's
 * `.tmp-<pid>-…` folder, an export's `.<name>.export-<pid>-…` folder). A leaf module: every layer may use it.
 */
import { readFileSync } from 'node:fs';

/**
 * Whether a process is alive. Signal 0 checks that the PID exists (EPERM: it exists under another user), but a
 * process that has exited and not yet been reaped by its parent — a zombie, common right after a crash where PID 1
 * (a container's shell, say) does not reap orphans quickly — still has its PID: on Linux its state in
 * /proc/<pid>/stat is then `Z` (or `X`), and it counts as gone, so a crashed runner's job can be resumed.
 */
export function pidAlive(pid: number | null): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** True when /proc says `pid` is a zombie or dead; false where there is no /proc (other systems) or no such entry. */
export function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // `pid (comm) state …`: comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** The PID in a temporary name `<prefix><pid>-…`, or null. */
export function pidOfTempName(name: string, prefix: string): number | null {
  if (!name.startsWith(prefix)) return null;
  const m = /^(\d+)-/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : null;
}
