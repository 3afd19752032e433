/**
 * The `clusters.*` methods of the workbench API (the settings page's Clusters section): list, add (or replace),
 * remove and test Slurm cluster profiles — the same store functions and checks as `alphanet clusters` — and the run
 * page's view of a cluster job's own log.
 */
import type { ApiHandlers } from '../ipc/api-schemas';
import type { Db } from '../store/db';
import { ClusterProfileError, addCluster, getCluster, listClusters, removeCluster } from '../store/clusters';
import { checkCluster } from '../jobs/slurm/check';
import { clusterShell } from '../jobs/slurm/shell';
import { jobLogTail, slurmLogName } from '../jobs/slurm/tracker';
import { listRunClusterJobs } from '../store/cluster-jobs';
import { getRun } from '../store/runs';
import { ApiError } from './errors';
import { clusterJobInfo } from './views';

type ClusterHandlers = Pick<ApiHandlers, 'clusters.list' | 'clusters.add' | 'clusters.remove' | 'clusters.test' | 'clusters.jobLog'>;

/** What the run page shows of a job log unless it asks for another size (bytes). */
const JOB_LOG_BYTES = 64 * 1024;

export function createClusterHandlers(o: { db: Db; env?: NodeJS.ProcessEnv }): ClusterHandlers {
  const { db } = o;
  return {
    'clusters.list': async () => listClusters(db),
    'clusters.add': async (profile, replace) => {
      try {
        return addCluster(db, profile, { replace });
      } catch (e) {
        if (e instanceof ClusterProfileError) throw new ApiError(400, e.message, `profile.${e.field}`);
        throw e;
      }
    },
    'clusters.remove': async (name) => {
      removeCluster(db, name);
    },
    'clusters.test': async (name) => checkCluster(getCluster(db, name), o.env ?? process.env),
    'clusters.jobLog': async (runId, jobId, maxBytes = JOB_LOG_BYTES) => {
      getRun(db, runId); // RunNotFoundError: 404
      const job = listRunClusterJobs(db, runId).find((j) => j.jobId === jobId);
      if (!job) throw new ApiError(404, `run ${runId} has no Slurm job ${jobId}`, 'jobId');
      const profile = listClusters(db).find((c) => c.name === job.cluster);
      if (!profile) throw new ApiError(404, `cluster '${job.cluster}' of job ${jobId} is no longer in Settings → Clusters: add it again to read the log`);
      const path = `${job.remoteDir}/${slurmLogName(jobId)}`;
      // A cluster that does not answer (ssh refused, login node down) is a ClusterShellError: a 400 with its reason.
      const tail = await jobLogTail(clusterShell(profile, o.env ?? process.env), job, maxBytes);
      const bytes = tail?.bytes ?? 0;
      return { jobId, job: clusterJobInfo(job), path, exists: tail !== null, bytes, text: tail?.text ?? '', truncated: bytes > maxBytes, readAt: new Date().toISOString() };
    },
  };
}
