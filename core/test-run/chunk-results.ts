import { z } from 'zod';
import { ChunkProbesSchema } from '../probes/summary.js';
import { TestOutcomeSchema, TestResultSchema } from '../results/types.js';
import type { TestOutcome, TestResult } from '../results/types.js';

/**
 * `chunks/<nnn>/results.json`: what the host hands the coordinator for one chunk. The activity result
 * stays small (counts and this file's key) so that workflow history does not carry every result.
 */
export const ChunkResultsFileSchema = z.strictObject({
  schema: z.literal('zfslab.zts-chunk/v1'),
  runId: z.string().min(1),
  flavorId: z.string().min(1),
  shard: z.number().int().min(1),
  chunk: z.number().int().min(0),
  /** The attempt that wrote the file (later attempts overwrite it with a longer list). */
  attempt: z.number().int().min(1),
  /** Every script finished, earlier attempts first, in the order they ended. */
  results: z.array(TestResultSchema),
  /** Tests of the chunk with no result (cancelled, or the runner failed before them). */
  testsLeft: z.array(z.string()),
  cancelled: z.boolean(),
  infraError: z.string().optional(),
  /** S3 prefixes of the attempts' results trees. */
  resultsTrees: z.array(z.string()),
  /** Incident bundles collected when tests of an attempt failed or crashed: the tarball's key and those tests. */
  incidents: z.array(z.strictObject({ key: z.string().min(1), testIds: z.array(z.string()) })).default([]),
  /** What the in-guest probes saw per script of this attempt (`--probes`), and what they could not capture. */
  probes: ChunkProbesSchema.optional(),
});
export type ChunkResultsFile = z.infer<typeof ChunkResultsFileSchema>;

export const OutcomeCountsSchema = z.strictObject({
  PASS: z.number().int().nonnegative(),
  FAIL: z.number().int().nonnegative(),
  SKIP: z.number().int().nonnegative(),
  KILLED: z.number().int().nonnegative(),
  /** Counts recorded before CRASH existed lack it. */
  CRASH: z.number().int().nonnegative().default(0),
});
export type OutcomeCounts = z.infer<typeof OutcomeCountsSchema>;

export function emptyCounts(): OutcomeCounts {
  return { PASS: 0, FAIL: 0, SKIP: 0, KILLED: 0, CRASH: 0 };
}

/** Final outcome per test (kind `test`; the last result wins, as in the store). */
export function countTests(results: readonly TestResult[]): OutcomeCounts {
  const last = new Map<string, TestOutcome>();
  for (const r of results) if (r.kind === 'test') last.set(`${r.testId}\u0000${r.linuxSection}`, r.outcome);
  const counts = emptyCounts();
  for (const outcome of last.values()) counts[outcome]++;
  return counts;
}

export function addCounts(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  const out = emptyCounts();
  for (const k of TestOutcomeSchema.options) out[k] = a[k] + b[k];
  return out;
}

export function totalOf(counts: OutcomeCounts): number {
  return counts.PASS + counts.FAIL + counts.SKIP + counts.KILLED + counts.CRASH;
}
