import { z } from 'zod';
import { ResultClassSchema } from '../../../../core/results/result-class.js';
import type { ResultClass } from '../../../../core/results/result-class.js';
import { ClassificationSchema, TestOutcomeSchema } from '../../../../core/results/types.js';
import { OutcomeCountsSchema } from '../../../../core/test-run/chunk-results.js';
import { ChunkFingerprintSchema } from '../../../../core/test-run/fingerprint.js';

/**
 * The `--json` documents of `zfslab test`, as zod schemas: the command validates what it prints
 * against them, and tests (and scripts) can validate what they read.
 */
const ClassCountsSchema = z.strictObject(
  Object.fromEntries(ResultClassSchema.options.map((c) => [c, z.number().int().nonnegative()])) as Record<ResultClass, z.ZodNumber>,
);

const RunOutcomeSchema = z.enum(['passed', 'failed', 'infra-error', 'cancelled']);

export const TargetJsonSchema = z.strictObject({
  target: z.string(),
  flavorId: z.string().nullable(),
  hostId: z.string(),
  outcome: RunOutcomeSchema,
  openzfsVersion: z.string().nullable(),
  tests: z.number().int().nonnegative(),
  counts: OutcomeCountsSchema,
  unexpected: z.number().int().nonnegative(),
  /** Non-passing results by class: regression and crash are unexpected; flaky (passed on a re-run) and known are not. */
  classes: ClassCountsSchema,
  infraErrors: z.array(z.string()),
  artifacts: z.string().nullable(),
  error: z.string().nullable(),
  /** With `--fingerprint`: one per chunk (shard, chunk), compared with the flavor's baseline or why not. */
  fingerprints: z.array(ChunkFingerprintSchema),
  /** Chunks that moved to a standby host because theirs was lost. */
  hostMoves: z.array(
    z.strictObject({ from: z.string(), to: z.string(), shard: z.number().int(), chunk: z.number().int(), why: z.string(), resumedAfter: z.number().int() }),
  ),
});

export const MatrixJsonSchema = z.strictObject({
  flavors: z.array(z.string()),
  rows: z.array(
    z.strictObject({
      testId: z.string(),
      cells: z.record(
        z.string(),
        z.strictObject({
          outcome: TestOutcomeSchema,
          classification: ClassificationSchema,
          issueUrl: z.string().optional(),
          reason: z.string().optional(),
          reran: z.boolean().optional(),
        }),
      ),
    }),
  ),
  diagnoses: z.array(z.string()),
});

/** Flavors `all` left out because no host can run them, with why (never an error for the run). */
const SkippedTargetsSchema = z.array(z.strictObject({ flavorId: z.string(), reason: z.string() }));

export const TestRunJsonSchema = z.strictObject({
  runId: z.string(),
  skipped: SkippedTargetsSchema.optional(),
  workflowId: z.string(),
  dryRun: z.literal(false),
  outcome: RunOutcomeSchema,
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]),
  targets: z.array(TargetJsonSchema),
  totals: z.strictObject({ tests: z.number().int(), counts: OutcomeCountsSchema, unexpected: z.number().int(), classes: ClassCountsSchema }),
  matrix: MatrixJsonSchema,
  links: z.strictObject({ temporalUi: z.string(), artifacts: z.array(z.string()) }),
  files: z.array(z.string()),
});
export type TestRunJson = z.infer<typeof TestRunJsonSchema>;

export const PlanJsonSchema = z.strictObject({
  dryRun: z.literal(true),
  skipped: SkippedTargetsSchema.optional(),
  workflowId: z.string(),
  targets: z.array(
    z.strictObject({
      target: z.string(),
      flavorId: z.string().nullable(),
      openzfsVersion: z.string().nullable(),
      runfileSource: z.string().nullable(),
      error: z.string().nullable(),
      plan: z
        .strictObject({
          selectedTests: z.number().int(),
          selectedSections: z.number().int(),
          basis: z.enum(['history', 'test-count']),
          historySource: z.string(),
          unknownTests: z.number().int(),
          parallel: z.boolean(),
          makespan: z.number(),
          lowerBound: z.number(),
          planSeconds: z.number(),
          shards: z.array(
            z.strictObject({
              index: z.number().int(),
              tests: z.number().int(),
              cost: z.number(),
              estimatedSeconds: z.number(),
              chunks: z.number().int(),
              sections: z.array(z.string()),
            }),
          ),
        })
        .nullable(),
    }),
  ),
});
export type PlanJson = z.infer<typeof PlanJsonSchema>;
