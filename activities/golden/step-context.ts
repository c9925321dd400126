import type { Flavor, Lineage } from '../../core/catalog/schema.js';
import type { ZfsSource } from '../../core/vm/recipe.js';
import type { Logger } from '../../lib/log.js';
import type { RunOptions } from '../../lib/exec/run-command.js';
import type { GoldenPaths } from './paths.js';

/** What a step needs: the recipe, where to work, and how to log and be cancelled. */
export interface StepContext {
  flavor: Flavor;
  lineage: Lineage;
  recipeHash: string;
  name: string;
  zfsSource?: ZfsSource | undefined;
  paths: GoldenPaths;
  mirror: string;
  /** false: apt in the chroot accepts Release files past their Valid-Until (a frozen mirror). */
  aptCheckValidUntil: boolean;
  log: Logger;
  /** Passed to every command: streams lines into the build log (and heartbeats), honours cancellation. */
  runOptions: RunOptions;
}

/** What a step records in its checkpoint, read by later steps and by the manifest. */
export type StepData = Record<string, unknown>;
