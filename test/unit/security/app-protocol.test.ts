/** The app's own scheme: what `app://workbench/` answers, and which pages count as the app's. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../src-main/data/synthetic';
import { isAppUrl } from '../../../src-main/ipc/app-url';
import { APP_URL, appResponse } from '../../../src-main/security/app-protocol';
import { contentSecurityPolicy } from '../../../src-main/security/csp';

describe('app:// protocol', () => {
  const parent = tempDir('alphanet-app-');
  const dir = join(parent, 'renderer');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'console.log(1)');
  writeFileSync(join(parent, 'secret.txt'), 'TOP-SECRET');
  const csp = contentSecurityPolicy({ header: true });

  it('serves the renderer with the CSP (frame-ancestors included) and X-Frame-Options', () => {
    for (const url of [APP_URL, 'app://workbench/', 'app://workbench/index.html#/runs/3']) {
      const r = appResponse(url, dir, csp);
      expect(r.status, url).toBe(200);
      expect(r.body?.toString()).toContain('<title>app</title>');
      expect(r.headers['Content-Security-Policy']).toBe(csp);
      expect(r.headers['Content-Security-Policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['X-Frame-Options']).toBe('DENY');
    }
    expect(appResponse('app://workbench/assets/a.js', dir, csp).headers['Content-Type']).toBe('text/javascript; charset=utf-8');
  });

  it('serves nothing outside the renderer folder, nor for another host or scheme', () => {
    for (const url of ['app://workbench/..%2fsecret.txt', 'app://workbench/assets/..%2f..%2fsecret.txt', 'app://workbench/%2e%2e/secret.txt', 'app://workbench/a%00b', 'app://workbench/%E0%A4%A']) {
      const r = appResponse(url, dir, csp);
      expect([400, 403, 404], url).toContain(r.status);
      expect(r.body).toBeNull();
    }
    expect(appResponse('app://other/index.html', dir, csp).status).toBe(404);
    expect(appResponse('file:///etc/passwd', dir, csp).status).toBe(404);
    expect(appResponse('app://workbench/missing.js', dir, csp).status).toBe(404);
  });

  it('counts only app://workbench pages as the app (navigation and IPC sender checks)', () => {
    expect(isAppUrl('app://workbench/index.html#/x', APP_URL)).toBe(true);
    expect(isAppUrl('app://workbench/', APP_URL)).toBe(true);
    for (const u of ['app://evil/index.html', 'file:///opt/app/out/renderer/index.html', 'https://workbench/', 'app:workbench', 'app:///index.html']) {
      expect(isAppUrl(u, APP_URL), u).toBe(false);
    }
  });
});
