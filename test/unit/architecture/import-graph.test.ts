/**
 * The layers of src-main, enforced on the import graph of the TypeScript sources (read statically with the compiler's
 * parser, nothing is executed):
 *
 * - every module belongs to one layer of `LAYERS` and imports only from its own layer or lower ones;
 * - no cycles between folders (`engine/core` counts as a folder of its own), and no imports between `train/` and
 *   `search/` in either direction (what both need lives in the engine, or in `jobs/`, which uses both);
 * - other folders use the engine through its two entry points only: `engine/core` (TF.js-free) and `engine`;
 * - TF.js is never reachable from Electron main (`src-main/index.ts`), the preload or the renderer, nor from the engine
 *   core's entry; the workbench service and the job managers stay TF.js-free, so Electron main can host them;
 * - all SQL lives in `store/`: no SQL statement in a string outside it, and only `store/` imports better-sqlite3;
 * - the renderer (src-renderer, sandboxed, no Node) imports from src-main only the API contract (`ipc/api-types.ts`,
 *   `ipc/protocol.ts`) and the few pure modules of `RENDERER_SHARED`, and what it reaches loads no Node built-in,
 *   Electron, SQLite or TF.js.
 *
 * Layer and cycle checks count every import: value, type-only and dynamic `import()`. The TF.js reachability walk
 * follows only what loads code at run time: `import type` and all-type imports are erased by the compiler, and a
 * dynamic `import()` loads on demand. The walk is conservative: an import used only as a type still counts.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'src-main');
const src = (p: string) => join(SRC, p);

/**
 * The layer order, lowest first: a module may import from its own layer and the layers before it. Entries are folders
 * of src-main (a module belongs to the longest one that contains it) or top-level files.
 */
export const LAYERS: readonly { name: string; members: readonly string[] }[] = [
  // Any other top-level file (text.ts, atomic-files.ts, app-paths.ts, …) is a leaf helper too: it imports no layer.
  { name: 'leaf helpers', members: ['security'] },
  { name: 'engine core (no TF.js)', members: ['engine/core'] },
  { name: 'engine (TF.js)', members: ['engine'] },
  // SQLite repositories, one module per table group, no domain logic: the data modules build on them, not the reverse.
  { name: 'store (all SQL)', members: ['store'] },
  { name: 'data and settings', members: ['data', 'settings.ts'] },
  { name: 'train, search, export', members: ['train', 'search', 'export'] },
  { name: 'jobs (processes, workers, transports, runner messages)', members: ['jobs'] },
  // The API contract (types, argument schemas, wire protocol) that the service implements and the front ends speak.
  { name: 'API contract', members: ['ipc'] },
  { name: 'service', members: ['service'] },
  { name: 'front ends', members: ['server', 'cli', 'bench'] },
  { name: 'Electron shell', members: ['index.ts', 'menu.ts', 'preload.ts', 'utility-runner.ts'] },
];

/** Folders of one layer that must not import each other in either direction. */
export const APART: readonly (readonly [string, string])[] = [['train', 'search']];

/**
 * What the renderer may import from src-main besides the API contract (`ipc/api-types.ts`, `ipc/protocol.ts`): pure
 * leaf modules (no Node built-in, no package) whose arithmetic both sides must agree on. The engine's entry
 * `engine/core/index.ts` is no choice for the renderer: it reaches node:fs (checkpoints, space files).
 */
export const RENDERER_SHARED: readonly string[] = [
  'data/types.ts', // the image-folder size bounds the import form checks, the importer's own
  'train/worker-count.ts', // `workers: auto`, which the new-run form shows per run of a comparison
  'train/distillation-evidence.ts', // the fidelity study's numbers the new-run form shows, as the presets serve them
  'service/metrics-export.ts', // the run page's metrics export, byte for byte what `alphanet runs metrics` writes
  'engine/core/rng.ts', // the seeded RNG of the explorer benchmark's synthetic points
];
const RENDERER_CONTRACT = ['ipc/api-types.ts', 'ipc/protocol.ts'];

