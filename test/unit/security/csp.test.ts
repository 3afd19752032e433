/**
 * The policy string: the source page's <meta> is the same string, and the dev server's differs only in style-src. What
 * the policy refuses is checked in Chromium on the built renderer (test/e2e/csp.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../src-main/security/csp';

/** Directive name → sources, parsed from a policy string. */
function parse(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('contentSecurityPolicy', () => {
  it('is the exact policy in src-renderer/index.html (file: pages get only the <meta>)', () => {
    const html = readFileSync(new URL('../../../src-renderer/index.html', import.meta.url), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta, 'index.html has no CSP <meta>').not.toBeNull();
    expect(meta![1]).toBe(contentSecurityPolicy());
  });

  it("dev: only style-src gains 'unsafe-inline'", () => {
    const prod = parse(contentSecurityPolicy());
    const dev = parse(contentSecurityPolicy({ dev: true }));
    expect(dev.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    for (const [name, values] of prod) if (name !== 'style-src') expect(dev.get(name)).toEqual(values);
  });
});
