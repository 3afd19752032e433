/**
 * Fuzzed API calls, with fast-check, over the served mode's real HTTP server and a real service on an
 * empty data directory. For every API method: argument lists generated from nothing (any JSON) and mutations of a
 * valid call (a leaf replaced, a key dropped or added, the list cut or lengthened, types swapped). Whatever the
 * schema refuses must be a 4xx naming a field, never a 500; the server must stay up; and nothing may be written (no
 * dataset, run, search or file). Calls the schema accepts on a method that would write something are not sent
 * (counted as skipped); accepted calls to the other methods may answer anything but a 500.
 *
 * Fast by default (FUZZ_RUNS cases per method and kind); ALPHANET_SLOW_TESTS=1 tries ten times as many. The counts
 * are printed: cases tried, refused, skipped, failures.
 */
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../src-main/data/synthetic';
import { API_ARGS, parseApiArgs } from '../../../src-main/ipc/api-schemas';
import { API_METHODS, type ApiMethod } from '../../../src-main/ipc/protocol';
import { startServer, type RunningServer } from '../../../src-main/server/server';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const FUZZ_RUNS = SLOW ? 300 : 30;

/** One valid call of every method (ids of objects that do not exist: the service answers 404, not 500). */
const VALID: { [M in ApiMethod]: unknown[] } = {
  'app.info': [],
  'app.openExternal': ['https://arxiv.org/abs/2102.07954'],
  'app.revealPath': ['/tmp'],
  'app.pickPath': [{ title: 'x', directory: true }],
  'datasets.list': [],
  'datasets.get': ['ds-0123456789ab'],
  'datasets.samples': ['ds-0123456789ab', { split: 'train', perClass: 2 }],
  'datasets.import': [{ path: '/tmp/none', format: 'idx', name: 'n', valFraction: 0.1 }],
  'datasets.createDemo': [],
  'datasets.delete': ['ds-0123456789ab'],
  'spaces.list': [],
  'runs.list': [],
  'runs.get': [7],
  'runs.metrics': [7],
  'runs.presets': [],
  'runs.check': [{ epochs: 2, batchSize: 16 }],
  'runs.start': [{ epochs: 2 }],
  'runs.pause': [7],
  'runs.resume': [7],
  'runs.cancel': [7],
  'runs.delete': [7],
  'runs.saveConfig': [{ epochs: 2 }, '/tmp/x.json', { overwrite: false }],
  'subnets.list': [7],
  'subnets.evaluate': [{ runId: 7, subnet: 'min', split: 'val', latency: false }],
  'subnets.pin': [3, true],
  'subnets.front': [7, 'mflops'],
  'predictor.get': [7],
  'predictor.importance': [7],
  'predictor.build': [7, { samples: 50 }],
  'predictor.cancelBuild': [7],
  'predictor.genes': [7],
  'latency.table': [7],
  'latency.build': [7],
  'latency.cancelBuild': [7],
  'searches.list': [null],
  'searches.get': [3],
  'searches.start': [{ runId: 7, name: 's', kind: 'random', objective: 'mflops', budget: { mflopsMax: 10 }, evaluations: 4 }],
  'searches.pause': [3],
  'searches.resume': [3],
  'searches.cancel': [3],
  'exports.start': [{ runId: 7, evaluationId: 3, formats: ['onnx'], dir: '/tmp/out' }],
  'exports.cancel': ['/tmp/out'],
  'compare.runs': [[7, 8]],
  'clusters.list': [],
  'clusters.add': [{ name: 'fuzz', transport: 'local', runDir: '/tmp/fuzz-cluster' }, false],
  'clusters.remove': ['fuzz'],
  'clusters.test': ['fuzz'],
  'clusters.jobLog': [7, '101', 4096],
};