/** The engine's entry points: the only engine modules other folders may import. */
const ENGINE_ENTRIES = ['engine/core/index.ts', 'engine/index.ts'];

export interface Import {
  spec: string;
  /** Erased by the compiler (`import type`, all-type named imports and exports). */
  typeOnly: boolean;
  /** `import('…')`: loaded on demand. */
  dynamic: boolean;
}

function sourceText(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** Every import and re-export of a file (a .svelte file: of its scripts). */
export function fileImports(file: string): Import[] {
  const sf = ts.createSourceFile(file, sourceText(file), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.importClause;
      // `import 'x'` (no clause) runs the module; `import type …` and `import { type A, type B }` are erased.
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: st.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.exportClause;
      const typeOnly = st.isTypeOnly || (!!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      out.push({ spec: st.moduleSpecifier.text, typeOnly, dynamic: false });
    }
  }
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
      out.push({ spec: n.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push({ spec: n.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The module specifiers of a file's value imports and re-exports (what loads code when the file loads). */
export function valueImports(file: string): string[] {
  return fileImports(file)
    .filter((i) => !i.typeOnly && !i.dynamic)
    .map((i) => i.spec);
}

function resolveLocal(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, join(base, 'index.ts')]) if (existsSync(c) && statSync(c).isFile() && /\.(ts|json|svelte)$/.test(c)) return c;
  throw new Error(`${relative(ROOT, from)}: cannot resolve '${spec}'`);
}

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Every package the entries reach through value imports, each with one import chain that reaches it. */
export function reachedPackages(...entries: string[]): { files: Set<string>; packages: Map<string, string[]> } {
  const files = new Set<string>();
  const packages = new Map<string, string[]>();
  const walk = (file: string, chain: string[]) => {
    if (files.has(file)) return;
    files.add(file);
    if (file.endsWith('.json')) return;
    const here = [...chain, relative(ROOT, file)];
    for (const spec of valueImports(file)) {
      if (/\.(css|svg|png|html)(\?.*)?$/.test(spec)) continue; // assets, not code
      if (spec.startsWith('.')) walk(resolveLocal(file, spec), here);
      else if (!packages.has(packageOf(spec))) packages.set(packageOf(spec), [...here, spec]);
    }
  };
  for (const e of entries) walk(e, []);
  return { files, packages };
}

const tfChains = (packages: Map<string, string[]>) =>
  [...packages].filter(([p]) => p.startsWith('@tensorflow/')).map(([p, chain]) => `${p} via ${chain.join(' → ')}`);

function listFiles(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, ext));
    else if (ext.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** A module's unit (the layer member it belongs to), e.g. `engine/core`, `store` or `settings.ts`; relative to src-main. */
export function unitOf(rel: string): string | undefined {
  const members = LAYERS.flatMap((l) => l.members).sort((a, b) => b.length - a.length);
  return members.find((m) => rel === m || rel.startsWith(`${m}/`)) ?? (rel.includes('/') ? undefined : rel);
}

/** A unit's layer; a top-level file not named in LAYERS is a leaf helper (layer 0). */
const layerOf = (unit: string) => Math.max(0, LAYERS.findIndex((l) => l.members.includes(unit)));

/** An import between two src-main modules (paths relative to src-main). */
export interface Edge {
  from: string;
  to: string;
}

/** The src-main import graph: every local import of every module, with its kind. */
export function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of listFiles(SRC, /\.ts$/)) {
    for (const i of fileImports(file)) {
      if (!i.spec.startsWith('.')) continue;
      const target = resolveLocal(file, i.spec);
      if (!target.startsWith(SRC + sep) || target.endsWith('.json')) continue;
      edges.push({ from: relative(SRC, file), to: relative(SRC, target) });
    }
  }
  return edges;
}

/** Every rule the graph breaks, one line each (empty: the layers hold). */
export function layerViolations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  const unitEdges = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (!a || !b) {
      out.push(`${!a ? from : to}: in no layer (add its folder to LAYERS)`);
      continue;
    }
    if (a === b) continue;
    if (layerOf(b) > layerOf(a)) out.push(`upward import: ${from} (${LAYERS[layerOf(a)].name}) → ${to} (${LAYERS[layerOf(b)].name})`);
    if (APART.some(([x, y]) => (a === x && b === y) || (a === y && b === x))) out.push(`${a} and ${b} must not import each other: ${from} → ${to}`);
    if (to.startsWith('engine/') && !from.startsWith('engine/') && !ENGINE_ENTRIES.includes(to)) {
      out.push(`engine submodule imported from outside the engine: ${from} → ${to} (use engine/core or engine)`);
    }
    if (!unitEdges.has(a)) unitEdges.set(a, new Set());
    unitEdges.get(a)!.add(b);
  }
  for (const cycle of cycles(unitEdges)) out.push(`folder cycle: ${cycle.join(' ↔ ')}`);
  return [...new Set(out)];
}

