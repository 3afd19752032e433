import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOME_ENV_VAR, defaultHomeDir, resolveHomeDir } from '../../src-main/app-paths';

describe('defaultHomeDir (mirrors Electron userData for "AlphaNet Workbench")', () => {
  it('Linux: $XDG_CONFIG_HOME when set', () => {
    expect(defaultHomeDir('linux', { XDG_CONFIG_HOME: '/x/cfg' }, '/home/ada')).toBe('/x/cfg/AlphaNet Workbench');
  });

  it('Linux: ~/.config when XDG_CONFIG_HOME is unset or empty', () => {
    expect(defaultHomeDir('linux', {}, '/home/ada')).toBe('/home/ada/.config/AlphaNet Workbench');
    expect(defaultHomeDir('linux', { XDG_CONFIG_HOME: '' }, '/home/ada')).toBe('/home/ada/.config/AlphaNet Workbench');
  });

  it('other Unixes follow the Linux rule', () => {
    expect(defaultHomeDir('freebsd', {}, '/home/ada')).toBe('/home/ada/.config/AlphaNet Workbench');
  });

  it('macOS: ~/Library/Application Support, ignoring XDG_CONFIG_HOME', () => {
    expect(defaultHomeDir('darwin', { XDG_CONFIG_HOME: '/x/cfg' }, '/Users/ada')).toBe(
      '/Users/ada/Library/Application Support/AlphaNet Workbench',
    );
  });

  it('Windows: %APPDATA% with backslashes', () => {
    expect(defaultHomeDir('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada')).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\AlphaNet Workbench',
    );
  });

  it('Windows: falls back to ~\\AppData\\Roaming without APPDATA', () => {
    expect(defaultHomeDir('win32', {}, 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Roaming\\AlphaNet Workbench');
  });
});

describe('resolveHomeDir', () => {
  const fallback = () => '/fallback';

  it('uses the fallback when neither --home nor ALPHANET_HOME is given', () => {
    expect(resolveHomeDir({}, {}, fallback)).toBe('/fallback');
    expect(resolveHomeDir({ home: '' }, { [HOME_ENV_VAR]: '' }, fallback)).toBe('/fallback');
  });

  it('ALPHANET_HOME overrides the default', () => {
    expect(resolveHomeDir({}, { ALPHANET_HOME: '/data/an' }, fallback)).toBe('/data/an');
  });

  it('--home overrides ALPHANET_HOME', () => {
    expect(resolveHomeDir({ home: '/explicit' }, { ALPHANET_HOME: '/data/an' }, fallback)).toBe('/explicit');
  });

  it('resolves relative overrides against the working directory', () => {
    expect(resolveHomeDir({ home: 'rel/dir' }, {}, fallback)).toBe(path.resolve('rel/dir'));
    expect(resolveHomeDir({}, { ALPHANET_HOME: './x' }, fallback)).toBe(path.resolve('x'));
  });

  it("defaults to this machine's defaultHomeDir", () => {
    const env = { XDG_CONFIG_HOME: '/tmp/xdg', APPDATA: 'C:\\AppData' };
    expect(resolveHomeDir({}, env)).toBe(defaultHomeDir(process.platform, env, homedir()));
  });
});
