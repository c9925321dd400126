import { executeChild, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { HostActivities } from '../activities/host/index.js';
import type { TestRunActivities } from '../activities/test-runs/index.js';
import { FlavorSchema, LineageSchema } from '../core/catalog/schema.js';
import type { NetworkSummary } from '../core/network/tcp-stats.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { runOutcome, type RunOutcome } from '../core/test-run/outcome.js';
import { recipeName, recipeTargetOutcome } from '../core/test-run/recipe.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { failureMessage, missingGolden, parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

const RecipeSchema = z.object({
  name: z.string().min(1),
  script: z.string().min(1),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600),
});

export const RecipeRunInputSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  flavor: FlavorSchema,
  lineage: LineageSchema.default('ztest'),
  recipe: RecipeSchema,
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type RecipeRunInput = z.input<typeof RecipeRunInputSchema>;

export interface RecipeRunOutput {
  runId: string;
  flavor: string;
  /** `recipe/<name>`: the recipe's row in the results store. */
  testId: string;
  outcome: 'PASS' | 'FAIL' | 'KILLED' | 'CRASH';
  exitCode: number | null;
  durationSeconds: number;
  bootSeconds: number;
  /** When the guest kernel died under the recipe: what its console said (the excerpt is at consoleUri). */
  crash?: { kind: string; headline: string; signature: string };
  golden: string;
  outputUri: string;
  resultUri: string;
  consoleUri?: string;
  /** The end of the output (the whole is at outputUri). */
  outputTail: string;
  /** The guest's TCP flows while it ran, busiest first. */
  network?: NetworkSummary;
}

const { recordRecipeResult } = proxyActivities<TestRunActivities>({ startToCloseTimeout: '2m', retry: { maximumInterval: '30s' } });

/**
 * A recipe in a fresh clone of one flavor's golden: PASS/FAIL by exit code, KILLED at its timeout,
 * CRASH when the guest kernel died under it (with its console). The clone lives and dies inside one
 * host activity, which puts the output in S3; a guest that crashes while booting is retried on a new
 * clone, a recipe that crashes it is a result and is not run again. The verdict goes into the results
 * store as the flavor's `recipe/<name>` test.
 */
export async function recipeRun(rawInput: RecipeRunInput): Promise<RecipeRunOutput> {
  const input = parseInput(RecipeRunInputSchema, rawInput);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'recipe' },
    { key: SEARCH_ATTRIBUTES.flavor, value: input.flavor.id },
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.suite, value: `recipe:${input.recipe.name}` },
    { key: SEARCH_ATTRIBUTES.run, value: input.runId },
  ]);
  const { findGolden } = proxyHostActivities<HostActivities>(input, { startToCloseTimeout: '1m' });
  const { runRecipeInClone } = proxyHostActivities<HostActivities>(input, {
    // Boot under software emulation takes minutes on a loaded host; the recipe has its own timeout.
    startToCloseTimeout: `${input.recipe.timeoutSeconds + 1800}s`,
    heartbeatTimeout: '2m',
    retry: { initialInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: ['MissingGolden', 'NoArtifactStore'] },
  });
  const golden = await findGolden({ flavor: input.flavor, lineage: input.lineage });
  if (!golden) throw missingGolden(input.flavor.id, input.lineage, input.hostId);
  const result = await runRecipeInClone({
    runId: input.runId,
    flavorId: input.flavor.id,
    goldenDir: golden.goldenDir,
    recipe: { name: input.recipe.name, script: input.recipe.script, timeoutMs: input.recipe.timeoutSeconds * 1000 },
  });
  const recorded = await recordRecipeResult({
    runId: input.runId,
    flavor: { id: input.flavor.id, os: input.flavor.os, release: input.flavor.release },
    hostId: input.hostId,
    recipe: input.recipe.name,
    outcome: result.outcome,
    exitCode: result.exitCode,
    durationSeconds: result.durationSeconds,
    bootSeconds: result.clone.bootSeconds,
    ...(result.crash ? { crash: result.crash } : {}),
    outputKey: result.outputKey,
    outputBytes: result.outputBytes,
    golden: result.golden,
    ...(result.network ? { network: result.network } : {}),
  });
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.outcome, value: result.outcome },
    { key: SEARCH_ATTRIBUTES.openzfsVersion, value: result.golden.openzfsVersion },
  ]);
  return {
    runId: input.runId,
    flavor: input.flavor.id,
    testId: recorded.testId,
    outcome: result.outcome,
    exitCode: result.exitCode,
    durationSeconds: result.durationSeconds,
    bootSeconds: result.clone.bootSeconds,
    ...(result.crash ? { crash: { kind: result.crash.kind, headline: result.crash.headline, signature: result.crash.signature } } : {}),
    ...(recorded.consoleUri ? { consoleUri: recorded.consoleUri } : {}),
    golden: result.golden.name,
    outputUri: recorded.outputUri,
    resultUri: recorded.resultUri,
    outputTail: result.outputTail,
    ...(result.network ? { network: result.network.summary } : {}),
  };
}