const RENDERER = '../src-renderer/';

/** The renderer's imports of src-main modules: `from` relative to src-main (`../src-renderer/…`), `to` inside it. */
export function rendererImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of listFiles(join(ROOT, 'src-renderer'), /\.(ts|svelte)$/)) {
    for (const i of fileImports(file)) {
      if (!i.spec.startsWith('.') || /\.(css|svg|png|html)(\?.*)?$/.test(i.spec)) continue;
      const target = resolveLocal(file, i.spec);
      if (target.startsWith(SRC + sep)) edges.push({ from: relative(SRC, file), to: relative(SRC, target) });
    }
  }
  return edges;
}

/** Every renderer import of src-main outside the contract and RENDERER_SHARED, one line each. */
export function rendererViolations(edges: readonly Edge[]): string[] {
  return edges
    .filter((e) => !RENDERER_CONTRACT.includes(e.to) && !RENDERER_SHARED.includes(e.to))
    .map((e) => `renderer import outside the API contract and RENDERER_SHARED: ${e.from.slice(RENDERER.length)} → src-main/${e.to}`);
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(g: Map<string, Set<string>>): string[][] {
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) connect(v);
  return out;
}

/** An SQL statement (upper-case keywords, as the store writes them; prose such as "select from" does not match). */
const SQL = /\b(SELECT\s[\s\S]*\sFROM|INSERT\s+(OR\s+[A-Z]+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX|TRIGGER)|PRAGMA\s)\b/;

/** The SQL statements written in a file's string and template literals, each as `file:line: text`. */
export function sqlStrings(file: string, label = file): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    let text: string | undefined;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
    else if (ts.isTemplateExpression(n)) text = [n.head.text, ...n.templateSpans.map((sp) => sp.literal.text)].join(' ? ');
    if (text !== undefined && SQL.test(text)) out.push(`${label}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${text.replace(/\s+/g, ' ').slice(0, 80)}`);
    if (text === undefined) ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('the layers of src-main', () => {
  const graph = importGraph();

  it('hold: no upward import, no folder cycle, train and search apart, the engine through its entries', () => {
    // The walk really saw the tree (an empty graph would prove nothing).
    expect(graph.length).toBeGreaterThan(300);
    expect(graph).toContainEqual({ from: 'service/index.ts', to: 'jobs/run-manager.ts' });
    expect(layerViolations(graph)).toEqual([]);
  });

  it('reports a planted violation of each rule', () => {
    const plants: [Edge[], string | string[]][] = [
      [[{ from: 'store/runs.ts', to: 'export/index.ts' }], 'upward import: store/runs.ts (store (all SQL)) → export/index.ts (train, search, export)'],
      [
        [{ from: 'store/datasets.ts', to: 'data/types.ts' }],
        ['upward import: store/datasets.ts (store (all SQL)) → data/types.ts (data and settings)', 'folder cycle: data ↔ store'], // data imports store
      ],
      [[{ from: 'train/trainer.ts', to: 'search/evolution.ts' }], 'train and search must not import each other: train/trainer.ts → search/evolution.ts'],
      [
        [{ from: 'search/run-subnets.ts', to: 'engine/supernet.ts' }],
        'engine submodule imported from outside the engine: search/run-subnets.ts → engine/supernet.ts (use engine/core or engine)',
      ],
      [
        [
          { from: 'search/x.ts', to: 'export/y.ts' },
          { from: 'export/y.ts', to: 'search/x.ts' },
        ],
        'folder cycle: export ↔ search',
      ],
      [[{ from: 'nowhere/x.ts', to: 'store/db.ts' }], 'nowhere/x.ts: in no layer (add its folder to LAYERS)'],
      [[{ from: 'text.ts', to: 'store/db.ts' }], 'upward import: text.ts (leaf helpers) → store/db.ts (store (all SQL))'],
    ];
    for (const [edges, message] of plants) expect(layerViolations([...graph, ...edges])).toEqual(typeof message === 'string' ? [message] : message);
  });

  it('places every module of src-main in a layer', () => {
    const unplaced = listFiles(SRC, /\.ts$/)
      .map((f) => relative(SRC, f))
      .filter((f) => !unitOf(f));
    expect(unplaced).toEqual([]);
  });
});

