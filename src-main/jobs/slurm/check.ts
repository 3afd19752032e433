/**
 * `alphanet clusters test` and the settings page's Test button: checks a cluster profile one requirement at a time
 * and says precisely what is missing. The checks run in order and stop at the first one the others depend on (no
 * login → nothing else can be checked):
 *   1. login (ssh profiles: `ssh -o BatchMode=yes host true`; local: a shell here);
 *   2. the Slurm commands sbatch, squeue, scontrol, scancel on PATH;
 *   3. the controller answers (`sinfo`);
 *   4. partition, account, GPUs per node and time limit are accepted: `sbatch --test-only` with exactly the options a
 *      run would use (Slurm itself judges them; nothing is queued);
 *   5. the run directory exists or can be made, and is writable;
 *   6. the Python environment: `pythonSetup` runs, python starts, torch and numpy import (the login node's torch;
 *      whether the compute nodes see CUDA is for the job itself to report).
 */
import type { ClusterCheck, ClusterProfile } from '../../store/cluster-profile';
import { clusterShell, lastLine, shPath, shq, type ClusterShell } from './shell';

export const SLURM_COMMANDS = ['sbatch', 'squeue', 'scontrol', 'scancel'] as const;

/** sbatch options every job of this profile carries (partition, account, time, GPUs). */
export function profileSbatchOptions(p: ClusterProfile, gpusPerNode = p.gpusPerNode): string[] {
  return [
    ...(p.partition ? [`--partition=${p.partition}`] : []),
    ...(p.account ? [`--account=${p.account}`] : []),
    ...(p.timeLimit ? [`--time=${p.timeLimit}`] : []),
    ...(gpusPerNode > 0 ? [`--gres=gpu:${gpusPerNode}`] : []),
  ];
}

/** The profile's Python setup followed by `cmd`, stopping if the setup fails. */
export function withPythonSetup(p: Pick<ClusterProfile, 'pythonSetup'>, cmd: string): string {
  const setup = p.pythonSetup.trim();
  // Exit 97 marks the setup's failure; its own stderr says why.
  return setup ? `{ ${setup}\n} || exit 97\n${cmd}` : cmd;
}

export async function checkCluster(p: ClusterProfile, env: NodeJS.ProcessEnv = process.env, shell: ClusterShell = clusterShell(p, env)): Promise<ClusterCheck[]> {
  const checks: ClusterCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    return ok;
  };

  const login = await shell.exec('echo "$(id -un 2>/dev/null || echo "$USER")@$HOSTNAME"', { timeoutMs: 30_000 }).catch((e: Error) => ({ code: 255, stdout: '', stderr: e.message }));
  const loginName = p.transport === 'ssh' ? `ssh login to ${p.sshHost}` : 'shell on this machine';
  if (!add(loginName, login.code === 0, login.code === 0 ? `logged in as ${login.stdout.trim()}` : loginHint(p, login.stderr))) return checks;

  const found = await shell.exec(SLURM_COMMANDS.map((c) => `command -v ${c} >/dev/null || echo ${c}`).join('; '), { timeoutMs: 30_000 });
  const missing = found.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (!add('Slurm commands', missing.length === 0, missing.length === 0 ? SLURM_COMMANDS.join(', ') : `not on PATH ${shell.where === 'this machine' ? 'here' : `on ${p.sshHost}`}: ${missing.join(', ')}${p.transport === 'local' ? ' (install slurm-client, or use an ssh profile for a login node)' : ''}`)) return checks;

  const info = await shell.exec('sinfo -h -o "%P %a %D %G"', { timeoutMs: 60_000 });
  if (!add('Slurm controller', info.code === 0, info.code === 0 ? `partitions: ${info.stdout.trim().split('\n').map((l) => l.split(' ')[0]).join(', ') || 'none'}` : `sinfo failed: ${lastLine(info.stderr)}`)) return checks;

  const opts = profileSbatchOptions(p);
  const testOnly = await shell.exec(`sbatch --test-only --nodes=1 ${opts.map(shq).join(' ')} --wrap=true`, { timeoutMs: 60_000 });
  const what = [p.partition ? `partition ${p.partition}` : 'default partition', ...(p.account ? [`account ${p.account}`] : []), ...(p.gpusPerNode ? [`${p.gpusPerNode} GPU(s) per node`] : []), ...(p.timeLimit ? [`time ${p.timeLimit}`] : [])].join(', ');
  add(`job options (${what})`, testOnly.code === 0, testOnly.code === 0 ? `accepted by sbatch --test-only: ${lastLine(testOnly.stderr, 'ok').replace(/^sbatch:\s*/, '')}` : `refused by Slurm: ${lastLine(testOnly.stderr).replace(/^sbatch: error:\s*/, '')}`);

  const dir = shPath(p.runDir);
  const rd = await shell.exec(`mkdir -p ${dir} && t=${dir}/.alphanet-write-test.$$ && : > "$t" && rm -f "$t" && df -Pk ${dir} | tail -1`, { timeoutMs: 60_000 });
  const freeKb = Number(rd.stdout.trim().split(/\s+/)[3]);
  add(`run directory ${p.runDir}`, rd.code === 0, rd.code === 0 ? `writable${Number.isFinite(freeKb) ? `, ${(freeKb / 2 ** 20).toFixed(1)} GiB free` : ''} (it must be shared with the compute nodes)` : `cannot create or write it: ${lastLine(rd.stderr)}`);

  const py = await shell.exec(
    withPythonSetup(p, `${p.python} -c 'import sys, torch, numpy; print(sys.version.split()[0], torch.__version__, "cuda" if torch.cuda.is_available() else "cpu", numpy.__version__)'`),
    { timeoutMs: 120_000 },
  );
  if (py.code === 0) {
    const [pyv, torchv, dev, npv] = py.stdout.trim().split('\n').pop()!.split(' ');
    add('Python environment', true, `python ${pyv}, torch ${torchv} (${dev} on the login node), numpy ${npv}`);
  } else {
    const err = py.stderr;
    const detail =
      py.code === 97
        ? `the Python setup failed: ${lastLine(err, 'it exited non-zero without a message')}`
        : /No module named '?torch/.test(err)
          ? `torch is not installed for ${p.python}${p.pythonSetup ? ' after the Python setup' : ''} (pip install torch, or set the Python setup to activate an environment that has it)`
          : /No module named '?numpy/.test(err)
            ? `numpy is not installed for ${p.python}`
            : /not found|No such file/.test(err)
              ? `${p.python} not found${p.pythonSetup ? ' after the Python setup' : ''}: ${lastLine(err)}`
              : lastLine(err, `exit code ${py.code}`);
    add('Python environment', false, detail);
  }
  return checks;
}

function loginHint(p: ClusterProfile, stderr: string): string {
  const line = lastLine(stderr, 'no message');
  if (p.transport !== 'ssh') return `cannot start bash here: ${line}`;
  if (/Permission denied/i.test(stderr)) return `ssh refused the login (${line}): the key for ${p.sshHost} must be in your ssh agent or config (no password prompts: BatchMode)`;
  if (/Could not resolve|Name or service not known/i.test(stderr)) return `ssh cannot resolve ${p.sshHost}: add a Host entry to ${p.sshConfig ?? '~/.ssh/config'} (${line})`;
  if (/Host key verification failed/i.test(stderr)) return `the host key of ${p.sshHost} is not known: run \`ssh ${p.sshHost}\` once in a terminal to accept it`;
  return `ssh to ${p.sshHost} failed: ${line}`;
}
