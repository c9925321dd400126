import { UsageError } from '../errors.js';
import { SHIPPED_FLAVORS } from './flavors.js';
import { FlavorSchema, type Flavor, type FlavorInput } from './schema.js';

export * from './schema.js';
export { SHIPPED_FLAVORS } from './flavors.js';

/** A validated catalog: flavors by id, in order (shipped first, then user flavors). */
export interface Catalog {
  readonly flavors: readonly Flavor[];
  get(id: string): Flavor;
  has(id: string): boolean;
}

/**
 * The shipped flavors plus the user's (config `flavors:`). A user flavor with a shipped id
 * replaces the shipped one; two user flavors with one id are an error. Every flavor is validated,
 * and the error names the flavor and key that is wrong.
 */
export function loadCatalog(extraFlavors: readonly unknown[] = []): Catalog {
  const byId = new Map<string, Flavor>();
  for (const input of SHIPPED_FLAVORS) byId.set(input.id, parseFlavor(input, 'shipped catalog'));
  const userIds = new Set<string>();
  extraFlavors.forEach((input, index) => {
    const flavor = parseFlavor(input, `flavors[${index}]`);
    if (userIds.has(flavor.id)) throw new UsageError(`flavors[${index}]: flavor id "${flavor.id}" is defined twice`);
    userIds.add(flavor.id);
    byId.set(flavor.id, flavor);
  });
  const flavors = [...byId.values()];
  return {
    flavors,
    has: (id) => byId.has(id),
    get: (id) => {
      const flavor = byId.get(id);
      if (!flavor) throw new UsageError(`unknown flavor "${id}"; known: ${flavors.map((f) => f.id).join(', ')}`);
      return flavor;
    },
  };
}

function parseFlavor(input: unknown | FlavorInput, where: string): Flavor {
  const parsed = FlavorSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const id = typeof input === 'object' && input !== null && 'id' in input ? String((input as { id: unknown }).id) : '?';
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(flavor)'}: ${i.message}`).join('; ');
  throw new UsageError(`${where} (flavor "${id}") is invalid: ${problems}`);
}
