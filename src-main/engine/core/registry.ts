/**
 * The registry of search spaces and named subnets (timm-style): look up by id, list every entry so tests can run
 * over all of them, and register user-defined spaces from JSON.
 */
import { readFileSync } from 'node:fs';
import { BUILTIN_SPACES, NAMED_SUBNETS, type NamedSubnet } from './builtin';
import { normalizeGenomeInput, maxGenome, minGenome, validateGenome } from './genome';
import { SpaceError, parseSearchSpace, type Genome, type SearchSpace } from './schema';

const spaces = new Map<string, SearchSpace>();
const subnets = new Map<string, NamedSubnet>();

/** Adds a space (validated). A user space may not shadow a built-in one. */
export function registerSpace(json: unknown, source = 'search space'): SearchSpace {
  const space = parseSearchSpace(json, source);
  if (spaces.has(space.id)) throw new SpaceError(`a search space with id '${space.id}' is already registered`);
  spaces.set(space.id, space);
  return space;
}

for (const s of BUILTIN_SPACES) registerSpace(s, `built-in space '${s.id}'`);
for (const n of NAMED_SUBNETS) {
  validateGenome(getSpace(n.space), n.genome);
  subnets.set(n.name, n);
}

export function listSpaces(): SearchSpace[] {
  return [...spaces.values()];
}

export function getSpace(id: string): SearchSpace {
  const s = spaces.get(id);
  if (!s) throw new SpaceError(`unknown search space '${id}'; known: ${[...spaces.keys()].join(', ')}`);
  return s;
}

/** Reads a user-defined space from a JSON file (not registered; see `registerSpace`). */
export function loadSpaceFile(path: string): SearchSpace {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SpaceError(`cannot read search space ${path}: ${(e as Error).message}`);
  }
  return parseSearchSpace(json, `search space ${path}`);
}

export function listNamedSubnets(spaceId?: string): NamedSubnet[] {
  return [...subnets.values()].filter((n) => !spaceId || n.space === spaceId);
}

export function getNamedSubnet(name: string): NamedSubnet | undefined {
  return subnets.get(name);
}

/**
 * Resolves what a user names as an architecture: `min`, `max`, a registered name (which must belong to the space),
 * or a genome object (snake_case or camelCase keys).
 */
export function resolveGenome(space: SearchSpace, arch: string | unknown): Genome {
  if (typeof arch === 'string') {
    if (arch === 'min') return minGenome(space);
    if (arch === 'max') return maxGenome(space);
    const named = subnets.get(arch);
    if (!named) throw new SpaceError(`unknown subnet '${arch}'; use min, max, a genome JSON or one of: ${[...subnets.keys()].join(', ')}`);
    if (named.space !== space.id) throw new SpaceError(`subnet '${arch}' belongs to space '${named.space}', not '${space.id}'`);
    return named.genome;
  }
  return validateGenome(space, normalizeGenomeInput(arch));
}
