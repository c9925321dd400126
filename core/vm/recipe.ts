import { createHash } from 'node:crypto';
import type { Flavor, Lineage } from '../catalog/schema.js';
import type { ZfsSource } from './zfs-source.js';

export { ZfsSourceSchema, type ZfsSource } from './zfs-source.js';

/**
 * Bumped whenever the builders' steps change what ends up in a golden, so that an old cached
 * golden is not mistaken for one built by the current recipe.
 */
export const GOLDEN_BUILDER_VERSION = 1;

export interface GoldenRecipe {
  flavor: Flavor;
  lineage: Lineage;
  zfsSource?: ZfsSource | undefined;
}

/**
 * The recipe hash names a golden: the same recipe reuses the cached golden. It covers what goes
 * into the image (builder inputs, lineage payload, OpenZFS source, builder version) and leaves out
 * what does not (display name, notes, VM size of clones).
 */
export function goldenRecipeHash(recipe: GoldenRecipe): string {
  const { flavor } = recipe;
  const material = {
    builderVersion: GOLDEN_BUILDER_VERSION,
    id: flavor.id,
    os: flavor.os,
    release: flavor.release,
    kernelPackage: flavor.kernelPackage,
    builder: flavor.builder,
    lineage: recipe.lineage,
    payload: flavor.lineages[recipe.lineage],
    zfsSource: recipe.zfsSource ?? null,
  };
  return createHash('sha256').update(canonicalJson(material)).digest('hex');
}

/** The golden's name: flavor, lineage and the first 16 hex digits of the recipe hash. */
export function goldenName(flavorId: string, lineage: Lineage, recipeHash: string): string {
  return `${flavorId}-${lineage}-${recipeHash.slice(0, 16)}`;
}

/** JSON with object keys sorted at every depth, so equal recipes hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
