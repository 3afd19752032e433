/**
 * The packaged layout: electron-builder packs the built app (out/) with electron-builder.yml for Linux (`--dir`, the
 * unpacked app that the AppImage and deb targets wrap) against a stand-in Electron directory, as no Electron binary
 * can be downloaded here. The stand-in cannot run, so the checks read the archive: what app.asar holds, what sits in
 * app.asar.unpacked, and that the packaged production node_modules alone run the CLI and a 2-step training (runner
 * included) once extracted, under plain Node.
 *
 * Slow (about 20–40 s: electron-builder copies ~6,000 files): runs with ALPHANET_SLOW_TESTS=1, which CI sets. Needs a
 * prior `npx electron-vite build` (npm test runs it).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { getRawHeader, extractAll, extractFile, type DirectoryRecord, type FileRecord } from '@electron/asar';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const slow = process.env.ALPHANET_SLOW_TESTS === '1';
const ROOT = join(__dirname, '..', '..', '..');
/** Where Electron's fuse wire starts in its executable (@electron/fuses). */
const FUSE_SENTINEL = Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX');
/** linux.executableName in electron-builder.yml. */
const EXECUTABLE = 'alphanet-workbench';
/**
 * The built entry points the app loads at run time: main, the processes it starts (training runner, search runner,
 * dataset worker, engine worker; the CLI), the preload and the renderer. Every other file of out/ is
 * checked too, as found on disk.
 */
const ENTRIES = ['index', 'runner', 'search-runner', 'data-worker', 'engine-worker', 'cli'].map((e) => `out/main/${e}.js`).concat('out/preload/preload.js', 'out/renderer/index.html');
/** A regression bound, not a target: today's archive is ~46 MB; source maps or the TF.js browser bundles would double it. */
const MAX_ASAR_BYTES = 80e6;

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Entry {
  size: number;
  unpacked: boolean;
}

/** Every file in the archive, by its '/'-separated path relative to the archive root. */
function archiveFiles(asar: string): Map<string, Entry> {
  const files = new Map<string, Entry>();
  const walk = (dir: DirectoryRecord, prefix: string): void => {
    for (const [name, node] of Object.entries(dir.files)) {
      const path = prefix + name;
      if ('files' in node) walk(node, `${path}/`);
      else if ('size' in node) files.set(path, { size: (node as FileRecord).size, unpacked: (node as FileRecord).unpacked === true });
    }
  };
  walk(getRawHeader(asar).header, '');
  return files;
}

/** Files under `dir`, '/'-separated and relative to `base`. */
function filesUnder(dir: string, base: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(base, join(d.parentPath, d.name)).split(sep).join('/'));
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

