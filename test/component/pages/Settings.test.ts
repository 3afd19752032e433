import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Settings from '../../../src-renderer/pages/Settings.svelte';
import { fakeApi } from '../fake-api';

/** The Clusters section of the settings page: add through the typed API, field errors under their field, test, remove. */
describe('Settings page: clusters', () => {
  const type = (label: RegExp, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

  it('adds an ssh cluster, tests it and shows each check', async () => {
    const fake = fakeApi();
    render(Settings, { api: fake.api });
    await screen.findByTestId('no-clusters');
    type(/^Name/, 'hpc');
    type(/Login node/, 'login.hpc.example.org');
    type(/Shared run directory/, '/scratch/me/alphanet');
    type(/Partition/, 'gpu');
    fireEvent.input(screen.getByLabelText(/GPUs per node/), { target: { value: '4' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add and test' }));
    await waitFor(() => expect(fake.api.clusters.add).toHaveBeenCalled());
    expect(fake.api.clusters.add).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'hpc', transport: 'ssh', sshHost: 'login.hpc.example.org', runDir: '/scratch/me/alphanet', partition: 'gpu', gpusPerNode: 4, account: null }),
      false,
    );
    const checks = await screen.findByRole('list', { name: 'Checks of hpc' });
    expect(within(checks).getByText(/logged in as me@login1/)).toBeTruthy();
    expect(screen.getByText('hpc is ready.')).toBeTruthy();
    const item = screen.getByRole('list', { name: 'Clusters' }).querySelector('[data-cluster="hpc"]') as HTMLElement;
    expect(item.textContent).toMatch(/ssh login\.hpc\.example\.org · partition gpu · 4 GPU\/node · \/scratch\/me\/alphanet/);
  });

  it('shows a refused field under that field and adds nothing', async () => {
    const fake = fakeApi();
    render(Settings, { api: fake.api });
    await screen.findByTestId('no-clusters');
    type(/^Name/, 'hpc');
    type(/Login node/, 'login');
    type(/Shared run directory/, 'scratch/relative');
    await fireEvent.click(screen.getByRole('button', { name: 'Add and test' }));
    const field = await waitFor(() => {
      const f = document.querySelector('[data-field="runDir"] [role="alert"]');
      expect(f).not.toBeNull();
      return f as HTMLElement;
    });
    expect(field.textContent).toMatch(/an absolute path/);
    expect(await fake.api.clusters.list()).toEqual([]);
  });

  it('says which check fails, and removes a cluster after confirmation', async () => {
    const fake = fakeApi({
      clusters: [{ name: 'far', transport: 'ssh', sshHost: 'unreachable.example', sshConfig: null, partition: null, account: null, gpusPerNode: 0, runDir: '/scratch', pythonSetup: '', python: 'python3', timeLimit: null, createdAt: '2026-12-03T04:00:00.000Z' }],
    });
    render(Settings, { api: fake.api });
    await fireEvent.click(await screen.findByRole('button', { name: 'Test' }));
    const checks = await screen.findByRole('list', { name: 'Checks of far' });
    expect(within(checks).getByText(/ssh cannot resolve unreachable\.example/)).toBeTruthy();
    expect(screen.getByText('far is not ready.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Remove' }));
    await screen.findByTestId('no-clusters');
    expect(fake.api.clusters.remove).toHaveBeenCalledWith('far');
  });
});
