/**
 * The argument table both transports validate with: every method has a schema and a service handler, well-formed
 * arguments pass, and malformed payloads are refused naming the argument (and the path inside it).
 */
import { describe, expect, it } from 'vitest';
import { API_ARGS, ApiArgsError, argsParser, isApiMethod, parseApiArgs } from '../../../src-main/ipc/api-schemas';
import type { WorkbenchApi } from '../../../src-main/ipc/api-types';
import { IpcRefusedError, guardHandler } from '../../../src-main/ipc/guard';
import { API_METHODS, EVENT_TOPICS, type ApiMethod } from '../../../src-main/ipc/protocol';

/** Every non-`on*` member of WorkbenchApi, listed by hand from api-types.ts — and checked against the type below. */
const EXPECTED = {
  app: ['info', 'openExternal', 'revealPath', 'pickPath'],
  datasets: ['list', 'get', 'samples', 'import', 'createDemo', 'delete'],
  spaces: ['list'],
  runs: ['list', 'get', 'metrics', 'presets', 'check', 'start', 'pause', 'resume', 'cancel', 'delete', 'saveConfig'],
  subnets: ['list', 'evaluate', 'pin', 'front'],
  predictor: ['get', 'importance', 'build', 'cancelBuild', 'genes'],
  latency: ['table', 'build', 'cancelBuild'],
  searches: ['list', 'get', 'start', 'pause', 'resume', 'cancel'],
  exports: ['start', 'cancel'],
  compare: ['runs'],
  clusters: ['list', 'add', 'remove', 'test', 'jobLog'],
} as const satisfies { [N in keyof WorkbenchApi]: readonly Exclude<keyof WorkbenchApi[N], `on${string}`>[] };
// Compile-time: the hand list has every method of the type (a missing one makes this assignment fail).
type Missing = { [N in keyof WorkbenchApi]: Exclude<Exclude<keyof WorkbenchApi[N], `on${string}`>, (typeof EXPECTED)[N][number]> }[keyof WorkbenchApi];
const noneMissing: [Missing] extends [never] ? true : Missing = true;

