/**
 * `clusters.jobLog`, the run page's view of a cluster job's own Slurm log (fast: a local profile, so the shell is
 * bash on this machine and the log a real file): its end up to the cap with the file's size, a log not written yet,
 * the refusals (no such job, a profile removed, a login node that cannot be reached), each with its status. The same
 * read over ssh against a real sshd is in e2e-chain.test.ts (slow).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src-main/store/db';
import { addCluster, removeCluster } from '../../../src-main/store/clusters';
import { insertClusterJob } from '../../../src-main/store/cluster-jobs';
import { createRun } from '../../../src-main/store/runs';
import { createClusterHandlers } from '../../../src-main/service/clusters-service';
import { toApiError } from '../../../src-main/service/errors';

const dir = mkdtempSync(join(tmpdir(), 'alphanet-job-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  const db = openDatabase(':memory:');
  addCluster(db, { name: 'here', transport: 'local', runDir: dir });
  const runId = createRun(db, { name: 'r', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
  const remoteDir = join(dir, `run-${runId}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(remoteDir);
  const job = (jobId: string, cluster = 'here') =>
    insertClusterJob(db, { cluster, kind: 'train', runId, jobId, remoteDir, nodes: 2, gpusPerNode: 0, ranksPerNode: 2 });
  return { db, runId, remoteDir, job, h: createClusterHandlers({ db }) };
}

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).not.toBeNull();
  return toApiError(e);
};

describe('clusters.jobLog', () => {
  it('answers the end of the log up to the cap, with its size and the job as last seen', async () => {
    const { runId, remoteDir, job, h } = setup();
    job('4711');
    const lines = Array.from({ length: 200 }, (_, i) => `rank ${i % 2}: step ${i + 1} loss 2.${i}`).join('\n') + '\n';
    writeFileSync(join(remoteDir, 'slurm-4711.out'), lines);
    const all = await h['clusters.jobLog'](runId, '4711');
    expect(all).toMatchObject({ jobId: '4711', path: `${remoteDir}/slurm-4711.out`, exists: true, bytes: Buffer.byteLength(lines), text: lines, truncated: false });
    expect(all.job).toMatchObject({ cluster: 'here', jobId: '4711', nodes: 2, ranksPerNode: 2, state: 'SUBMITTED', outcome: null });
    expect(Date.now() - Date.parse(all.readAt)).toBeLessThan(60_000);
    const end = await h['clusters.jobLog'](runId, '4711', 100);
    expect(end).toMatchObject({ bytes: Buffer.byteLength(lines), truncated: true, text: lines.slice(-100) });
  });

  it('a job that has not started has no log yet; unknown jobs, removed profiles and unreachable login nodes are refused', async () => {
    const { db, runId, job, h } = setup();
    job('12');
    expect(await h['clusters.jobLog'](runId, '12')).toMatchObject({ exists: false, bytes: 0, text: '', truncated: false });
    expect(await refusal(h['clusters.jobLog'](runId, '13'))).toEqual({ status: 404, error: { message: `run ${runId} has no Slurm job 13`, field: 'jobId' } });
    expect((await refusal(h['clusters.jobLog'](runId + 1, '12'))).status).toBe(404);
    addCluster(db, { name: 'gone', transport: 'local', runDir: dir });
    job('14', 'gone');
    removeCluster(db, 'gone');
    expect(await refusal(h['clusters.jobLog'](runId, '14'))).toEqual({
      status: 404,
      error: { message: "cluster 'gone' of job 14 is no longer in Settings → Clusters: add it again to read the log" },
    });
    addCluster(db, { name: 'far', transport: 'ssh', sshHost: 'login.alphanet-test.invalid', runDir: '/scratch' });
    job('15', 'far');
    const far = await refusal(h['clusters.jobLog'](runId, '15'));
    expect(far.status).toBe(400);
    expect(far.error.message).toMatch(/^reading the log of job 15 failed on ssh login\.alphanet-test\.invalid: .*(resolve|not known)/);
  }, 60_000);
});
