/**
 * Per-user settings in `<home>/settings.json`, shared by the CLI and the desktop app. Validated: a bad field is
 * reported by name instead of being ignored. Precedence for every setting: command-line flag, then environment, then
 * this file, then the built-in default.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, formatIssues } from './engine/core';

export const SettingsSchema = z.strictObject({
  /** Force a TF.js backend (`auto`, the default, walks the ladder). */
  backend: z.enum(['auto', ...BACKENDS]).default('auto'),
  /** The folders the served mode (`alphanet serve`) may read and write; default the data directory and the home
   * folder (service/folders.ts). */
  allowedFolders: z.array(z.string().refine(isAbsolute, 'must be an absolute path')).optional(),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const SETTINGS_FILE = 'settings.json';

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Reads `<home>/settings.json`; a missing file gives the defaults, a broken one a clear error. */
export function readSettings(home: string): Settings {
  const path = join(home, SETTINGS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return SettingsSchema.parse({});
    throw new SettingsError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SettingsError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const r = SettingsSchema.safeParse(json);
  if (!r.success) throw new SettingsError(`invalid ${path}:\n${formatIssues(r.error)}`);
  return r.data;
}
