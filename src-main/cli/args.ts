/**
 * Parsers of command-line arguments and option values, shared by the command files: each turns text into a value or
 * refuses it with a {@link CliError} naming the flag.
 */
import { readFileSync } from 'node:fs';
import { getSpace, loadSpaceFile, resolveGenome, type Genome, type SearchSpace } from '../engine';
import { CliError } from './errors';

export const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got '${v}'`);
  return n;
};

/** `auto` or a positive integer (worker counts). */
export const autoOrPositiveInt = (flag: string) => (v: string): number | 'auto' => (v === 'auto' ? 'auto' : positiveInt(`${flag} (or auto)`)(v));

export const nonNegInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be a non-negative integer, got '${v}'`);
  return n;
};

export const number = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`${flag} must be a number, got '${v}'`);
  return n;
};

/** A number from `lo` to `hi` (an integer if `integer`). */
export const boundedNumber = (flag: string, lo: number, hi: number, integer: boolean) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
    throw new CliError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}, got '${v}'`);
  }
  return n;
};

/** `--workers`: `auto` or a positive integer. */
export const workersArg = (v: string): 'auto' | number => (v === 'auto' ? 'auto' : positiveInt('--workers')(v));

/** A row id (run, search, evaluation): a positive integer. */
export const idArg = (what: string) => positiveInt(what);

/** A JSON file's content; `what` names it in the refusal. */
export function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** A space by registry id, or a user-defined space from a JSON file. */
export function spaceArg(idOrFile: string): SearchSpace {
  return idOrFile.endsWith('.json') ? loadSpaceFile(idOrFile) : getSpace(idOrFile);
}

/** An architecture: `min`, `max`, a registered name, or a JSON file holding a genome. */
export function archArg(space: SearchSpace, arch: string): Genome {
  return resolveGenome(space, arch.endsWith('.json') ? readJson(arch, 'architecture') : arch);
}
