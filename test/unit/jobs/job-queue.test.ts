/**
 * The job machinery both managers share (jobs/job-manager.ts), driven with fake runner handles on a real store, so
 * every path runs in milliseconds: slots (this process's and other processes'), claim, start message, relay, the
 * exit check, a runner that cannot start, stale recovery, pause/cancel by message and through the control column,
 * adoption of other processes' queued jobs, and the refusals. The real runners are exercised end to end by
 * test/unit/train/runner.test.ts and test/unit/search/search-manager.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobQueue, type JobControlMessage, type JobKind, type JobNoteKind } from '../../../src-main/jobs/job-manager';
import type { RunnerHandle } from '../../../src-main/jobs/runner-process';
import { openDatabase, type Db } from '../../../src-main/store/db';
import { detachJob, listWaitingJobs, readJobControl, setJobRuntime, setJobWaiter, transitionJob } from '../../../src-main/store/jobs';
import { addMachineHold, listMachineHolds } from '../../../src-main/store/holds';
import { holdMachine, jobList, liveMachineHold } from '../../../src-main/jobs/machine-hold';
import { createRun, getRun, listRuns, type RunRow } from '../../../src-main/store/runs';

class FakeError extends Error {}

type Start = { type: 'start'; id: number; resume: boolean };

/** A runner that does nothing by itself: the test sends its messages and decides when it exits. */
class FakeRunner implements RunnerHandle<Start | JobControlMessage> {
  readonly sent: (Start | JobControlMessage)[] = [];
  private message: (m: unknown) => void = () => undefined;
  private exitCb: (code: number | null, signal: string | null, detail: string) => void = () => undefined;
  constructor(readonly pid: number | undefined = undefined) {}
  send(m: Start | JobControlMessage): void {
    this.sent.push(m);
  }
  onMessage(cb: (m: unknown) => void): void {
    this.message = cb;
  }
  onExit(cb: (code: number | null, signal: string | null, detail: string) => void): void {
    this.exitCb = cb;
  }
  kill(): void {}
  say(m: unknown): void {
    this.message(m);
  }
  exit(code: number | null, signal: string | null = null, detail = ''): void {
    this.exitCb(code, signal, detail);
  }
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill();
});

