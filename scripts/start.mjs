#!/usr/bin/env node
/**
 * `npm start`: build and launch the desktop app (`electron-vite preview`), but first make sure the Electron binary is
 * there. electron ≥ 42 downloads it on the first `require('electron')`; where that cannot happen (no network) the
 * require throws, and instead of electron-vite's stack trace the user gets one line pointing to the browser mode.
 * The check runs in a child process so the download attempt's own output stays out of the way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const probe = spawnSync(process.execPath, ['-e', "require('electron')"], { cwd: root, encoding: 'utf8', timeout: 300_000 });
if (probe.status !== 0) {
  console.error('npm start: the Electron binary could not be found or downloaded (no network?); use `npm run serve` to open the workbench in a browser instead.');
  process.exit(1);
}
const bin = fileURLToPath(new URL('../node_modules/.bin/electron-vite', import.meta.url));
const child = spawn(bin, ['preview', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