export const RecipeMatrixInputSchema = z.object({
  runId: RecipeRunInputSchema.shape.runId,
  hostId: RecipeRunInputSchema.shape.hostId,
  /** What the user targeted (`all`, a flavor id, `a,b`), for the run's record. */
  target: z.string().min(1),
  flavors: z.array(FlavorSchema).min(1),
  lineage: LineageSchema.default('ztest'),
  recipe: RecipeSchema,
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
  /** Flavors `all` left out, kept with the run. */
  skipped: z.array(z.strictObject({ flavorId: z.string().min(1), reason: z.string().min(1) })).default([]),
});
export type RecipeMatrixInput = z.input<typeof RecipeMatrixInputSchema>;

export interface RecipeMatrixOutput {
  runId: string;
  outcome: RunOutcome;
  results: RecipeRunOutput[];
  /** Flavors that got no verdict, and why (no golden, host gone). */
  errors: { flavor: string; error: string }[];
  skipped: { flavorId: string; reason: string }[];
}

const { openZtsRun, closeZtsRun } = proxyActivities<TestRunActivities>({ startToCloseTimeout: '2m', retry: { maximumInterval: '30s' } });

/**
 * One recipe on several flavors as one run of the results store: a child `recipeRun` per flavor, all
 * at once (the host's VM slots bound how many clones really run together), then the run's status from
 * their verdicts — `zfslab matrix <run>` shows the flavor × recipe matrix like a ZTS run's.
 */
export async function recipeMatrix(rawInput: RecipeMatrixInput): Promise<RecipeMatrixOutput> {
  const input = parseInput(RecipeMatrixInputSchema, rawInput);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'recipe-run' },
    { key: SEARCH_ATTRIBUTES.run, value: input.runId },
    { key: SEARCH_ATTRIBUTES.suite, value: `recipe:${input.recipe.name}` },
  ]);
  await openZtsRun({
    runId: input.runId,
    workflowId: workflowInfo().workflowId,
    selection: `recipe:${recipeName(input.recipe.name)}`,
    target: input.target,
    startedAt: new Date().toISOString(),
    skipped: input.skipped,
  });
  const settled = await Promise.allSettled(
    input.flavors.map((flavor) =>
      executeChild(recipeRun, {
        workflowId: `${workflowInfo().workflowId}-${flavor.id}`,
        args: [{ runId: input.runId, hostId: input.hostId, flavor, lineage: input.lineage, recipe: input.recipe, hostWaitSeconds: input.hostWaitSeconds }],
      }),
    ),
  );
  const results: RecipeRunOutput[] = [];
  const errors: RecipeMatrixOutput['errors'] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') results.push(s.value);
    else errors.push({ flavor: input.flavors[i]!.id, error: failureMessage(s.reason) });
  });
  const outcome = runOutcome(input.flavors.map((f) => recipeTargetOutcome(results.find((r) => r.flavor === f.id)?.outcome)));
  await closeZtsRun({ runId: input.runId, outcome });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: outcome }]);
  return { runId: input.runId, outcome, results, errors, skipped: input.skipped };
}
