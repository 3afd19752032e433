#!/usr/bin/env node
/**
 * `npm test`: everything CI runs, with ONE closing line `tests: N passed, N failed[, N skipped]` that counts both
 * suites.
 *
 *   1. build (`electron-vite build`): the runner, CLI and e2e tests use out/, and so do the torch engine's parity tests;
 *   2. vitest (every project), its summary reporter writing its counts to a file instead of printing its own line;
 *   3. pytest over engines/ (the PyTorch engine, engines/torch/tests) with the interpreter chosen as the workbench
 *      chooses it: $ALPHANET_PYTHON, else the first of `python3`, `/usr/bin/python3` that imports torch (and pytest).
 *      Without one the Python suite is skipped with one line saying why — a failure under CI (CI=true). pytest's
 *      exit code 5 (no tests collected) is a failure too.
 *
 * Both suites run with TMPDIR (TMP, TEMP) pointed at one temporary folder of this run, removed at the end: many tests
 * make a data directory with mkdtemp and do not remove it, and a full run left about 1.3 GB in the system's temp
 * folder each time (measured 2026-12-07). A run that is killed (a signal, not a test failure) leaves its folder
 * (`alphanet-test-*`).
 *
 * Arguments are passed to vitest (`npm test -- test/unit/engine`). Exit code 0 only if both suites passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const ci = process.env.CI === 'true';
const tmp = mkdtempSync(join(tmpdir(), 'alphanet-test-'));
const scratch = { TMPDIR: tmp, TMP: tmp, TEMP: tmp };
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });

let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;

try {
  const build = run('npx', ['electron-vite', 'build']);
  if (build.status !== 0) {
    console.log('\nbuild failed');
    ok = false;
    failed++;
  } else {
    // 2. vitest
    const countsFile = join(tmp, 'vitest-counts.json');
    const v = run('npx', ['vitest', 'run', ...process.argv.slice(2)], { ...scratch, ALPHANET_TEST_COUNTS: countsFile });
    try {
      const c = JSON.parse(readFileSync(countsFile, 'utf8'));
      passed += c.passed;
      failed += c.failed;
      skipped += c.skipped;
    } catch {
      console.log('vitest wrote no counts (it did not finish)');
      failed++;
    }
    if (v.status !== 0) ok = false;

    // 3. pytest
    const py = choosePython();
    if (!py.exe) {
      console.log(`python suite skipped: ${py.why}${ci ? ' — a failure under CI (CI=true)' : ''}`);
      if (ci) {
        failed++;
        ok = false;
      } else skipped++;
    } else {
      const xml = join(tmp, 'pytest.xml');
      console.log(`\npython suite: ${py.exe} (torch ${py.torch})`);
      const p = run(py.exe, ['-m', 'pytest', 'engines', '-q', '-p', 'no:cacheprovider', `--junitxml=${xml}`], { ...scratch, ALPHANET_PYTHON: py.exe });
      const counts = junitCounts(xml);
      if (p.status === 5 || (counts && counts.tests === 0)) {
        console.log('python suite: no tests collected (pytest exit code 5) — a failure');
        failed++;
        ok = false;
      } else if (!counts) {
        console.log(`python suite: pytest exited with ${p.status} and wrote no report`);
        failed++;
        ok = false;
      } else {
        passed += counts.tests - counts.failures - counts.errors - counts.skipped;
        failed += counts.failures + counts.errors;
        skipped += counts.skipped;
        if (p.status !== 0) ok = false;
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (failed > 0) ok = false;
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : 1);

/** The interpreter of the Python suite and why there is none. */
function choosePython() {
  const probe = (exe) => {
    const r = spawnSync(exe, ['-c', 'import torch, numpy, pytest; print(torch.__version__)'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const env = process.env.ALPHANET_PYTHON;
  if (env) {
    const v = probe(env);
    return v ? { exe: env, torch: v } : { why: `ALPHANET_PYTHON=${env} cannot import torch, numpy and pytest` };
  }
  for (const exe of ['python3', '/usr/bin/python3']) {
    const v = probe(exe);
    if (v) return { exe, torch: v };
  }
  return { why: 'no python3 with torch, numpy and pytest (install python3-torch python3-pytest python3-numpy, or set ALPHANET_PYTHON)' };
}

/** Totals of a pytest JUnit XML report, or null when there is none. */
function junitCounts(path) {
  let xml;
  try {
    xml = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /<testsuite\b([^>]*)>/.exec(xml);
  if (!m) return null;
  const attr = (name) => Number((new RegExp(`\\b${name}="(\\d+)"`).exec(m[1]) ?? [])[1] ?? 0);
  return { tests: attr('tests'), failures: attr('failures'), errors: attr('errors'), skipped: attr('skipped') };
}
