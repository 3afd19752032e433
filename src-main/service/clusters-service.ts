/**
 * The `clusters.*` methods of the workbench API (the settings page's Clusters section): list, add (or replace),
 * remove and test Slurm cluster profiles — the same store functions and checks as `alphanet clusters`.
 */
import type { ApiHandlers } from '../ipc/api-schemas';
import type { Db } from '../store/db';
import { ClusterProfileError, addCluster, getCluster, listClusters, removeCluster } from '../store/clusters';
import { checkCluster } from '../jobs/slurm/check';
import { ApiError } from './errors';

type ClusterHandlers = Pick<ApiHandlers, 'clusters.list' | 'clusters.add' | 'clusters.remove' | 'clusters.test'>;

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
  };
}