/** The environment of a child that must resolve modules from the extracted app only. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ALPHANET_BACKEND: 'wasm' };
  for (const k of ['NODE_PATH', 'ALPHANET_RUNNER', 'ALPHANET_HOME', 'ALPHANET_WASM_DIR']) delete env[k];
  return env;
}

describe.skipIf(!slow)('packaged layout (electron-builder --dir --linux, stand-in Electron)', () => {
  let work = '';
  let resources = '';
  let asar = '';
  let files = new Map<string, Entry>();

  beforeAll(async () => {
    for (const f of ENTRIES) {
      if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npx electron-vite build\` (npm test does) before the packaging test`);
    }
    work = mkdtempSync(join(tmpdir(), 'alphanet-pack-'));
    // The least electron-builder needs from electronDist for linux --dir: the `electron` executable, which it
    // renames to the app's executable (an empty directory fails with ENOENT on that rename). The real dist also has
    // LICENSE, version, locales/, *.pak and the shared libraries, which are copied through untouched.
    const fake = join(work, 'electron-dist');
    mkdirSync(fake);
    // Electron's fuse wire is in the binary after a sentinel (version 1, eight fuses, all on here): electron-builder
    // flips the fuses of electron-builder.yml in it, which the fuses test reads back from the packaged executable.
    writeFileSync(join(fake, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in Electron: cannot run" >&2\nexit 1\n# '), FUSE_SENTINEL, Buffer.from([1, 8]), Buffer.from('11111111'), Buffer.from('\n')]));
    chmodSync(join(fake, 'electron'), 0o755);
    const output = join(work, 'dist');
    const cli = join(ROOT, 'node_modules', 'electron-builder', 'cli.js');
    const r = await run(process.execPath, [cli, '--dir', '--linux', '--x64', `-c.electronDist=${fake}`, `-c.directories.output=${output}`], {
      cwd: ROOT,
      env: process.env,
    });
    if (r.code !== 0) throw new Error(`electron-builder exited with ${r.code}:\n${r.out.slice(-4000)}`);
    const unpackedApp = join(output, 'linux-unpacked');
    expect(existsSync(join(unpackedApp, EXECUTABLE)), `${unpackedApp}/${EXECUTABLE} (the renamed Electron executable) is missing`).toBe(true);
    resources = join(unpackedApp, 'resources');
    asar = join(resources, 'app.asar');
    if (!existsSync(asar)) throw new Error(`electron-builder wrote no ${asar}; output:\n${r.out.slice(-4000)}`);
    files = archiveFiles(asar);
    const size = statSync(asar).size;
    const unpacked = [...files.values()].filter((e) => e.unpacked).length;
    console.log(`app.asar: ${(size / 1e6).toFixed(1)} MB, ${files.size} files (${unpacked} of them in app.asar.unpacked)`);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('flips the Electron fuses of electron-builder.yml in the packaged executable', () => {
    const exe = readFileSync(join(resources, '..', EXECUTABLE));
    const at = exe.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    const wire = String.fromCharCode(...exe.subarray(at + 2, at + 2 + exe[at + 1]));
    // RunAsNode, CookieEncryption, NodeOptions, NodeCliInspect, AsarIntegrity, OnlyLoadAppFromAsar, V8Snapshot,
    // GrantFileProtocolExtraPrivileges (@electron/fuses FuseV1Options order).
    expect(wire).toBe('01001100');
  });

  it('holds the whole built app (out/, every bundle and chunk) and the packaged package.json', () => {
    const built = filesUnder(join(ROOT, 'out'), ROOT).filter((f) => !f.endsWith('.map'));
    const required = ['package.json', ...ENTRIES, 'resources/icon.png', ...built];
    const missing = required.filter((f) => !files.has(f));
    expect(missing, `missing from app.asar: ${missing.join(', ')}`).toEqual([]);

    const packaged = JSON.parse(extractFile(asar, 'package.json').toString('utf8')) as Record<string, unknown>;
    expect(packaged.main, 'the packaged package.json must point at the built main').toBe(pkg.main);
    expect(packaged.devDependencies, 'electron-builder strips devDependencies from the packaged package.json').toBeUndefined();
  });

  it('holds every production dependency and none of the devDependencies', () => {
    const prod = Object.keys(pkg.dependencies);
    const missing = prod.filter((d) => !files.has(`node_modules/${d}/package.json`));
    expect(missing, `production dependencies missing from app.asar: ${missing.join(', ')}`).toEqual([]);
    // The JavaScript that loads better-sqlite3's addon, and TF.js's Node entry points, are inside.
    for (const f of ['node_modules/better-sqlite3/lib/index.js', 'node_modules/bindings/bindings.js', 'node_modules/@tensorflow/tfjs/dist/tf.node.js', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js', 'node_modules/zod/package.json']) {
      expect(files.has(f), `${f} is missing from app.asar`).toBe(true);
    }

    const dev = Object.keys(pkg.devDependencies);
    // The brief's list, spelled out so that a change to package.json cannot silently drop one from the check.
    for (const d of ['electron', 'vitest', 'svelte', 'typescript', 'onnxruntime-node', 'playwright-core']) expect(dev, `${d} should be a devDependency`).toContain(d);
    const leaked = dev.filter((d) => [...files.keys()].some((f) => f.startsWith(`node_modules/${d}/`)));
    expect(leaked, `devDependencies packaged into app.asar: ${leaked.join(', ')}`).toEqual([]);
  });

  it('packages no sources, tests, docs, source maps or TypeScript', () => {
    const top = [...new Set([...files.keys()].map((f) => f.split('/')[0]))].sort();
    expect(top, 'app.asar top level: only the allow-list of electron-builder.yml `files` plus node_modules').toEqual(['node_modules', 'out', 'package.json', 'resources']);
    const maps = [...files.keys()].filter((f) => f.endsWith('.map'));
    expect(maps.length, `source maps in app.asar, e.g. ${maps.slice(0, 5).join(', ')}`).toBe(0);
    const ts = [...files.keys()].filter((f) => /\.[mc]?ts$/.test(f));
    expect(ts.length, `TypeScript files in app.asar, e.g. ${ts.slice(0, 5).join(', ')}`).toBe(0);
    expect(statSync(asar).size, `app.asar is ${(statSync(asar).size / 1e6).toFixed(1)} MB: check the exclusions in electron-builder.yml`).toBeLessThan(MAX_ASAR_BYTES);
  });

  it('unpacks better_sqlite3.node and the wasm backend’s .wasm files, and no native binary stays inside the archive', () => {
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
    const wasm = readdirSync(join(ROOT, wasmDir)).filter((f) => f.endsWith('.wasm')).map((f) => `${wasmDir}/${f}`);
    expect(wasm.length, `no .wasm files in ${wasmDir}`).toBeGreaterThanOrEqual(3);
    for (const f of [addon, ...wasm]) {
      const entry = files.get(f);
      expect(entry, `${f} is missing from app.asar's index`).toBeDefined();
      expect(entry?.unpacked, `${f} must be unpacked (asarUnpack)`).toBe(true);
      const onDisk = join(resources, 'app.asar.unpacked', ...f.split('/'));
      expect(existsSync(onDisk), `${onDisk} is missing`).toBe(true);
      expect(statSync(onDisk).size, `${onDisk} differs in size from the project's copy`).toBe(statSync(join(ROOT, f)).size);
    }
    const trapped = [...files].filter(([f, e]) => /\.(node|wasm|so|dylib|dll)$/.test(f) && !e.unpacked).map(([f]) => f);
    expect(trapped, `native binaries inside app.asar (dlopen/fs cannot load them there): ${trapped.join(', ')}`).toEqual([]);
  });

  it('the packaged production node_modules alone run the CLI (wasm backend, SQLite) and a 2-step training run', async () => {
    // Extracted (app.asar.unpacked included) into a temporary folder with no node_modules above it, so nothing
    // resolves from the project's node_modules. Plain Node stands in for Electron's Node here, so this checks which
    // modules and files are packaged, not Electron's ABI (better-sqlite3 is the Node build; see the README).
    const app = join(work, 'extracted');
    extractAll(asar, app);
    const home = join(work, 'home');
    const env = isolatedEnv();
    const doctor = await run(process.execPath, [join(app, 'out', 'main', 'cli.js'), '--home', home, '--backend', 'wasm', '--json', 'doctor'], { cwd: app, env });
    expect(doctor.code, doctor.out).toBe(0);
    expect(JSON.parse(doctor.out)).toMatchObject({ chosen: 'wasm', tfBackend: 'wasm', tfjsVersion: pkg.dependencies['@tensorflow/tfjs'] });

    const config = join(work, 'run.json');
    writeFileSync(config, JSON.stringify({ space: 'alphanet-cifar32', validation: { calibrationBatches: 1, calibrationBatchSize: 16, randomSubnets: 1, batchSize: 64, maxImages: 64 }, progressEverySteps: 1 }));
    const train = await run(process.execPath, [join(app, 'out', 'main', 'cli.js'), '--home', home, 'train', config, '--epochs', '1', '--steps-per-epoch', '2', '--batch-size', '16', '--seed', '3', '--name', 'packaged'], { cwd: app, env });
    expect(train.code, train.out).toBe(0);
    expect(train.out).toMatch(/run 1 'packaged': finished, step 2\/2/);
  });
});
