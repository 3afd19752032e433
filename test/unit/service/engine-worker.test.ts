/**
 * The service's engine worker (service/engine-worker.ts) as the API sees it: an input error is a 400 at the call's
 * field, a worker killed mid-request a 500 that says so (no hang), and after close a 500 saying the service stopped.
 * Needs out/main/engine-worker.js (`npx electron-vite build`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../src-main/data/synthetic';
import { EngineWorker } from '../../../src-main/service/engine-worker';
import { ApiError } from '../../../src-main/service/errors';

describe('EngineWorker', () => {
  let engine: EngineWorker | undefined;
  afterEach(() => engine?.close());

  it('maps the worker\'s answers to API errors: 400 at the call\'s field, 500 for a killed worker, then for a closed one', async () => {
    engine = new EngineWorker({ home: tempDir('alphanet-engine-'), env: { ALPHANET_BACKEND: 'cpu' } });
    const refused = await engine.run('latency.measure', { target: 'alphanet-cifar32', subnet: 'alphanet-z9' }, { what: 'measuring', field: 'subnet' }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, field: 'subnet', message: expect.stringMatching(/^subnet: .*alphanet-z9/) });

    const slow = engine.run('latency.measure', { target: 'alphanet-imagenet', subnet: 'max', repeats: 1000 }, { what: 'measuring the max subnet' }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(engine.client.pid!, 'SIGKILL');
    const killed = await slow;
    expect(killed).toBeInstanceOf(ApiError);
    expect(killed).toMatchObject({ status: 500, message: expect.stringMatching(/^measuring the max subnet failed: the engine worker exited \(signal SIGKILL\)/) });

    const late = engine.run('doctor', {}, { what: 'probing' });
    engine.close();
    await expect(late).rejects.toMatchObject({ status: 500, message: 'probing: stopped because the service shut down' });
  }, 60_000);
});
