import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { HostActivities } from '../activities/host/index.js';
import { FlavorSchema, LineageSchema } from '../core/catalog/schema.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { missingGolden, parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

export const RecipeRunInputSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  flavor: FlavorSchema,
  lineage: LineageSchema.default('ztest'),
  recipe: z.object({
    name: z.string().min(1),
    script: z.string().min(1),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600),
  }),
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type RecipeRunInput = z.input<typeof RecipeRunInputSchema>;

export interface RecipeRunOutput {
  runId: string;
  flavor: string;
  outcome: 'PASS' | 'FAIL' | 'KILLED' | 'CRASH';
  /** When the guest kernel died under the recipe: what its console said (the excerpt is at consoleUri). */
  crash?: { kind: string; headline: string; signature: string };
  consoleUri?: string;
  exitCode: number | null;
  durationSeconds: number;
  bootSeconds: number;
  outputUri: string;
  resultUri: string;
}

const { storeRecipeResult } = proxyActivities<CoordinatorActivities>({ startToCloseTimeout: '2m', retry: { maximumInterval: '30s' } });

/**
 * A recipe in a fresh clone of a flavor's golden: PASS/FAIL by exit code, KILLED at its timeout,
 * CRASH when the guest kernel died under it (with its console). The clone lives and dies inside one
 * host activity; a guest that crashes while booting is retried on a new clone, a recipe that crashes
 * it is a result and is not run again.
 */
export async function recipeRun(rawInput: RecipeRunInput): Promise<RecipeRunOutput> {
  const input = parseInput(RecipeRunInputSchema, rawInput);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'recipe' },
    { key: SEARCH_ATTRIBUTES.flavor, value: input.flavor.id },
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.suite, value: `recipe:${input.recipe.name}` },
  ]);
  const { findGolden } = proxyHostActivities<HostActivities>(input, { startToCloseTimeout: '1m' });
  const { runRecipeInClone } = proxyHostActivities<HostActivities>(input, {
    // Boot under software emulation takes minutes on a loaded host; the recipe has its own timeout.
    startToCloseTimeout: `${input.recipe.timeoutSeconds + 1800}s`,
    heartbeatTimeout: '2m',
    retry: { initialInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: ['MissingGolden'] },
  });
  const golden = await findGolden({ flavor: input.flavor, lineage: input.lineage });
  if (!golden) throw missingGolden(input.flavor.id, input.lineage, input.hostId);
  const result = await runRecipeInClone({
    runId: input.runId,
    goldenDir: golden.goldenDir,
    recipe: { name: input.recipe.name, script: input.recipe.script, timeoutMs: input.recipe.timeoutSeconds * 1000 },
  });
  const stored = await storeRecipeResult({
    runId: input.runId,
    flavor: input.flavor.id,
    recipe: input.recipe.name,
    outcome: result.outcome,
    exitCode: result.exitCode,
    durationSeconds: result.durationSeconds,
    bootSeconds: result.clone.bootSeconds,
    output: `# stdout\n${result.stdout}\n# stderr\n${result.stderr}`,
    ...(result.crash
      ? { crash: { kind: result.crash.kind, headline: result.crash.headline, signature: result.crash.signature }, console: result.crash.excerpt }
      : {}),
  });
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.outcome, value: result.outcome },
    { key: SEARCH_ATTRIBUTES.openzfsVersion, value: input.flavor.expectedZfsVersion },
  ]);
  return {
    runId: input.runId,
    flavor: input.flavor.id,
    outcome: result.outcome,
    exitCode: result.exitCode,
    durationSeconds: result.durationSeconds,
    bootSeconds: result.clone.bootSeconds,
    ...(result.crash ? { crash: { kind: result.crash.kind, headline: result.crash.headline, signature: result.crash.signature } } : {}),
    ...stored,
  };
}