function setup(o: { maxConcurrent?: number; cores?: number; want?: (row: RunRow, free: number) => number; adoptQueued?: boolean; pollMs?: number; spawn?: () => FakeRunner; db?: Db; adoptable?: (row: RunRow) => boolean } = {}) {
  const db = o.db ?? openDatabase(join(mkdtempSync(join(tmpdir(), 'job-queue-')), 'alphanet.db'));
  const runners: FakeRunner[] = [];
  const relayed: [number, unknown][] = [];
  const statuses: [number, string][] = [];
  const notes: [number, JobNoteKind, string][] = [];
  const kind: JobKind<RunRow, Start> = {
    table: 'runs',
    runner: 'the fake runner',
    resumesFrom: 'where it was',
    error: FakeError,
    get: getRun,
    list: (d, status) => listRuns(d, { status }),
    defaultSpawn: () => {
      const r = new FakeRunner();
      runners.push(r);
      return r;
    },
    startMessage: (_home, id, resume) => ({ type: 'start', id, resume }),
    relay: (id, raw) => relayed.push([id, raw]),
    status: (row) => statuses.push([row.id, row.status]),
    note: (_db, row, k, message) => notes.push([row.id, k, message]),
    ...(o.want ? { cores: o.want } : {}),
    ...(o.adoptable ? { adoptable: (_db: Db, row: RunRow) => o.adoptable!(row) } : {}),
  };
  const q = new JobQueue(kind, { home: '/nowhere', db, maxConcurrent: o.maxConcurrent, cores: o.cores ?? 2, adoptQueued: o.adoptQueued, pollMs: o.pollMs, spawn: o.spawn });
  const mk = () => createRun(db, { name: 'r', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
  return { db, q, runners, relayed, statuses, notes, mk };
}

/** A live process that is not this one (a job "running elsewhere"). */
function otherProcess(): number {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('JobQueue', () => {
  it('runs at most maxConcurrent jobs; the next starts when one ends; relays messages; resolves waiters', async () => {
    const { db, q, runners, relayed, statuses, mk } = setup({ maxConcurrent: 2 });
    const [a, b, c] = [mk(), mk(), mk()];
    for (const id of [a, b, c]) q.add(id);
    expect(q.activeIds).toEqual([a, b]);
    expect(runners.map((r) => r.sent[0])).toEqual([
      { type: 'start', id: a, resume: false },
      { type: 'start', id: b, resume: false },
    ]);
    expect(getRun(db, a)).toMatchObject({ status: 'running', pid: process.pid, control: null, wantsResume: false });
    expect(getRun(db, c).status).toBe('queued');
    runners[0].say({ type: 'hello' });
    expect(relayed).toEqual([[a, { type: 'hello' }]]);
    // Job a ends the way a runner ends it: it writes its final status, then exits.
    const done = q.waitFor(a);
    expect(transitionJob(db, 'runs', a, 'finished', { pid: null }, ['running'])).toBe(true);
    runners[0].exit(0);
    expect(await done).toMatchObject({ id: a, status: 'finished', error: null });
    expect(q.activeIds).toEqual([b, c]);
    expect(statuses).toEqual(expect.arrayContaining([[a, 'running'], [a, 'finished'], [c, 'running']]));
    expect((await q.waitFor(a)).status).toBe('finished'); // not waiting: answered at once
    q.close();
  });

  it('counts live jobs of other processes against the slots, and looks again every pollMs', async () => {
    const { db, q, mk } = setup({ maxConcurrent: 1, pollMs: 20 });
    const elsewhere = mk();
    transitionJob(db, 'runs', elsewhere, 'running', { pid: otherProcess() });
    const mine = mk();
    q.add(mine);
    expect(getRun(db, mine).status).toBe('queued');
    transitionJob(db, 'runs', elsewhere, 'finished', { pid: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(getRun(db, mine).status).toBe('running');
    q.close();
  });

  it('a runner that exits while its job is still running fails the job with the reason; one that cannot start too', async () => {
    const { db, q, runners, notes, mk } = setup();
    const id = mk();
    q.add(id);
    const failed = q.waitFor(id);
    runners[0].exit(null, 'SIGKILL', 'Killed\nout of memory');
    const row = await failed;
    expect(row).toMatchObject({ status: 'failed', pid: null, control: null });
    expect(row.error).toBe('the fake runner exited on signal SIGKILL without finishing the run: Killed\nout of memory; resume continues from where it was');
    expect(notes).toEqual([[id, 'fail', row.error]]);
    q.close();

    const broken = setup({
      db,
      spawn: () => {
        throw new Error('no binary');
      },
    });
    const id2 = broken.mk();
    broken.q.add(id2);
    expect(await broken.q.waitFor(id2)).toMatchObject({ status: 'failed', error: 'could not start the fake runner: no binary' });
    expect(broken.notes).toEqual([[id2, 'fail', 'could not start the fake runner: no binary']]);
    broken.q.close();
    // A failed job resumes: the claim moves it back to running and the runner is told to resume.
    const again = setup({ db });
    expect(again.q.resume(id2)).toMatchObject({ status: 'running', error: null, wantsResume: false });
    expect(again.runners[0].sent[0]).toEqual({ type: 'start', id: id2, resume: true });
    again.q.close();
  });

  it('recovers stale jobs at construction: running with their process gone → failed, with a note', () => {
    const first = setup();
    const stale = first.mk();
    const live = first.mk();
    transitionJob(first.db, 'runs', stale, 'running', { pid: deadPid() });
    transitionJob(first.db, 'runs', live, 'running', { pid: otherProcess() });
    first.q.close();
    const { db, q, notes } = setup({ db: first.db });
    expect(getRun(db, stale)).toMatchObject({ status: 'failed', pid: null });
    expect(getRun(db, stale).error).toMatch(/^the fake runner \(pid \d+\) is gone: it crashed or was killed; resume continues from where it was$/);
    expect(notes.map(([id, k]) => [id, k])).toEqual([[stale, 'stale']]);
    expect(getRun(db, live).status).toBe('running'); // its process lives: not ours to touch
    expect(q.recoverStale()).toEqual([]);
    q.close();
  });

  it('pause and cancel: by message to its own runners, through the control column for the others; refusals', () => {
    const { db, q, runners, notes, mk } = setup({ maxConcurrent: 1 });
    const running = mk();
    const queued = mk();
    q.add(running);
    q.add(queued);
    q.pause(running);
    expect(runners[0].sent.at(-1)).toEqual({ type: 'pause' });
    expect(readJobControl(db, 'runs', running)).toBe('pause');
    q.cancel(running);
    expect(runners[0].sent.at(-1)).toEqual({ type: 'cancel' });
    expect(readJobControl(db, 'runs', running)).toBe('cancel');
    // A queued job is cancelled at once, and no longer waits for a slot.
    expect(q.cancel(queued)).toMatchObject({ status: 'cancelled', wantsResume: false });
    expect(notes).toEqual([[queued, 'cancel', 'cancelled while queued']]);
    expect(() => q.cancel(queued)).toThrow(new FakeError(`run ${queued} is cancelled; nothing to cancel`));
    expect(() => q.pause(queued)).toThrow(`run ${queued} is cancelled; only a running run can be paused`);
    expect(() => q.resume(running)).toThrow(`run ${running} is running; only a paused or failed run can be resumed`);
    // A job running in another process is reached through the store only.
    const elsewhere = mk();
    transitionJob(db, 'runs', elsewhere, 'running', { pid: otherProcess() });
    q.pause(elsewhere);
    expect(readJobControl(db, 'runs', elsewhere)).toBe('pause');
    expect(runners).toHaveLength(1);
    // pauseAll asks its own runners only, and skips one that stopped meanwhile.
    transitionJob(db, 'runs', running, 'paused', { control: null });
    expect(q.pauseAll()).toEqual([running]);
    q.close();
  });

  it('adopts queued and resumable jobs of other processes only when asked to', () => {
    const base = setup();
    const other = base.mk(); // queued by "another process": never added to this queue
    base.q.pump();
    expect(getRun(base.db, other).status).toBe('queued');
    base.q.close();
    const app = setup({ db: base.db, adoptQueued: true });
    app.q.pump();
    expect(getRun(app.db, other).status).toBe('running');
    expect(app.q.activeIds).toEqual([other]);
    app.q.close();
  });

  it('work that goes on elsewhere: stopAll detaches it (the others pause), a later manager adopts it instead of failing it', async () => {
    // "Elsewhere": the run's config says so (for runs: an open Slurm job).
    const adoptable = (row: RunRow) => (row.config as { remote?: boolean }).remote === true;
    const first = setup({ adoptable });
    const make = (remote: boolean) => createRun(first.db, { name: 'r', config: { remote }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    const [remote, local] = [make(true), make(false)];
    first.q.add(remote);
    first.q.add(local);
    expect(first.q.stopAll()).toEqual([remote, local]);
    expect(first.runners.map((r) => r.sent.at(-1))).toEqual([{ type: 'detach' }, { type: 'pause' }]);
    // The detached runner exits leaving its job running without a pid (as the run runner does): no failure.
    const left = first.q.waitFor(remote);
    expect(detachJob(first.db, 'runs', remote)).toBe(true);
    first.runners[0].exit(0);
    expect(await left).toMatchObject({ status: 'running', pid: null, error: null });
    // Nothing new starts in a manager that is stopping, not even the adoption of what it just left.
    const queued = make(false);
    first.q.add(queued);
    expect(getRun(first.db, queued).status).toBe('queued');
    transitionJob(first.db, 'runs', local, 'paused', { pid: null, control: null }, ['running']);
    first.runners[1].exit(0);
    expect(first.runners).toHaveLength(2);
    first.q.close();

    // A manager that does not adopt (the CLI) neither fails it nor starts it.
    const cli = setup({ db: first.db, adoptable });
    cli.q.pump();
    expect(cli.notes).toEqual([]);
    expect(getRun(cli.db, remote)).toMatchObject({ status: 'running', pid: null });
    expect(cli.runners).toHaveLength(0);
    cli.q.close();
    // The app adopts it: claimed with its pid, a runner told to resume, one core.
    const app = setup({ db: first.db, adoptable, adoptQueued: true, spawn: () => new FakeRunner(4242) });
    app.q.pump();
    expect(getRun(app.db, remote)).toMatchObject({ status: 'running', pid: 4242 });
    expect(app.q.activeIds).toContain(remote);
    // The same job whose runner's process is gone (the app died): a second manager adopts it exactly once.
    setJobRuntime(app.db, 'runs', remote, { pid: deadPid() });
    const again = setup({ db: first.db, adoptable, adoptQueued: true });
    const twice = setup({ db: first.db, adoptable, adoptQueued: true });
    again.q.pump();
    twice.q.pump();
    expect([again.q.activeIds.includes(remote), twice.q.activeIds.includes(remote)]).toEqual([true, false]);
    expect(again.runners.find((r) => r.sent[0] && (r.sent[0] as Start).id === remote)?.sent[0]).toEqual({ type: 'start', id: remote, resume: true });
    // Adopted every time, never marked stale.
    expect(again.notes.filter(([id]) => id === remote)).toEqual([]);
    for (const m of [app, again, twice]) m.q.close();
  });

  it('refuses a bad maxConcurrent or cores with the manager error, before opening anything', () => {
    expect(() => setup({ maxConcurrent: 0 })).toThrow(new FakeError('maxConcurrent must be a positive integer, got 0'));
    expect(() => setup({ maxConcurrent: 1.5 })).toThrow(FakeError);
    expect(() => setup({ cores: 0 })).toThrow(new FakeError('cores must be a positive integer, got 0'));
  });

  it('fills a budget of cores: 1-core jobs side by side; a bigger one waits its turn for free cores (first come, first served)', async () => {
    // The job's config names the cores it wants ("auto": what is free).
    const want = (row: RunRow, free: number) => ((row.config as { cores?: number }).cores ?? free);
    const { db, q, runners, mk } = setup({ cores: 2, want, pollMs: 20 });
    const make = (cores?: number) => createRun(db, { name: 'r', config: cores ? { cores } : {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    const [a, b, c, d] = [make(1), make(1), make(2), make(1)];
    for (const id of [a, b, c, d]) q.add(id);
    expect(q.activeIds).toEqual([a, b]); // two 1-core jobs side by side on two cores
    expect([getRun(db, a).cores, getRun(db, b).cores]).toEqual([1, 1]);
    const end = (i: number, id: number) => {
      transitionJob(db, 'runs', id, 'finished', { pid: null }, ['running']);
      runners[i].exit(0);
    };
    end(0, a);
    expect(getRun(db, c).status).toBe('queued'); // one core free, it wants two: d (behind it) waits too
    expect(getRun(db, d).status).toBe('queued');
    end(1, b);
    expect(q.activeIds).toEqual([c]);
    expect(getRun(db, c).cores).toBe(2);
    end(2, c);
    expect(q.activeIds).toEqual([d]);
    // "auto" takes every free core; one asking for more than the whole budget runs alone rather than never.
    const e = make();
    const f = make(3);
    q.add(e);
    expect(getRun(db, e)).toMatchObject({ status: 'running', cores: 1 }); // d holds the other core
    q.add(f);
    end(3, d);
    expect(getRun(db, f).status).toBe('queued');
    end(4, e);
    expect(getRun(db, f)).toMatchObject({ status: 'running', cores: 3 });
    q.close();
  });

  it('counts the cores of every job table and process: a search running elsewhere holds one', async () => {
    const { db, q, mk } = setup({ cores: 2, want: () => 2, pollMs: 20 });
    const search = db
      .prepare(
        `INSERT INTO searches (run_id, name, kind, config, budget, objective, split, calibration_batches, calibration_batch_size, calibration_seed,
           checkpoint_path, checkpoint_sha256, checkpoint_step, backend_request, total, app_version, status, created_at, updated_at)
         VALUES (?, 's', 'evolution', '{}', '{}', 'mflops', 'val', 1, 1, 0, '/x', 'h', 0, 'auto', 1, 't', 'queued', 't', 't')`,
      )
      .run(mk()).lastInsertRowid as number;
    transitionJob(db, 'searches', search, 'running', { pid: otherProcess(), cores: 1 });
    const run = mk();
    q.add(run);
    expect(getRun(db, run).status).toBe('queued');
    transitionJob(db, 'searches', search, 'finished', { pid: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(getRun(db, run)).toMatchObject({ status: 'running', cores: 2 });
    q.close();
  });

  it('starts nothing while a live process holds the machine (a latency table build), which first waits for running jobs', async () => {
    const { db, q, runners, mk } = setup({ cores: 2, pollMs: 20 });
    const a = mk();
    q.add(a);
    expect(getRun(db, a).status).toBe('running');
    const holder = otherProcess();
    const waitedFor: string[] = [];
    let held = false;
    const hold = holdMachine(db, 'building the latency table of run 1', { pid: holder, pollMs: 20, onWaiting: (jobs) => waitedFor.push(jobList(jobs)) }).then((release) => {
      held = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 100));
    // The hold is recorded at once: a job queued now waits, though a core is free; the holder waits for run a.
    expect(liveMachineHold(db)).toMatchObject({ pid: holder, reason: 'building the latency table of run 1' });
    const b = mk();
    q.add(b);
    await new Promise((r) => setTimeout(r, 100));
    expect([getRun(db, b).status, held, waitedFor]).toEqual(['queued', false, [`run ${a}`]]);
    runners[0].exit(0);
    transitionJob(db, 'runs', a, 'finished', { pid: null });
    const release = await hold;
    expect(getRun(db, b).status).toBe('queued');
    release();
    expect(liveMachineHold(db)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(getRun(db, b).status).toBe('running');
    q.close();
  });

  it('ignores the hold of a process that is gone, and clears it when the machine is next held', async () => {
    const { db, q, mk } = setup({ cores: 2, pollMs: 20 });
    addMachineHold(db, deadPid(), 'a latency build that crashed');
    const a = mk();
    q.add(a);
    expect(getRun(db, a).status).toBe('running');
    const ac = new AbortController();
    const hold = holdMachine(db, 'another build', { pollMs: 20, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    // Run a is still running (its runner is this process's fake): the holder is still waiting, and may give up.
    expect(listMachineHolds(db).map((h) => h.reason)).toEqual(['another build']);
    ac.abort(new Error('gave up'));
    await expect(hold).rejects.toThrow('gave up');
    expect(listMachineHolds(db)).toEqual([]);
    q.close();
  });
  it('first come, first served across processes: a later job waits behind one another live process waits for', async () => {
    const { db, q, mk } = setup({ cores: 2, pollMs: 20 });
    const other = otherProcess();
    const busy = mk(); // holds one core elsewhere
    transitionJob(db, 'runs', busy, 'running', { pid: otherProcess(), cores: 1 });
    // Another live process queued x first and waits for cores (it wants two, say: its own queue decides that).
    const x = mk();
    setJobWaiter(db, 'runs', x, other);
    await new Promise((r) => setTimeout(r, 5));
    const y = mk();
    q.add(y);
    await new Promise((r) => setTimeout(r, 60));
    // One core is free and y would fit in it, but x came first.
    expect(getRun(db, y).status).toBe('queued');
    expect(listWaitingJobs(db).map((w) => [w.id, w.waiterPid])).toEqual([[x, other], [y, process.pid]]);
    // The app adopts neither: each is its waiter's to start.
    const app = setup({ db, adoptQueued: true, cores: 2 });
    app.q.pump();
    expect([getRun(db, x).status, getRun(db, y).status, app.runners.length]).toEqual(['queued', 'queued', 0]);
    app.q.close();
    // The other process starts x on the free core and clears its wait; y now waits for a core.
    expect(transitionJob(db, 'runs', x, 'running', { pid: other, cores: 1, waiter: null }, ['queued'])).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(getRun(db, y).status).toBe('queued');
    transitionJob(db, 'runs', busy, 'finished', { pid: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(getRun(db, y)).toMatchObject({ status: 'running', pid: process.pid });
    expect(listWaitingJobs(db)).toEqual([]); // started: nobody waits for it any more
    // A waiter whose process is gone holds no place.
    const z = mk();
    setJobWaiter(db, 'runs', z, deadPid());
    transitionJob(db, 'runs', x, 'finished', { pid: null });
    const w = mk();
    q.add(w);
    expect(getRun(db, w).status).toBe('running');
    q.close();
  });

  it('within one queue, jobs start in the order they were queued: a job resumed later starts after one queued earlier', async () => {
    const { db, q, mk } = setup({ cores: 1, pollMs: 20 });
    const busy = mk();
    transitionJob(db, 'runs', busy, 'running', { pid: otherProcess(), cores: 1 });
    const old = mk();
    transitionJob(db, 'runs', old, 'running', { pid: null });
    transitionJob(db, 'runs', old, 'paused', {});
    const fresh = mk();
    q.add(fresh);
    await new Promise((r) => setTimeout(r, 5));
    q.resume(old);
    transitionJob(db, 'runs', busy, 'finished', { pid: null });
    await new Promise((r) => setTimeout(r, 100));
    // By id, old (the smaller) would have gone first.
    expect([getRun(db, fresh).status, getRun(db, old).status]).toEqual(['running', 'paused']);
    q.close();
  });

  it('a queue that closes or stops stops waiting: its jobs hold no place in other queues; cancel clears the wait too', async () => {
    const a = setup({ cores: 1, pollMs: 20 });
    const busy = a.mk();
    transitionJob(a.db, 'runs', busy, 'running', { pid: otherProcess(), cores: 1 });
    const [j, k] = [a.mk(), a.mk()];
    a.q.add(j);
    a.q.add(k);
    expect(listWaitingJobs(a.db).map((w) => w.id)).toEqual([j, k]);
    a.q.cancel(k);
    expect(listWaitingJobs(a.db).map((w) => w.id)).toEqual([j]);
    a.q.close();
    expect(listWaitingJobs(a.db)).toEqual([]);
    expect(getRun(a.db, j).status).toBe('queued'); // still queued, for whoever starts it next
    const b = setup({ db: a.db, cores: 1, pollMs: 20 });
    const m = b.mk();
    b.q.add(m);
    transitionJob(a.db, 'runs', busy, 'finished', { pid: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(getRun(b.db, m).status).toBe('running');
    expect(b.q.stopAll()).toEqual([m]);
    const n = b.mk();
    b.q.add(n); // a stopping queue starts nothing and waits for nothing
    expect(listWaitingJobs(b.db)).toEqual([]);
    b.q.close();
  });
});
