/**
 * `alphanet clusters add|list|test|remove`: Slurm cluster profiles (docs/CLUSTER.md), stored in the home's database
 * so the app's settings page lists the same ones. `test` runs every check of jobs/slurm/check.ts and exits 1 when
 * one fails, naming precisely what is missing.
 */
import type { Command } from 'commander';
import { addCluster, getCluster, listClusters, removeCluster } from '../store/clusters';
import type { ClusterProfile } from '../store/cluster-profile';
import { checkCluster } from '../jobs/slurm/check';
import { nonNegInt } from './args';
import type { CliContext } from './context';
import { CliError } from './errors';

interface AddOptions {
  local?: boolean;
  ssh?: string;
  sshConfig?: string;
  runDir: string;
  partition?: string;
  account?: string;
  gpusPerNode?: number;
  pythonSetup?: string;
  python?: string;
  time?: string;
  replace?: boolean;
}

/** One profile in a few lines. */
export function formatCluster(c: ClusterProfile): string {
  return [
    `${c.name}: ${c.transport === 'local' ? 'Slurm commands on this machine' : `ssh ${c.sshHost}${c.sshConfig ? ` (config ${c.sshConfig})` : ''}`}`,
    `  partition ${c.partition ?? '(default)'} · account ${c.account ?? '(default)'} · ${c.gpusPerNode} GPU(s) per node · time ${c.timeLimit ?? '(partition default)'}`,
    `  run directory ${c.runDir}`,
    `  python ${c.python}${c.pythonSetup ? ` after: ${c.pythonSetup.replace(/\n/g, '; ')}` : ''}`,
  ].join('\n');
}

export function registerClusterCommands(program: Command, ctx: CliContext): void {
  const { print, withDb } = ctx;

  const cl = program.command('clusters').description('Slurm cluster profiles: add, list, test, remove (docs/CLUSTER.md)');

  cl.command('add')
    .description('add a Slurm cluster reached on this machine (--local) or through ssh to a login node (--ssh HOST)')
    .argument('<name>', 'the name runs use: alphanet train --engine slurm --cluster <name>')
    .option('--local', 'sbatch/squeue/scancel/scontrol run on this machine')
    .option('--ssh <host>', 'a login node: a Host alias of your ssh config, or user@host (your own keys; no password is stored)')
    .option('--ssh-config <file>', 'an ssh config file other than ~/.ssh/config')
    .requiredOption('--run-dir <dir>', 'a directory on the cluster that every node sees (run bundles, progress, checkpoints)')
    .option('--partition <name>', 'Slurm partition (default: the cluster\'s default)')
    .option('--account <name>', 'Slurm account to charge')
    .option('--gpus-per-node <n>', 'GPUs to request per node (0: CPU only)', nonNegInt('--gpus-per-node'))
    .option('--python-setup <shell>', 'shell text run before python, e.g. "source ~/venv/bin/activate" or "module load pytorch"')
    .option('--python <cmd>', 'the python command (default python3)')
    .option('--time <limit>', 'time limit of each job, e.g. 24:00:00')
    .option('--replace', 'replace a profile of the same name')
    .action((name: string, o: AddOptions) =>
      withDb((db) => {
        if (Boolean(o.local) === Boolean(o.ssh)) throw new CliError('give exactly one of --local or --ssh <host>');
        const c = addCluster(
          db,
          {
            name,
            transport: o.local ? 'local' : 'ssh',
            sshHost: o.ssh,
            sshConfig: o.sshConfig,
            partition: o.partition,
            account: o.account,
            gpusPerNode: o.gpusPerNode,
            runDir: o.runDir,
            pythonSetup: o.pythonSetup,
            python: o.python,
            timeLimit: o.time,
          },
          { replace: o.replace },
        );
        print(c, () => `${formatCluster(c)}\ncheck it with: alphanet clusters test ${c.name}`);
      }),
    );

  cl.command('list')
    .description('list the cluster profiles')
    .action(() =>
      withDb((db) => {
        const all = listClusters(db);
        print(all, () => (all.length ? all.map(formatCluster).join('\n\n') : 'no clusters yet: alphanet clusters add <name> --local|--ssh <host> --run-dir <dir>'));
      }),
    );

  cl.command('test')
    .description('check login, Slurm commands, partition/account/GPUs, the run directory and the Python environment; exit 1 if one fails')
    .argument('<name>')
    .action(async (name: string) => {
      const c = await withDb((db) => getCluster(db, name));
      const checks = await checkCluster(c, ctx.io.env);
      const ok = checks.every((k) => k.ok) && checks.length > 0;
      print({ cluster: c.name, ok, checks }, () => [...checks.map((k) => `${k.ok ? 'ok  ' : 'FAIL'}  ${k.name}: ${k.detail}`), ...(ok ? [`${c.name} is ready`] : [])].join('\n'));
      if (!ok) throw new CliError(`cluster ${c.name} is not ready: ${checks.filter((k) => !k.ok).map((k) => k.name).join(', ')} failed`);
    });

  cl.command('remove')
    .description('remove a cluster profile (runs submitted to it keep their provenance)')
    .argument('<name>')
    .action((name: string) =>
      withDb((db) => {
        removeCluster(db, name);
        print({ removed: name }, () => `removed cluster ${name}`);
      }),
    );
}
