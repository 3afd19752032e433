import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Datasets from '../../../src-renderer/pages/Datasets.svelte';
import { dataset, fakeApi } from '../fake-api';

function rowNames(): string[] {
  return screen.getAllByRole('rowheader').map((r) => r.textContent ?? '');
}

describe('Datasets', () => {
  it('deletes a dataset only after the confirmation, and Escape cancels', async () => {
    const fake = fakeApi();
    render(Datasets, { api: fake.api, datasetId: null });
    await screen.findByText('digits');
    expect(rowNames()).toEqual(['demo', 'digits']);

    await fireEvent.click(screen.getByRole('button', { name: 'Delete dataset digits' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete dataset?' });
    expect(dialog.textContent).toContain('“digits” and its 360 images');
    // Cancel has the focus, so Enter cannot delete by accident.
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(fake.api.datasets.delete).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByRole('button', { name: 'Delete dataset digits' }));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete dataset' }));
    await waitFor(() => expect(rowNames()).toEqual(['demo']));
    expect(fake.api.datasets.delete).toHaveBeenCalledWith('ds-digits');
  });

  it('shows a refused delete instead of dropping the row', async () => {
    const fake = fakeApi();
    fake.api.datasets.delete = () => Promise.reject(new Error('dataset demo is used by a running run'));
    render(Datasets, { api: fake.api, datasetId: null });
    await fireEvent.click(await screen.findByRole('button', { name: 'Delete dataset demo' }));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete dataset' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not delete “demo”: dataset demo is used by a running run');
    expect(rowNames()).toEqual(['demo', 'digits']);
  });

  it('imports a typed path and shows the job’s progress until it is done', async () => {
    const fake = fakeApi({ datasets: [] });
    render(Datasets, { api: fake.api, datasetId: null });
    await screen.findByText(/No datasets yet/);
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(screen.getByRole('alert').textContent).toMatch(/^Enter the path/);
    expect(fake.api.datasets.import).not.toHaveBeenCalled();

    await fireEvent.input(screen.getByLabelText('Path on the workbench machine'), { target: { value: ' /data/cifar.tar.gz ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(fake.api.datasets.import).toHaveBeenCalledWith({ path: '/data/cifar.tar.gz', valFraction: 0.1 }));
    fake.emitJob({ jobId: 'job-1', type: 'progress', progress: { phase: 'decode', done: 300, total: 1200, etaSeconds: 12 } });
    const bar = (await screen.findByRole('progressbar', { name: 'Progress of /data/cifar.tar.gz' })) as HTMLProgressElement;
    await waitFor(() => expect(bar.value).toBe(300));
    expect(bar.max).toBe(1200);
    expect(screen.getByText(/decode 300 \/ 1200 · 12 s left/)).toBeTruthy();

    fake.api.datasets.list = async () => [dataset('ds-c', 'cifar')];
    fake.emitJob({ jobId: 'job-1', type: 'done', dataset: dataset('ds-c', 'cifar'), reused: false });
    expect(await screen.findByText('ready: “cifar”')).toBeTruthy();
    await waitFor(() => expect(rowNames()).toEqual(['cifar']));
  });

  it('sends an image size and channels for folders, checks the size, and hides them for other formats', async () => {
    const fake = fakeApi({ datasets: [] });
    render(Datasets, { api: fake.api, datasetId: null });
    await screen.findByText(/No datasets yet/);
    await fireEvent.input(screen.getByLabelText('Path on the workbench machine'), { target: { value: '/data/pets' } });
    const size = screen.getByLabelText('Image size (folders, px)');
    await fireEvent.input(size, { target: { value: '2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(screen.getByRole('alert').textContent).toMatch(/^Image size: a whole number of pixels from 4 to 512/);
    expect(fake.api.datasets.import).not.toHaveBeenCalled();
    await fireEvent.input(size, { target: { value: '224' } });
    await fireEvent.change(screen.getByLabelText('Channels (folders)'), { target: { value: '3' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(fake.api.datasets.import).toHaveBeenCalledWith({ path: '/data/pets', valFraction: 0.1, size: 224, channels: 3 }));
    await fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'cifar10' } });
    expect(screen.queryByLabelText('Image size (folders, px)')).toBeNull();
  });

  it('shows one dataset’s splits, class histogram and thumbnails', async () => {
    const fake = fakeApi();
    fake.api.datasets.samples = async (id, o) => ({
      datasetId: id,
      split: o.split,
      classNames: ['disk', 'ring', 'square'],
      images: [['data:image/png;base64,AAAA'], [], ['data:image/png;base64,BBBB', 'data:image/png;base64,CCCC']],
    });
    render(Datasets, { api: fake.api, datasetId: 'ds-demo' });
    expect(await screen.findByRole('heading', { level: 2, name: 'demo' })).toBeTruthy();
    expect((screen.getByRole('progressbar', { name: 'ring: train images' }) as HTMLProgressElement).value).toBe(90);
    expect(await screen.findByAltText('square sample 2')).toBeTruthy();
    expect(screen.getByText('none in this split')).toBeTruthy();
  });
});