/** Methods that write (a file, a row, a process) when their arguments are valid: such calls are not sent. */
const WRITES = new Set<ApiMethod>(['datasets.import', 'datasets.createDemo', 'datasets.delete', 'runs.start', 'runs.pause', 'runs.resume', 'runs.cancel', 'runs.delete', 'runs.saveConfig', 'subnets.evaluate', 'subnets.pin', 'latency.build', 'latency.cancelBuild', 'predictor.build', 'predictor.cancelBuild', 'searches.start', 'searches.pause', 'searches.resume', 'searches.cancel', 'exports.start', 'exports.cancel', 'app.openExternal', 'app.revealPath', 'app.pickPath', 'clusters.add', 'clusters.remove', 'clusters.test']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Any JSON value, including the awkward ones: huge and non-integer numbers, long and odd strings, deep nesting. */
const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(-1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', '../../etc/passwd', '\u0000', 'x'.repeat(5000), '\u202e', '__proto__', 'constructor', [], {}, { __proto__: { polluted: true } } as Json),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

/** Paths of every leaf (and inner node) of a JSON value. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

/** A copy of `root` with the node at `path` replaced (or, with `drop`, removed; with `add`, an extra key added). */
function mutate(root: Json, path: (string | number)[], how: 'replace' | 'drop' | 'add', value: Json, key: string): Json {
  if (path.length === 0) return how === 'replace' ? value : root;
  const copy = structuredClone(root) as Json;
  let node = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (how === 'replace') node[last] = value;
  else if (how === 'drop') {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else if (node[last] && typeof node[last] === 'object' && !Array.isArray(node[last])) (node[last] as Record<string, Json>)[key] = value;
  else node[last] = value;
  return copy;
}

let home: string;
let svc: WorkbenchService;
let srv: RunningServer;

function post(method: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: srv.port, method: 'POST', path: `/api/${method}`, headers: { host: `127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  home = tempDir('alphanet-fuzz-');
  const staticDir = tempDir('alphanet-fuzz-static-');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html>');
  svc = createWorkbenchService({ home, mode: 'served', adoptQueued: false, probeBackend: async () => ({ name: 'cpu', detail: 'fuzz' }), allowedFolders: [home, tmpdir()] });
  srv = await startServer({ service: svc, staticDir });
});
afterAll(async () => {
  await srv?.close();
  await svc?.close({ pauseRuns: false });
});

describe('fuzzed API calls', () => {
  it('answers every refused payload of every method with a 4xx naming a field, never a 500, and writes nothing', async () => {
    const counts = { tried: 0, refused: 0, skipped: 0, answered: 0, failures: 0 };
    const failures: string[] = [];
    const check = async (method: ApiMethod, args: unknown, raw?: string) => {
      counts.tried++;
      let valid = false;
      if (raw === undefined) {
        try {
          parseApiArgs(method, args);
          valid = true;
        } catch {
          valid = false;
        }
      }
      if (valid && WRITES.has(method)) {
        counts.skipped++;
        return;
      }
      const r = await post(method, raw ?? JSON.stringify({ args }));
      const reply = JSON.parse(r.body) as { ok: boolean; error?: { message: string; field?: string } };
      const bad = (why: string) => {
        counts.failures++;
        if (failures.length < 10) failures.push(`${method} ${raw ?? JSON.stringify(args).slice(0, 200)}: ${why} (${r.status} ${r.body.slice(0, 200)})`);
      };
      if (r.status >= 500) return bad('a 5xx');
      if (valid) {
        counts.answered++;
        return;
      }
      counts.refused++;
      if (r.status < 400 || r.status >= 500) return bad('not a 4xx');
      if (!reply.error?.field) return bad('no field named');
    };
    for (const method of API_METHODS) {
      const arity = API_ARGS[method].length;
      // Generated: argument lists of any JSON, of the right length and of others.
      await fc.assert(
        fc.asyncProperty(fc.array(junk, { minLength: Math.max(0, arity - 1), maxLength: arity + 1 }), async (args) => {
          await check(method, args);
        }),
        { numRuns: FUZZ_RUNS, seed: 16 },
      );
      // Mutations of a valid call.
      const valid = VALID[method] as Json[];
      const spots = paths(valid);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...spots), fc.constantFrom<'replace' | 'drop' | 'add'>('replace', 'drop', 'add'), junk, fc.string({ maxLength: 8 }), async (path, how, value, key) => {
          await check(method, mutate(valid, path, how, value, key || 'extra'));
        }),
        { numRuns: FUZZ_RUNS, seed: 16 },
      );
      // Bodies that are not even the envelope.
      for (const raw of ['', 'null', '[]', '{"args": {}}', '{"args": [', '{"args": "x"}', '\u0000', '{"args":[1e999]}']) await check(method, undefined, raw);
    }
    console.log(`API fuzz: ${counts.tried} cases over ${API_METHODS.length} methods; ${counts.refused} refused, ${counts.answered} valid answered, ${counts.skipped} valid writes skipped; ${counts.failures} failures`);
    expect(failures).toEqual([]);
    // Still up, and nothing written.
    expect((await post('app.info', '{"args": []}')).status).toBe(200);
    for (const table of ['datasets', 'runs', 'searches']) expect(svc.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    expect(readdirSync(home).filter((f) => !f.startsWith('alphanet.db'))).toEqual([]);
    expect(existsSync('/tmp/x.json')).toBe(false);
  }, 300_000);
});
