import { z } from 'zod';
import { ClassifiedResultSchema, TestOutcomeSchema } from '../../core/results/types.js';
import type { CrashKind } from '../../core/crash/mark.js';
import type { ScriptKind, TestOutcome, Classification } from '../../core/results/types.js';
import { RUN_STATUSES } from './schema.js';
import type { ResultClass } from '../../core/results/result-class.js';
import type { RunStatus } from './schema.js';

/**
 * What callers hand the store and get back from it. Inputs are zod schemas because they cross a
 * boundary (Temporal activity arguments, CLI imports); outputs are plain typed objects.
 */

const isoTimestamp = z.iso.datetime({ offset: true });
const id = z.string().min(1).max(200);

export const RunStatusSchema = z.enum(RUN_STATUSES as [RunStatus, ...RunStatus[]]);

export const RunRecordSchema = z.strictObject({
  id,
  workflowId: z.string().min(1).optional(),
  selection: z.string().min(1),
  target: z.string().min(1),
  startedAt: isoTimestamp,
  endedAt: isoTimestamp.optional(),
  status: RunStatusSchema.default('running'),
});
export type RunRecord = z.input<typeof RunRecordSchema>;

export const RunEndSchema = z.strictObject({ status: RunStatusSchema, endedAt: isoTimestamp });
export type RunEnd = z.input<typeof RunEndSchema>;

export const FlavorRecordSchema = z.strictObject({
  id,
  os: z.string().min(1),
  release: z.string().min(1),
  kernel: z.string().min(1),
  openzfsVersion: z.string().min(1),
});
export type FlavorRecord = z.input<typeof FlavorRecordSchema>;

export const HostRecordSchema = z.strictObject({
  id,
  hostname: z.string().min(1),
  capabilities: z.record(z.string(), z.unknown()).default({}),
  lastSeenAt: isoTimestamp,
});
export type HostRecord = z.input<typeof HostRecordSchema>;

/** Which host ran a flavor in a run, with the versions it really had then. */
export const RunFlavorRecordSchema = z.strictObject({
  runId: id,
  flavorId: id,
  hostId: id.optional(),
  kernel: z.string().min(1),
  openzfsVersion: z.string().min(1),
  shardCount: z.number().int().min(1).default(1),
  /** The golden the flavor ran on, when it ran in clones. */
  golden: z.string().min(1).optional(),
});
export type RunFlavorRecord = z.input<typeof RunFlavorRecordSchema>;

/** A classified result plus, when the infrastructure (not the test) is to blame, what broke. */
export const StoredResultSchema = ClassifiedResultSchema.extend({
  infraError: z.string().min(1).optional(),
});
export type StoredResultInput = z.input<typeof StoredResultSchema>;

export const ResultBatchSchema = z.strictObject({
  runId: id,
  flavorId: id,
  /** 1-based shard index (`zfs-tests.sh -T i/n`); 1 when unsharded. */
  shard: z.number().int().min(1).default(1),
  results: z.array(StoredResultSchema),
});
export type ResultBatch = z.input<typeof ResultBatchSchema>;

/** Re-run outcomes of one shard's tests, appended to their stored results (which keep the first attempt's). */
export const RerunBatchSchema = z.strictObject({
  runId: id,
  flavorId: id,
  results: z.array(z.strictObject({ testId: z.string().min(1), linuxSection: z.boolean(), outcome: TestOutcomeSchema })),
});
export type RerunBatch = z.input<typeof RerunBatchSchema>;

export const ArtifactKeySchema = z.strictObject({
  runId: id,
  flavorId: id,
  shard: z.number().int().min(1).default(1),
  name: z.string().min(1),
  s3Key: z.string().min(1),
  bytes: z.number().int().nonnegative().optional(),
});
export type ArtifactKey = z.input<typeof ArtifactKeySchema>;

export interface StoredRun {
  id: string;
  workflowId: string | undefined;
  selection: string;
  target: string;
  startedAt: string;
  endedAt: string | undefined;
  status: RunStatus;
}

export interface StoredResult {
  runId: string;
  flavorId: string;
  shard: number;
  testId: string;
  group: string;
  kind: ScriptKind;
  linuxSection: boolean;
  outcome: TestOutcome;
  reran: boolean;
  durationSeconds: number;
  classification: Classification;
  issueUrl: string | undefined;
  reason: string | undefined;
  infraError: string | undefined;
  crash: { kind: CrashKind; signature: string; consoleKey: string | undefined } | undefined;
  loggedAt: string | undefined;
  /** What the result means (regression, flaky, known, crash, infra); undefined for PASS/SKIP. */
  resultClass: ResultClass | undefined;
  /** Outcomes of its re-runs, oldest first (empty: not re-run). */
  reruns: TestOutcome[];
}

export interface StoredArtifactKey {
  runId: string;
  flavorId: string;
  shard: number;
  name: string;
  s3Key: string;
  bytes: number | undefined;
}
