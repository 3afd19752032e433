/** The metrics export (src-main/service/metrics-export.ts) against a small hand-written run with its expected text. */
import { describe, expect, it } from 'vitest';
import type { RunEpochPoint, RunStepPoint } from '../../../src-main/ipc/api-types';
import {
  csvField,
  epochsCsv,
  metricsExport,
  metricsFileName,
  metricsJson,
  orderRoles,
  stepsCsv,
  type MetricsExportRun,
} from '../../../src-main/service/metrics-export';

/** Three steps of an adaptive-α run: a negative surrogate, a null (non-finite, stored) loss, a live NaN and ∞. */
const steps: RunStepPoint[] = [
  {
    step: 1, epoch: 0, lr: 0.1,
    losses: [{ role: 'max', loss: 2.25 }, { role: 'random-1', loss: -0.0625, divergence: 0.125 }, { role: 'min', loss: -0.5, divergence: 0.375 }],
    alphaMinShare: 0.5, clippedShare: 0, nonfinite: 0, imagesPerSec: 100,
  },
  {
    step: 2, epoch: 0, lr: 0.05,
    losses: [{ role: 'min', loss: null }, { role: 'max', loss: 2 }, { role: 'random-1', loss: 1e-7, divergence: 0.25 }],
    alphaMinShare: null, clippedShare: 0.25, nonfinite: 3, imagesPerSec: null,
  },
  {
    step: 3, epoch: 1, lr: 0.025,
    losses: [{ role: 'max', loss: Number.NaN }, { role: 'min', loss: Number.POSITIVE_INFINITY, divergence: Number.NEGATIVE_INFINITY }],
    alphaMinShare: 1, clippedShare: null, nonfinite: 0, imagesPerSec: 12.5,
  },
];

const epochs: RunEpochPoint[] = [
  { epoch: 1, step: 3, subnet: 'min', mflops: 1.5, valTop1: 0.75, valLoss: 0.5 },
  { epoch: 0, step: 2, subnet: 'max', mflops: 9, valTop1: 0.5, valLoss: 1.25 },
  { epoch: 0, step: 2, subnet: 'min', mflops: 1.5, valTop1: 0.25, valLoss: 2 },
];

const run: MetricsExportRun = {
  id: 7, name: 'kl, "long" run', status: 'finished', spaceId: 'alphanet-cifar32', datasetName: 'demo', distillation: 'adaptive-alpha',
  epochs: 2, totalSteps: 3, seed: 4, config: { epochs: 2, distillation: { kind: 'adaptive-alpha' } },
};

describe('metrics export: CSV fields', () => {
  it('quotes a comma, a quote and line breaks; leaves absent values empty; writes non-finite numbers as pandas reads them', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0)).toBe('0');
    expect(csvField(-0.0625)).toBe('-0.0625');
    expect(csvField(1e-7)).toBe('1e-7');
    expect(csvField(Number.NaN)).toBe('NaN');
    expect(csvField(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(csvField(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });

  it('orders roles as the sandwich does', () => {
    expect(orderRoles(['min', 'random-10', 'other', 'random-2', 'max', 'min'])).toEqual(['max', 'random-2', 'random-10', 'other', 'min']);
  });
});

describe('metrics export: the steps CSV', () => {
  it('has one wide row per step, a loss column per member and a divergence column per distilled member', () => {
    expect(stepsCsv(steps)).toBe(
      [
        'step,epoch,lr,max_loss,random-1_loss,random-1_divergence,min_loss,min_divergence,alpha_min_share,clipped_share,nonfinite,images_per_sec',
        '1,0,0.1,2.25,-0.0625,0.125,-0.5,0.375,0.5,0,0,100',
        '2,0,0.05,2,1e-7,0.25,,,,0.25,3,',
        '3,1,0.025,NaN,,,Infinity,-Infinity,1,,0,12.5',
        '',
      ].join('\n'),
    );
  });

  it('has no divergence columns for a run without distillation, and only the header for a run without steps', () => {
    const none = steps.slice(0, 1).map((s) => ({ ...s, losses: s.losses.map(({ role, loss }) => ({ role, loss })) }));
    expect(stepsCsv(none)).toBe('step,epoch,lr,max_loss,random-1_loss,min_loss,alpha_min_share,clipped_share,nonfinite,images_per_sec\n1,0,0.1,2.25,-0.0625,-0.5,0.5,0,0,100\n');
    expect(stepsCsv([])).toBe('step,epoch,lr,alpha_min_share,clipped_share,nonfinite,images_per_sec\n');
  });
});

describe('metrics export: the epochs CSV', () => {
  it('has one row per epoch, by epoch, with top-1, loss and MFLOPs per subnet and empty cells for a subnet not validated', () => {
    expect(epochsCsv(epochs)).toBe(['epoch,step,max_top1,max_loss,max_mflops,min_top1,min_loss,min_mflops', '0,2,0.5,1.25,9,0.25,2,1.5', '1,3,,,,0.75,0.5,1.5', ''].join('\n'));
    expect(epochsCsv([])).toBe('epoch,step\n');
  });
});

describe('metrics export: the JSON document', () => {
  it('names its schema and version, the run with its config, and holds the points as the API gives them; non-finite as null', () => {
    const doc = JSON.parse(metricsJson(run, { steps, epochs }));
    expect(doc.schema).toBe('alphanet-workbench/run-metrics');
    expect(doc.version).toBe(1);
    expect(doc.run).toEqual(run);
    expect(doc.epochs).toEqual(epochs);
    expect(doc.steps[0]).toEqual(steps[0]);
    expect(doc.steps[2].losses).toEqual([{ role: 'max', loss: null }, { role: 'min', loss: null, divergence: null }]);
    expect(metricsJson(run, { steps, epochs }).endsWith('}\n')).toBe(true);
  });
});

describe('metrics export: file names', () => {
  it('keeps the run id, a sanitised name and the kind', () => {
    expect(metricsFileName(run, 'steps')).toBe('run-7-kl-long-run-steps.csv');
    expect(metricsFileName(run, 'epochs')).toBe('run-7-kl-long-run-epochs.csv');
    expect(metricsFileName(run, 'json')).toBe('run-7-kl-long-run.json');
    expect(metricsFileName({ id: 3, name: 'Résumé ../../etc/passwd' }, 'json')).toBe('run-3-Resume-..-..-etc-passwd.json');
    expect(metricsFileName({ id: 3, name: '///' }, 'steps')).toBe('run-3-steps.csv');
    expect(metricsFileName({ id: 3, name: 'x'.repeat(100) }, 'json')).toBe(`run-3-${'x'.repeat(60)}.json`);
  });

  it('gives each kind its text and media type', () => {
    expect(metricsExport('steps', run, { steps, epochs })).toMatchObject({ fileName: 'run-7-kl-long-run-steps.csv', mediaType: 'text/csv', text: stepsCsv(steps) });
    expect(metricsExport('epochs', run, { steps, epochs }).text).toBe(epochsCsv(epochs));
    expect(metricsExport('json', run, { steps, epochs })).toMatchObject({ mediaType: 'application/json', text: metricsJson(run, { steps, epochs }) });
  });
});
