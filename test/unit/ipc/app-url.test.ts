import { describe, expect, it } from 'vitest';
import { isAppBlobUrl, isAppUrl } from '../../../src-main/ipc/app-url';
import { APP_URL } from '../../../src-main/security/app-protocol';

describe('isAppUrl', () => {
  describe('packaged app (file: page)', () => {
    const app = 'file:///opt/AlphaNet%20Workbench/resources/app.asar/out/renderer/index.html';

    it('accepts the page itself, with or without a fragment or query', () => {
      expect(isAppUrl(app, app)).toBe(true);
      expect(isAppUrl(`${app}#/runs/3`, app)).toBe(true);
      expect(isAppUrl(`${app}?tab=x`, app)).toBe(true);
    });

    it('accepts the same file however its path is percent-encoded', () => {
      const quoted = "file:///home/o'neil/app/out/renderer/index.html";
      expect(isAppUrl('file:///home/o%27neil/app/out/renderer/index.html', quoted)).toBe(true);
      expect(isAppUrl(quoted, 'file:///home/o%27neil/app/out/renderer/index.html')).toBe(true);
      expect(isAppUrl('file:///opt/AlphaNet Workbench/resources/app.asar/out/renderer/index.html', app)).toBe(true);
    });

    it('refuses other local files, which share the same opaque origin', () => {
      expect(isAppUrl('file:///etc/passwd', app)).toBe(false);
      expect(isAppUrl('file:///opt/AlphaNet%2520Workbench/resources/app.asar/out/renderer/index.html', app)).toBe(false);
      expect(isAppUrl('file:///opt/AlphaNet%20Workbench/resources/app.asar/out/renderer/other.html', app)).toBe(false);
      expect(isAppUrl('file://otherhost/opt/AlphaNet%20Workbench/resources/app.asar/out/renderer/index.html', app)).toBe(
        false,
      );
    });

    it('refuses web pages', () => {
      expect(isAppUrl('https://example.com/', app)).toBe(false);
    });
  });

  describe('dev server (http: page)', () => {
    const app = 'http://localhost:5173/';

    it('accepts any path on the same origin', () => {
      expect(isAppUrl('http://localhost:5173/', app)).toBe(true);
      expect(isAppUrl('http://localhost:5173/index.html#x', app)).toBe(true);
    });

    it('refuses a different port, scheme or host, including lookalikes', () => {
      expect(isAppUrl('http://localhost:5174/', app)).toBe(false);
      expect(isAppUrl('https://localhost:5173/', app)).toBe(false);
      expect(isAppUrl('http://localhost:5173.evil.example/', app)).toBe(false);
      expect(isAppUrl('http://evil.example/?http://localhost:5173/', app)).toBe(false);
    });
  });

  it('refuses empty, missing and unparseable input, and other schemes', () => {
    const app = 'http://localhost:5173/';
    expect(isAppUrl(undefined, app)).toBe(false);
    expect(isAppUrl('', app)).toBe(false);
    expect(isAppUrl('not a url', app)).toBe(false);
    expect(isAppUrl('about:blank', app)).toBe(false);
    expect(isAppUrl('data:text/html,<b>x</b>', app)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', 'not a url')).toBe(false);
    expect(isAppUrl('data:text/html,x', 'data:text/html,x')).toBe(false);
  });
});

describe('isAppBlobUrl (the downloads main lets through)', () => {
  it("accepts a blob the app's page made, under its scheme or the dev server's origin", () => {
    const { protocol, host } = new URL(APP_URL); // app://workbench: the page's blobs are blob:app://workbench/<uuid>
    expect(isAppBlobUrl(`blob:${protocol}//${host}/3f2a-11`, APP_URL)).toBe(true);
    expect(isAppBlobUrl('blob:http://localhost:5173/3f2a-11', 'http://localhost:5173/')).toBe(true);
  });

  it('refuses blobs of other origins, non-blob URLs and junk', () => {
    expect(isAppBlobUrl('blob:https://evil.example/3f2a-11', APP_URL)).toBe(false);
    expect(isAppBlobUrl('blob:http://localhost:5174/3f2a-11', 'http://localhost:5173/')).toBe(false);
    expect(isAppBlobUrl(APP_URL, APP_URL)).toBe(false);
    expect(isAppBlobUrl('https://example.com/file.csv', APP_URL)).toBe(false);
    expect(isAppBlobUrl('blob:null/3f2a-11', APP_URL)).toBe(false);
    expect(isAppBlobUrl('blob:', APP_URL)).toBe(false);
    expect(isAppBlobUrl(undefined, APP_URL)).toBe(false);
  });
});