describe('the renderer\'s imports of src-main', () => {
  const edges = rendererImports();

  it('are the API contract and the shared pure modules only', () => {
    // The walk saw the pages' imports of the contract (none would prove nothing).
    expect(edges.filter((e) => e.to === 'ipc/api-types.ts').length).toBeGreaterThan(15);
    expect(edges).toContainEqual({ from: '../src-renderer/bench/points.ts', to: 'engine/core/rng.ts' });
    expect(rendererViolations(edges)).toEqual([]);
  });

  it('reach no Node built-in, Electron, SQLite or TF.js: the shared modules are pure', () => {
    for (const m of [...RENDERER_SHARED, ...RENDERER_CONTRACT]) {
      const { packages } = reachedPackages(src(m));
      expect([...packages.keys()], m).toEqual([]);
    }
    const { packages } = reachedPackages(...listFiles(join(ROOT, 'src-renderer'), /\.(ts|svelte)$/));
    const forbidden = [...packages].filter(([p]) => p.startsWith('node:') || ['electron', 'better-sqlite3', 'fs', 'path', 'os', 'child_process'].includes(p) || p.startsWith('@tensorflow/'));
    expect(forbidden.map(([p, chain]) => `${p} via ${chain.join(' → ')}`)).toEqual([]);
    expect(packages.has('svelte')).toBe(true);
  });

  it('reports a renderer import of anything else', () => {
    expect(rendererViolations([{ from: '../src-renderer/pages/Runs.svelte', to: 'service/index.ts' }, { from: '../src-renderer/lib/api.ts', to: 'ipc/protocol.ts' }])).toEqual([
      'renderer import outside the API contract and RENDERER_SHARED: pages/Runs.svelte → src-main/service/index.ts',
    ]);
    expect(rendererViolations([{ from: '../src-renderer/bench/points.ts', to: 'engine/core/genome.ts' }])).toHaveLength(1);
  });
});

