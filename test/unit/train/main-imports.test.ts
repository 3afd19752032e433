/**
 * The Electron main process never computes, so it must not load TF.js (about half a second and its memory at start):
 * nothing that `src-main/index.ts` imports — the workbench service, the RunManager, the training config — may reach
 * `@tensorflow/*`. Checked on the TypeScript sources, statically: every `import`/`export … from` that brings values
 * is followed (`import type` and all-type imports are erased by the compiler and skipped; dynamic `import()` loads
 * on demand and is not followed). The walk is conservative: an import used only as a type still counts.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');
const src = (p: string) => join(ROOT, 'src-main', p);

/** The module specifiers of a file's value imports and re-exports. */
export function valueImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.importClause;
      // `import 'x'` (no clause) runs the module; `import type …` and `import { type A, type B }` are erased.
      const erased =
        !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!erased) out.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.exportClause;
      const erased = st.isTypeOnly || (!!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      if (!erased) out.push(st.moduleSpecifier.text);
    }
  }
  return out;
}

function resolveLocal(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, join(base, 'index.ts')]) if (existsSync(c) && !c.endsWith('/') && /\.(ts|json)$/.test(c)) return c;
  throw new Error(`${relative(ROOT, from)}: cannot resolve '${spec}'`);
}

/** Every package the entry reaches through value imports, each with one import chain that reaches it. */
export function reachedPackages(entry: string): { files: Set<string>; packages: Map<string, string[]> } {
  const files = new Set<string>();
  const packages = new Map<string, string[]>();
  const walk = (file: string, chain: string[]) => {
    if (files.has(file)) return;
    files.add(file);
    if (file.endsWith('.json')) return;
    const here = [...chain, relative(ROOT, file)];
    for (const spec of valueImports(file)) {
      if (spec.startsWith('.')) walk(resolveLocal(file, spec), here);
      else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!packages.has(pkg)) packages.set(pkg, [...here, spec]);
      }
    }
  };
  walk(entry, []);
  return { files, packages };
}

const tfPackages = (packages: Map<string, string[]>) => [...packages].filter(([p]) => p.startsWith('@tensorflow/'));

describe('the Electron main process imports no TF.js', () => {
  it('src-main/index.ts (and so the service, the RunManager and the training config) reaches no @tensorflow package', () => {
    const { files, packages } = reachedPackages(src('index.ts'));
    // The walk really went through the service and the training side (a walk that stops early would prove nothing).
    for (const f of ['service/index.ts', 'train/manager.ts', 'train/config.ts', 'train/resolve-dataset.ts', 'jobs/job-manager.ts', 'store/jobs.ts']) {
      expect(files.has(src(f)), f).toBe(true);
    }
    expect(packages.has('electron')).toBe(true);
    expect(packages.has('better-sqlite3')).toBe(true);
    const tf = tfPackages(packages);
    expect(tf.map(([p, chain]) => `${p} via ${chain.join(' → ')}`)).toEqual([]);
  });

  it('the search and training managers alone reach no @tensorflow package either (the service may host them)', () => {
    for (const entry of ['train/manager.ts', 'search/manager.ts', 'jobs/job-manager.ts']) {
      expect(tfPackages(reachedPackages(src(entry)).packages).map(([p, chain]) => `${p} via ${chain.join(' → ')}`), entry).toEqual([]);
    }
  });

  it('finds TF.js where it is: the runner, and a module that only re-exports it', () => {
    const runner = tfPackages(reachedPackages(src('train/runner.ts')).packages);
    expect(runner.map(([p]) => p)).toContain('@tensorflow/tfjs');
    // engine/backend.ts uses the tfjs-free names of the core but imports tfjs itself.
    expect(valueImports(src('engine/backend.ts'))).toEqual(expect.arrayContaining(['@tensorflow/tfjs', './core/backend-names']));
    // The TF.js entry re-exports the core; the core entry reaches no TF.js.
    expect(tfPackages(reachedPackages(src('engine/index.ts')).packages).map(([p]) => p)).toContain('@tensorflow/tfjs');
    expect(tfPackages(reachedPackages(src('engine/core/index.ts')).packages)).toEqual([]);
  });

  it('skips type-only imports and exports and dynamic imports, keeps every other form', () => {
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
        "import { type L } from './missing';",
      ].join('\n'),
    );
    expect(valueImports(file)).toEqual(['c', 'd', 'e', 'f', 'g', 'j']);
  });
});
