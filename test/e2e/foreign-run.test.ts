/**
 * A run trained by another process — `alphanet train` in a terminal on the same data directory — watched in the app
 * served by `alphanet serve`: the run page follows it live, with the same 1-based epoch the CLI prints and an ETA
 * from the run's stored step times (the serving process gets no progress messages from a runner it did not start),
 * and its Export metrics downloads the steps CSV.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cspViolations, openServedApp, pageShot, servedUnavailable, WAIT, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`foreign-run e2e skipped: ${unavailable}`);

let app: ServedApp | undefined;
let page: Page;
let cli: ChildProcess | undefined;
let cliOut = '';

describe.skipIf(unavailable !== null)('a run started from the CLI, watched in the served app', () => {
  beforeAll(async () => {
    app = await openServedApp('alphanet-foreign-');
    page = app.page;
  });

  afterAll(async () => {
    if (cli && cli.exitCode === null && cli.signalCode === null) {
      const exited = new Promise((r) => cli!.once('exit', r));
      cli.kill('SIGINT'); // the CLI pauses its run (checkpoint) and exits
      await exited;
    }
    await app?.close();
  });

  it('shows the live step, the CLI\'s 1-based epoch and an ETA', { timeout: 180_000 }, async () => {
    const a = app!;
    await a.served.call('datasets.createDemo');
    await expect.poll(async () => (await a.served.call<{ name: string }[]>('datasets.list')).map((d) => d.name), { timeout: 60_000 }).toContain('demo');

    const config = path.join(a.home, 'from-terminal.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'from the terminal',
        dataset: 'demo',
        epochs: 2,
        batchSize: 16,
        stepsPerEpoch: 60,
        progressEverySteps: 1,
        metrics: { flushEverySteps: 1, flushEverySeconds: 1 },
        validation: { calibrationBatches: 1, calibrationBatchSize: 16, randomSubnets: 0, maxImages: 64 },
      }),
    );
    cli = spawn(process.execPath, [CLI, '--home', a.home, 'train', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    cli.stdout?.on('data', (d: Buffer) => (cliOut += d.toString()));
    cli.stderr?.on('data', (d: Buffer) => (cliOut += d.toString()));

    // The runs page learns of the run from the store alone and opens it.
    await page.getByRole('link', { name: 'Runs' }).click();
    const link = page.getByRole('link', { name: 'from the terminal' });
    await expect.poll(() => link.count(), { timeout: 60_000 }).toBe(1);
    await link.click();

    // Live steps arrive while the CLI trains: the step count moves without a reload.
    const line = page.getByText(/^step \d+ \/ 120 · epoch/);
    await expect.poll(() => line.textContent(), { timeout: 60_000 }).toMatch(/^step ([1-9]\d*) \/ 120/);
    const first = Number(/^step (\d+)/.exec((await line.textContent()) ?? '')![1]);
    await expect.poll(async () => Number(/^step (\d+)/.exec((await line.textContent()) ?? '')?.[1] ?? 0), { timeout: 60_000 }).toBeGreaterThan(first);

    // The epoch as the CLI prints it (`ep 1` in the first epoch) and a real ETA, not "epoch 0 · — left".
    const text = (await line.textContent()) ?? '';
    expect(text, cliOut).toMatch(/· epoch 1 \/ 2 · (\d+ s|\d+ min \d\d s) left ·/);
    expect(cliOut).toMatch(/ep 1 /);
    await pageShot(page, 'page-run-foreign');

    // Export metrics: a Blob download under the app's CSP, named after the run, starting with the steps CSV's header.
    const exporter = page.getByRole('group', { name: 'Export metrics' });
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), exporter.getByRole('button', { name: 'Steps CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^run-\d+-from-the-terminal-steps\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toBe('step,epoch,lr,max_loss,random-1_loss,random-1_divergence,random-2_loss,random-2_divergence,min_loss,min_divergence,alpha_min_share,clipped_share,nonfinite,images_per_sec');
    expect(csv.split('\n')[1]).toMatch(/^\d+,0,[\d.e-]+,-?[\d.e-]+,/);
    expect(await cspViolations(page)).toEqual([]);

    // The runs list shows the same ETA column value form.
    await page.getByRole('link', { name: 'Runs' }).click();
    const row = page.getByRole('row', { name: /from the terminal/ });
    await expect.poll(() => row.textContent(), WAIT).toMatch(/\d+ s|\d+ min/);
  });
});