describe('all SQL lives in store/', () => {
  const outside = listFiles(SRC, /\.ts$/).filter((f) => !relative(SRC, f).startsWith(`store${sep}`));

  it('no module outside store/ writes an SQL statement or imports better-sqlite3', () => {
    expect(outside.length).toBeGreaterThan(150);
    expect(outside.flatMap((f) => sqlStrings(f, relative(SRC, f)))).toEqual([]);
    expect(outside.filter((f) => fileImports(f).some((i) => i.spec === 'better-sqlite3')).map((f) => relative(SRC, f))).toEqual([]);
  });

  it('finds statements in strings and templates, and not SQL words in prose', () => {
    // The store itself is full of them (a detector that finds nothing proves nothing).
    expect(sqlStrings(src('store/datasets.ts')).length).toBeGreaterThanOrEqual(5);
    const file = join(mkdtempSync(join(tmpdir(), 'sql-')), 'm.ts');
    writeFileSync(
      file,
      [
        "const a = db.prepare('SELECT bytes FROM checkpoints WHERE run_id = ?');",
        'const b = `UPDATE runs SET status = ${s} WHERE id = ?`;',
        "const c = `INSERT OR REPLACE INTO x (a) VALUES (?)`;",
        "const d = 'select the runs from the list, then delete from the view';",
        "const e = 'Select a dataset from the list';",
      ].join('\n'),
    );
    expect(sqlStrings(file, 'm.ts').map((l) => l.split(':').slice(0, 2).join(':'))).toEqual(['m.ts:1', 'm.ts:2', 'm.ts:3']);
  });
});

describe('TF.js stays where the computing is', () => {
  it('Electron main (src-main/index.ts: the service, the job managers, the training config) reaches no @tensorflow package', () => {
    const { files, packages } = reachedPackages(src('index.ts'));
    // The walk really went through the service and the job side.
    for (const f of ['service/index.ts', 'jobs/run-manager.ts', 'jobs/search-manager.ts', 'engine/core/train-config.ts', 'data/resolve-dataset.ts', 'jobs/job-manager.ts', 'store/jobs.ts']) {
      expect(files.has(src(f)), f).toBe(true);
    }
    expect(packages.has('electron')).toBe(true);
    expect(packages.has('better-sqlite3')).toBe(true);
    expect(tfChains(packages)).toEqual([]);
  });

  it('the preload, the managers and the engine core entry reach none either', () => {
    for (const entry of ['preload.ts', 'jobs/run-manager.ts', 'jobs/search-manager.ts', 'jobs/job-manager.ts', 'service/index.ts', 'engine/core/index.ts']) {
      expect(tfChains(reachedPackages(src(entry)).packages), entry).toEqual([]);
    }
  });

  it('the renderer (every script and component of src-renderer) reaches none', () => {
    const entries = listFiles(join(ROOT, 'src-renderer'), /\.(ts|svelte)$/);
    expect(entries.length).toBeGreaterThan(20);
    const { files, packages } = reachedPackages(...entries);
    expect(files.has(src('ipc/api-types.ts')) || [...files].some((f) => f.startsWith(SRC))).toBe(true);
    expect(tfChains(packages)).toEqual([]);
  });

  it('finds TF.js where it is: the runners and the engine entry', () => {
    for (const entry of ['jobs/run-runner.ts', 'jobs/search-runner.ts', 'engine/index.ts']) {
      expect(tfChains(reachedPackages(src(entry)).packages).length, entry).toBeGreaterThan(0);
    }
    // engine/backend.ts uses the core's backend names but imports tfjs itself.
    expect(valueImports(src('engine/backend.ts'))).toEqual(expect.arrayContaining(['@tensorflow/tfjs', './core/backend-names']));
  });

  it('reads every form of import: type-only and dynamic ones are kept apart', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'imports-')), 'm.ts');
    writeFileSync(
      file,
      [
        "import type { A } from 'a';",
        "import { type B, type C } from 'b';",
        "import { type D, E } from 'c';",
        "import F from 'd';",
        "import * as G from 'e';",
        "import 'f';",
        "export { H } from 'g';",
        "export type { I } from 'h';",
        "export { type J } from 'i';",
        "export * from 'j';",
        "const k = () => import('k');",
        "let l: import('l').L;",
      ].join('\n'),
    );
    expect(valueImports(file)).toEqual(['c', 'd', 'e', 'f', 'g', 'j']);
    const all = fileImports(file);
    expect(all.filter((i) => i.typeOnly).map((i) => i.spec)).toEqual(['a', 'b', 'h', 'i', 'l']);
    expect(all.filter((i) => i.dynamic).map((i) => i.spec)).toEqual(['k']);
  });
});
