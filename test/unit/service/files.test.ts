/**
 * Files the API writes and reads: a saved config never replaces a file unless asked, and keeps its mode;
 * the served mode touches only the allowed folders and its refusals name no path outside them; `app.revealPath`
 * shows only the data directory and what this session wrote or was handed; file-system failures are 4xx answers
 * that name no path, never a 500.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../src-main/data/synthetic';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';
import { toApiError } from '../../../src-main/service/errors';
import { FolderPolicy } from '../../../src-main/service/folders';

let home: string;
let served: WorkbenchService;
const probeBackend = async () => ({ name: 'cpu', detail: 'test' });

beforeAll(() => {
  home = tempDir('alphanet-files-');
  served = createWorkbenchService({ home, mode: 'served', adoptQueued: false, probeBackend, allowedFolders: [home, tmpdir()] });
});
afterAll(async () => {
  await served?.close({ pauseRuns: false });
});

describe('runs.saveConfig', () => {
  it('refuses to replace an existing file unless asked, and then keeps its mode', async () => {
    const target = join(tempDir(), 'secret.json');
    writeFileSync(target, 'precious');
    chmodSync(target, 0o600);
    const r = await served.run('runs.saveConfig', [{ epochs: 3 }, target, { overwrite: false }]);
    expect(r.status).toBe(400);
    expect(r.reply).toMatchObject({ ok: false, error: { field: 'path', message: expect.stringMatching(/already exists/) } });
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(await served.handlers['runs.saveConfig']({ epochs: 3 }, target, { overwrite: true })).toBe(target);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toMatchObject({ epochs: 3 });
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});

describe('the served mode’s allowed folders', () => {
  it('refuses reads and writes outside them with 403, naming the field but not the path, whether it exists or not', async () => {
    const outside = ['/etc/passwd', '/etc/no-such-file-here', '/proc/alphanet.json'];
    const messages = new Set<string>();
    for (const p of outside) {
      const imp = await served.run('datasets.import', [{ path: p }]);
      const save = await served.run('runs.saveConfig', [{ epochs: 3 }, p, { overwrite: true }]);
      for (const r of [imp, save]) {
        expect(r.status, p).toBe(403);
        expect(r.reply.ok).toBe(false);
        if (r.reply.ok) continue;
        expect(r.reply.error.field).toBe('path');
        expect(r.reply.error.message).not.toContain(p);
        expect(r.reply.error.message).not.toMatch(/\/etc|\/proc/);
        messages.add(r.reply.error.message.replace(/read|write/, ''));
      }
    }
    // The same words for an existing and a missing file: nothing is learnt about what is outside.
    expect(messages.size).toBe(1);
    expect(readFileSync('/etc/passwd', 'utf8').length).toBeGreaterThan(0);
  });

  it('sees through symbolic links, and defaults to the data directory and the home folder', async () => {
    const p = new FolderPolicy(['/tmp/allowed-a']);
    expect(p.allows('/tmp/allowed-a/x/y.json')).toBe(true);
    expect(p.allows('/tmp/allowed-a/../allowed-b/x')).toBe(false);
    expect(p.allows('/tmp/allowed-ab')).toBe(false);
    const dir = tempDir('alphanet-link-');
    mkdirSync(join(dir, 'in'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc', join(dir, 'in', 'out'));
    expect(new FolderPolicy([join(dir, 'in')]).allows(join(dir, 'in', 'out', 'passwd'))).toBe(false);
    const d = createWorkbenchService({ home, db: served.db, mode: 'served', adoptQueued: false, probeBackend });
    expect((await d.run('runs.saveConfig', [{ epochs: 3 }, join(tempDir(), 'x.json'), { overwrite: false }])).status).toBe(tmpdir().startsWith(process.env.HOME ?? '/nonexistent') ? 200 : 403);
    expect((await d.run('runs.saveConfig', [{ epochs: 3 }, join(home, 'x.json'), { overwrite: false }])).status).toBe(200);
    await d.close({ pauseRuns: false });
  });
});

describe('app.revealPath', () => {
  it('shows the data directory and what this session saved, not any existing path', async () => {
    const shown: string[] = [];
    const s = createWorkbenchService({ home, db: served.db, mode: 'electron', adoptQueued: false, probeBackend, revealPath: (p) => (shown.push(p), true) });
    expect(await s.handlers['app.revealPath']('/etc/passwd')).toBe(false);
    expect(await s.handlers['app.revealPath'](home)).toBe(true);
    const saved = join(tempDir(), 'mine.json');
    expect(await s.handlers['app.revealPath'](tmpdir())).toBe(false);
    await s.handlers['runs.saveConfig']({ epochs: 3 }, saved, { overwrite: false });
    expect(await s.handlers['app.revealPath'](saved)).toBe(true);
    expect(shown).toEqual([home, saved]);
    await s.close({ pauseRuns: false });
  });
});

describe('file-system errors', () => {
  it('are 4xx answers naming no path, never a 500 with a temp name', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const cases: [() => void, number][] = [
      [() => writeFileSync(join(file, 'x.json.tmp-123-abcd'), 'x'), 400], // ENOTDIR
      [() => readFileSync(join(file, '..', 'no-such.tmp-1')), 400], // ENOENT
    ];
    for (const [fn, status] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect((err as Error).message).toContain(file.slice(0, -7)); // Node's message names the path…
      const mapped = toApiError(err);
      expect(mapped.status).toBe(status);
      expect(mapped.error.message).not.toContain('/'); // …the answer does not
    }
    const full = Object.assign(new Error("ENOSPC: no space left on device, write '/home/u/.alphanet/runs/1/ckpt.tmp-9'"), { code: 'ENOSPC', syscall: 'write' });
    expect(toApiError(full)).toEqual({ status: 507, error: { message: 'no space left on the device (ENOSPC, write)' } });
  });
});

describe('the allowed-folders setting', () => {
  it('reads allowedFolders from settings.json (absolute paths only), and `alphanet serve` refuses a relative --allow-folder', async () => {
    const { readSettings } = await import('../../../src-main/settings');
    const { runCli } = await import('../../../src-main/cli/program');
    const h = tempDir('alphanet-settings-');
    expect(readSettings(h).allowedFolders).toBeUndefined();
    writeFileSync(join(h, 'settings.json'), JSON.stringify({ allowedFolders: ['/srv/data', h] }));
    expect(readSettings(h).allowedFolders).toEqual(['/srv/data', h]);
    writeFileSync(join(h, 'settings.json'), JSON.stringify({ allowedFolders: ['relative/dir'] }));
    expect(() => readSettings(h)).toThrow(/allowedFolders.*must be an absolute path/s);
    let err = '';
    const code = await runCli(['--home', h, 'serve', '--allow-folder', 'rel'], { out: () => undefined, err: (s) => (err += s), env: {} });
    expect(code).toBe(1);
    expect(err).toBe("alphanet: --allow-folder must be an absolute path, got 'rel'\n");
  });
});

describe('imports in the served mode', () => {
  it('do not follow a symbolic link out of the allowed folders, and the error names only the link', async () => {
    const { symlinkSync } = await import('node:fs');
    const { writeIdxSet } = await import('../../../src-main/data/synthetic');
    const allowed = tempDir('alphanet-allowed-');
    const outside = tempDir('alphanet-outside-');
    const set = writeIdxSet(join(allowed, 'set'), { nTrain: 20, nTest: 10, h: 4, w: 4 });
    const secret = join(outside, 'secret-name-t10k-labels-idx1-ubyte');
    writeFileSync(secret, readFileSync(join(set.dir, 't10k-labels-idx1-ubyte')));
    const { rmSync } = await import('node:fs');
    rmSync(join(set.dir, 't10k-labels-idx1-ubyte'));
    symlinkSync(secret, join(set.dir, 't10k-labels-idx1-ubyte'));
    const s = createWorkbenchService({ home: join(allowed, 'home'), mode: 'served', adoptQueued: false, probeBackend, allowedFolders: [allowed] });
    try {
      const error = new Promise<string>((resolve) =>
        s.events.on('datasets.job', (e) => {
          if (e.type === 'error') resolve(e.error.message);
        }),
      );
      await s.handlers['datasets.import']({ path: set.dir });
      const message = await error;
      expect(message).toMatch(/^t10k-labels-idx1-ubyte in the folder being imported is a symbolic link that leads outside the folders this workbench may read/);
      expect(message).not.toContain(outside);
      expect(message).not.toContain('secret-name');
      expect(await s.handlers['datasets.list']()).toEqual([]);
    } finally {
      await s.close({ pauseRuns: false });
    }
  });
});
