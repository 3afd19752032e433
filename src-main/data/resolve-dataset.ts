/**
 * The dataset a run's config names, without the loaders (and so without TF.js): the RunManager resolves it on
 * enqueue in the parent process — the Electron main process in the app, which never computes — and the runner
 * again when it starts.
 */
import type { Db } from '../store/db';
import { ensureDemoDataset } from './demo';
import { getDataset } from './files';
import type { DatasetInfo } from './types';

/** The dataset with this id or name; `demo` is generated on first use. Throws the store's error for an unknown one. */
export async function resolveDataset(home: string, db: Db, idOrName: string): Promise<DatasetInfo> {
  if (idOrName === 'demo') return ensureDemoDataset(home, db);
  return getDataset(db, idOrName);
}
