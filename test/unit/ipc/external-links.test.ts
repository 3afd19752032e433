import { describe, expect, it } from 'vitest';
import { EXTERNAL_LINKS, isAllowedExternalUrl } from '../../../src-main/ipc/external-links';

describe('isAllowedExternalUrl', () => {
  it.each([
    'https://github.com/facebookresearch/AlphaNet',
    'https://github.com/facebookresearch/AlphaNet/',
    'https://github.com/facebookresearch/AlphaNet/blob/main/README.md',
    'https://github.com/facebookresearch/AlphaNet#readme',
    'https://github.com/facebookresearch/AlphaNet?tab=readme',
    'https://GITHUB.com/facebookresearch/AlphaNet',
    'https://github.com:443/facebookresearch/AlphaNet',
    'https://arxiv.org/abs/2102.07954',
    'https://arxiv.org/pdf/2102.07954',
  ])('allows %s', (url) => {
    expect(isAllowedExternalUrl(url)).toBe(true);
  });

  it.each([
    ['plain http', 'http://github.com/facebookresearch/AlphaNet'],
    ['another scheme', 'file:///etc/passwd'],
    ['javascript:', 'javascript:alert(1)'],
    ['a custom protocol handler', 'ms-msdt:/id PCWDiagnostic'],
    ['another repository', 'https://github.com/evil/AlphaNet'],
    ['a sibling with the same prefix', 'https://github.com/facebookresearch/AlphaNetEvil'],
    ['dot segments leaving the prefix', 'https://github.com/facebookresearch/AlphaNet/../../evil/x'],
    ['encoded dot segments', 'https://github.com/facebookresearch/AlphaNet/%2e%2e/%2e%2e/evil'],
    ['a lookalike host', 'https://github.com.evil.example/facebookresearch/AlphaNet'],
    ['a subdomain', 'https://gist.github.com/facebookresearch/AlphaNet'],
    ['credentials before the host', 'https://github.com@evil.example/facebookresearch/AlphaNet'],
    ['credentials on the allowed host', 'https://user:pw@github.com/facebookresearch/AlphaNet'],
    ['a non-default port', 'https://github.com:8443/facebookresearch/AlphaNet'],
    ['another arXiv paper', 'https://arxiv.org/abs/2102.079540'],
    ['the host root', 'https://github.com/'],
    ['not a URL', 'github.com/facebookresearch/AlphaNet'],
    ['an empty string', ''],
  ])('refuses %s', (_why, url) => {
    expect(isAllowedExternalUrl(url)).toBe(false);
  });

  it('allows every link the app itself shows', () => {
    for (const url of Object.values(EXTERNAL_LINKS)) expect(isAllowedExternalUrl(url)).toBe(true);
  });
});