describe('API_METHODS and API_ARGS', () => {
  it('list exactly the methods of WorkbenchApi, each with an argument schema', () => {
    expect(noneMissing).toBe(true);
    const fromType = Object.entries(EXPECTED).flatMap(([ns, fns]) => fns.map((f) => `${ns}.${f}`));
    expect([...API_METHODS].sort()).toEqual(fromType.sort());
    expect(Object.keys(API_ARGS).sort()).toEqual([...API_METHODS].sort());
    expect(Object.values(EVENT_TOPICS).sort()).toEqual(['datasets.onJob', 'predictor.onEvent', 'runs.onEvent', 'searches.onEvent']);
  });

  it('accepts well-formed arguments and returns them parsed', () => {
    expect(parseApiArgs('app.info', [])).toEqual([]);
    expect(parseApiArgs('datasets.samples', ['ds-1', { split: 'val', perClass: 4 }])).toEqual(['ds-1', { split: 'val', perClass: 4 }]);
    expect(parseApiArgs('datasets.import', [{ path: '/data/mnist', format: 'idx' }])).toEqual([{ path: '/data/mnist', format: 'idx' }]);
    expect(parseApiArgs('datasets.import', [{ path: '/data/pets', size: 224, channels: 3 }])).toEqual([{ path: '/data/pets', size: 224, channels: 3 }]);
    expect(parseApiArgs('runs.saveConfig', [{ epochs: 1 }, null, { overwrite: false }])).toEqual([{ epochs: 1 }, null, { overwrite: false }]);
    expect(parseApiArgs('runs.pause', [3])).toEqual([3]);
    expect(parseApiArgs('subnets.evaluate', [{ runId: 2, subnet: 'random:3', split: 'test', latency: false }])).toEqual([{ runId: 2, subnet: 'random:3', split: 'test', latency: false }]);
    expect(parseApiArgs('subnets.pin', [5, true])).toEqual([5, true]);
    expect(parseApiArgs('searches.list', [null])).toEqual([null]);
    const start = { runId: 1, kind: 'random', objective: 'mflops', budget: { mflopsMax: 4 }, config: { seed: 2, generations: 0 }, evaluations: 8 };
    expect(parseApiArgs('searches.start', [start])).toEqual([start]);
    for (const workers of ['auto', 1, 4] as const) expect(parseApiArgs('searches.start', [{ runId: 1, workers }])).toEqual([{ runId: 1, workers }]);
    expect(parseApiArgs('exports.start', [{ runId: 1, evaluationId: 3, formats: ['tfjs', 'onnx'], dir: '/tmp/x' }])).toEqual([{ runId: 1, evaluationId: 3, formats: ['tfjs', 'onnx'], dir: '/tmp/x' }]);
    expect(parseApiArgs('compare.runs', [[1, 2, 3]])).toEqual([[1, 2, 3]]);
    // Defaults of the profile schema are filled in (the store saves the parsed profile).
    expect(parseApiArgs('clusters.add', [{ name: 'c1', transport: 'local', runDir: '/scratch/me' }, false])).toEqual([
      { name: 'c1', transport: 'local', runDir: '/scratch/me', gpusPerNode: 0, pythonSetup: '', python: 'python3' },
      false,
    ]);
    expect(parseApiArgs('clusters.jobLog', [3, '1234', 4096])).toEqual([3, '1234', 4096]);
    expect(() => parseApiArgs('clusters.jobLog', [3, '1234; rm -rf ~'])).toThrow(/jobId/);
    expect(() => parseApiArgs('clusters.jobLog', [3, '1234', 2 * 1024 * 1024])).toThrow(/maxBytes/);
    expect(isApiMethod('runs.start')).toBe(true);
    expect(isApiMethod('runs.__proto__')).toBe(false);
  });

  const refused: [ApiMethod, unknown, RegExp, string | undefined][] = [
    ['app.info', [1], /app\.info: expected 0 arguments, got 1/, 'args'],
    ['datasets.get', [], /datasets\.get: expected 1 argument \(id\), got 0/, 'args'],
    ['datasets.get', [42], /argument 'id': Invalid input: expected string/, 'id'],
    ['datasets.samples', ['ds', { split: 'train', perClass: 1000 }], /argument 'opts\.perClass': Too big/, 'opts.perClass'],
    ['datasets.samples', ['ds', { split: 'holdout', perClass: 2 }], /argument 'opts\.split'/, 'opts.split'],
    ['datasets.import', [{ path: '/x', evil: true }], /argument 'req': Unrecognized key: "evil"/, 'req'],
    ['datasets.import', [{ path: '/x', format: 'zip' }], /argument 'req\.format'/, 'req.format'],
    ['datasets.import', [{ path: '/x', size: 1024 }], /argument 'req\.size'/, 'req.size'],
    ['datasets.import', [{ path: '/x', size: 31.5 }], /argument 'req\.size'/, 'req.size'],
    ['datasets.import', [{ path: '/x', channels: 2 }], /argument 'req\.channels'/, 'req.channels'],
    ['runs.get', ['1'], /argument 'id': Invalid input: expected number/, 'id'],
    ['runs.pause', [1.5], /argument 'id'/, 'id'],
    ['runs.cancel', [-1], /argument 'id': Too small/, 'id'],
    ['runs.start', [[1, 2]], /argument 'config'/, 'config'],
    ['runs.check', [null], /argument 'config'/, 'config'],
    ['runs.saveConfig', [{}], /expected 3 arguments \(config, path, opts\), got 1/, 'args'],
    ['app.pickPath', [{ title: 'x', directory: 'yes' }], /argument 'opts\.directory'/, 'opts.directory'],
    ['app.openExternal', ['x'.repeat(5000)], /argument 'url': Too big/, 'url'],
    ['subnets.front', [1, 'params'], /argument 'objective'/, 'objective'],
    ['subnets.evaluate', [{ runId: 1, subnet: '' }], /argument 'req\.subnet': Too small/, 'req.subnet'],
    ['searches.start', [{ runId: 1, budget: { mflopsMax: -1 } }], /argument 'req\.budget\.mflopsMax': Too small/, 'req.budget.mflopsMax'],
    ['searches.start', [{ runId: 1, config: { maxTries: 5 } }], /argument 'req\.config': Unrecognized key: "maxTries"/, 'req.config'],
    ['searches.start', [{ runId: 1, split: 'test' }], /argument 'req': Unrecognized key: "split"/, 'req'],
    ['searches.start', [{ runId: 1, workers: 0 }], /argument 'req\.workers'/, 'req.workers'],
    ['searches.start', [{ runId: 1, workers: 'all' }], /argument 'req\.workers'/, 'req.workers'],
    ['exports.start', [{ runId: 1, evaluationId: 2, formats: ['h5'], dir: '/x' }], /argument 'req\.formats\.0'/, 'req.formats.0'],
    ['compare.runs', [[1]], /argument 'ids': Too small/, 'ids'],
    ['compare.runs', [[1, 2, 3, 4, 5]], /argument 'ids': Too big/, 'ids'],
    ['clusters.add', [{ name: 'c', transport: 'ssh', runDir: '/x' }, false], /argument 'profile\.sshHost': an ssh profile needs a host/, 'profile.sshHost'],
    ['clusters.add', [{ name: 'c', transport: 'local', runDir: 'relative' }, false], /argument 'profile\.runDir': an absolute path/, 'profile.runDir'],
    ['clusters.add', [{ name: 'c', transport: 'ssh', sshHost: '-oProxyCommand=x', runDir: '/x' }, false], /argument 'profile\.sshHost'/, 'profile.sshHost'],
    ['clusters.add', [{ name: 'c', transport: 'local', runDir: '/x', partition: 'gpu;rm' }, false], /argument 'profile\.partition'/, 'profile.partition'],
    ['clusters.test', [''], /argument 'name': Too small/, 'name'],
  ];
  it.each(refused)('%s refuses %j naming the argument', (method, args, message, field) => {
    let err: unknown;
    try {
      parseApiArgs(method, args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiArgsError);
    expect((err as ApiArgsError).message).toMatch(message);
    expect((err as ApiArgsError).field).toBe(field);
  });

  it('refuses a non-list argument payload', () => {
    expect(() => parseApiArgs('runs.list', { 0: 1 })).toThrow(/the arguments must be a list/);
  });

  it("drives guardHandler: the app page's malformed call is an IpcRefusedError naming the argument", () => {
    const APP = 'file:///app/out/renderer/index.html';
    let ran = false;
    const guarded = guardHandler('api:runs.get', APP, argsParser('runs.get'), (id) => {
      ran = true;
      return id;
    });
    expect(guarded({ senderFrame: { url: APP } }, 7)).toBe(7);
    ran = false;
    expect(() => guarded({ senderFrame: { url: APP } }, 'seven')).toThrow(IpcRefusedError);
    expect(() => guarded({ senderFrame: { url: APP } }, 'seven')).toThrow(/api:runs\.get: bad arguments: runs\.get: argument 'id'/);
    expect(() => guarded({ senderFrame: { url: 'https://evil.example/' } }, 7)).toThrow(/refused a call from https:\/\/evil/);
    expect(ran).toBe(false);
  });
});
