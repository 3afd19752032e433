/**
 * Schema migrations, in order: migration i brings `user_version` from i to i + 1. Never edit a migration that has
 * shipped; add a new one. docs/STORE.md describes the resulting schema.
 */
import { sql as datasets } from './001-datasets';
import { sql as runs } from './002-runs';
import { sql as search } from './003-search';
import { sql as pins } from './004-pins';
import { sql as valBefore } from './005-val-before';
import { sql as predictors } from './006-predictors';
import { sql as clusters } from './007-clusters';
import { sql as jobCores } from './008-job-cores';
import { sql as clusterJobs } from './009-cluster-jobs';
import { sql as searchEngine } from './010-search-engine';
import { sql as searchWorkers } from './011-search-workers';
import { sql as searchCluster } from './012-search-cluster';
import { sql as jobWaiters } from './013-job-waiters';

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { name: '001-datasets', sql: datasets },
  { name: '002-runs', sql: runs },
  { name: '003-search', sql: search },
  { name: '004-pins', sql: pins },
  { name: '005-val-before', sql: valBefore },
  { name: '006-predictors', sql: predictors },
  { name: '007-clusters', sql: clusters },
  { name: '008-job-cores', sql: jobCores },
  { name: '009-cluster-jobs', sql: clusterJobs },
  { name: '010-search-engine', sql: searchEngine },
  { name: '011-search-workers', sql: searchWorkers },
  { name: '012-search-cluster', sql: searchCluster },
  { name: '013-job-waiters', sql: jobWaiters },
];
