import { z } from 'zod';
import { artifactKeys } from '../../core/artifact-keys.js';
import { CrashKindSchema } from '../../core/crash/mark.js';
import { NetworkSummarySchema } from '../../core/network/tcp-stats.js';
import { recipeTestId } from '../../core/test-run/recipe.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { HostRegistry } from '../../lib/store/host-registry.js';
import type { ResultsStore } from '../../lib/store/store.js';

/** One recipe's verdict on one flavor, as the recipe workflow hands it to the coordinator. */
export const RecipeResultInputSchema = z.strictObject({
  runId: z.string().min(1),
  flavor: z.strictObject({ id: z.string().min(1), os: z.string().min(1), release: z.string().min(1) }),
  hostId: z.string().min(1),
  recipe: z.string().min(1),
  outcome: z.enum(['PASS', 'FAIL', 'KILLED', 'CRASH']),
  exitCode: z.number().int().nullable(),
  durationSeconds: z.number().nonnegative(),
  bootSeconds: z.number().nonnegative(),
  crash: z
    .strictObject({ kind: CrashKindSchema, headline: z.string().min(1), signature: z.string().regex(/^[0-9a-f]{16}$/), consoleKey: z.string().min(1) })
    .optional(),
  outputKey: z.string().min(1),
  outputBytes: z.number().int().nonnegative(),
  golden: z.strictObject({ name: z.string().min(1), kernelRelease: z.string().min(1), openzfsVersion: z.string().min(1) }),
  /** The guest's TCP flows while it ran (core/network/tcp-stats.ts): kept in result.json, the timeline as an artifact. */
  network: z
    .strictObject({
      summary: NetworkSummarySchema,
      timelineKey: z.string().min(1),
    })
    .optional(),
});
export type RecipeResultInput = z.input<typeof RecipeResultInputSchema>;

/**
 * Records a recipe's result like a ZTS result: the flavor and what it ran on (kernel, OpenZFS, golden),
 * one `recipe/<name>` row (so `show`, `matrix`, `history`, `flaky` and JUnit see recipes as they see
 * tests), its verdict as `result.json` beside its output in S3, and the artifact keys. Idempotent.
 */
export async function recordRecipeResult(
  raw: RecipeResultInput,
  deps: { store: ResultsStore; artifacts: ArtifactStore; now: () => Date },
): Promise<{ testId: string; outputUri: string; resultUri: string; consoleUri?: string }> {
  const input = RecipeResultInputSchema.parse(raw);
  const { runId, flavor } = input;
  const prefix = artifactKeys.shardPrefix(runId, flavor.id, 'recipe');
  const resultKey = `${prefix}/result.json`;
  const testId = recipeTestId(input.recipe);
  const put = await deps.artifacts.putBytes(resultKey, JSON.stringify({ schema: 'zfslab.recipe-result/v1', testId, ...input }, null, 2) + '\n');
  // A host's row is the registry's (a probe fills it); a run only makes sure the row exists.
  await new HostRegistry(deps.store.db).ensure(input.hostId, deps.now().toISOString());
  await deps.store.upsertFlavor(
    { id: flavor.id, os: flavor.os, release: flavor.release, kernel: input.golden.kernelRelease, openzfsVersion: input.golden.openzfsVersion },
    deps.now().toISOString(),
  );
  await deps.store.recordRunFlavor({
    runId,
    flavorId: flavor.id,
    hostId: input.hostId,
    kernel: input.golden.kernelRelease,
    openzfsVersion: input.golden.openzfsVersion,
    golden: input.golden.name,
  });
  await deps.store.recordResults({
    runId,
    flavorId: flavor.id,
    results: [
      {
        testId,
        group: 'recipe',
        kind: 'test',
        outcome: input.outcome,
        reran: false,
        durationSeconds: input.durationSeconds,
        user: 'root',
        linuxSection: false,
        classification: input.outcome === 'PASS' ? 'pass' : 'unexpected-fail',
        ...(input.crash ? { crash: input.crash } : {}),
      },
    ],
  });
  await deps.store.recordArtifactKeys([
    { runId, flavorId: flavor.id, shard: 1, name: 'recipe-output', s3Key: input.outputKey, bytes: input.outputBytes },
    { runId, flavorId: flavor.id, shard: 1, name: 'recipe-result', s3Key: resultKey, bytes: put.bytes },
    ...(input.crash ? [{ runId, flavorId: flavor.id, shard: 1, name: 'recipe-console', s3Key: input.crash.consoleKey }] : []),
    ...(input.network ? [{ runId, flavorId: flavor.id, shard: 1, name: 'recipe-tcp-timeline', s3Key: input.network.timelineKey }] : []),
  ]);
  return {
    testId,
    outputUri: deps.artifacts.uri(input.outputKey),
    resultUri: put.uri,
    ...(input.crash ? { consoleUri: deps.artifacts.uri(input.crash.consoleKey) } : {}),
  };
}
