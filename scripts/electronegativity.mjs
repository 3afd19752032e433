#!/usr/bin/env node
/**
 * Doyensec's Electronegativity over the app's code, an audit of its Electron security settings: `node scripts/electronegativity.mjs`. The auditor is
 * run at a pinned version through `npm exec` (its own dependency tree: installed into the project, its old commander
 * would resolve to ours and fail). It scans a copy of src-main, src-renderer, package.json (from which it reads the
 * Electron version) and electron-builder.yml — not node_modules. Every HIGH or MEDIUM finding must be one of those
 * explained in docs/SECURITY.md ("Electronegativity"), listed below by check and file; any other fails the script.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VERSION = '1.10.3';
/** Check id → files where its finding is reviewed and explained in docs/SECURITY.md. */
const EXPLAINED = {
  OPEN_EXTERNAL_JS_CHECK: ['src-main/index.ts', 'src-main/service/index.ts'],
  PRELOAD_JS_CHECK: ['src-main/index.ts'],
};

const root = new URL('..', import.meta.url).pathname;
const tree = mkdtempSync(join(tmpdir(), 'alphanet-eneg-'));
try {
  for (const p of ['src-main', 'src-renderer', 'package.json', 'electron-builder.yml']) cpSync(join(root, p), join(tree, p), { recursive: true });
  const csv = join(tree, 'findings.csv');
  execFileSync('npm', ['exec', '--yes', `--package=@doyensec/electronegativity@${VERSION}`, '--', 'electronegativity', '-i', tree, '-r', '-o', csv], { stdio: ['ignore', 'ignore', 'inherit'], cwd: tmpdir() });
  const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.match(/("[^"]*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '')));
  let unexplained = 0;
  for (const [check, severity, confidence, file, location] of rows) {
    const serious = severity === 'HIGH' || severity === 'MEDIUM';
    const ok = !serious || (EXPLAINED[check] ?? []).includes(file);
    if (!ok) unexplained++;
    console.log(`${ok ? (serious ? 'explained ' : 'low       ') : 'UNEXPLAINED'} ${severity.padEnd(6)} ${confidence.padEnd(9)} ${check} ${file}:${location}`);
  }
  console.log(`electronegativity ${VERSION}: ${rows.length} findings, ${unexplained} HIGH/MEDIUM not explained in docs/SECURITY.md`);
  process.exitCode = unexplained ? 1 : 0;
} finally {
  rmSync(tree, { recursive: true, force: true });
}
