import { ALL_PROBES, ProbeKindSchema } from '../probes/plan.js';
import { z } from 'zod';
import { DispatchHostSchema, DispatchModeSchema } from './dynamic-dispatch.js';
import { DEFAULT_RERUNS, RerunsSchema } from '../results/result-class.js';
import { HostLossPolicySchema } from './host-loss.js';
import { FlavorIdSchema } from '../catalog/schema.js';
import { SelectionSchema } from '../runfile/select.js';
import type { Selection } from '../runfile/select.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../wait.js';

/**
 * What a ZTS run is asked to do, as it crosses into Temporal (CLI → matrixRun → targetRun). One
 * schema for all three so the CLI validates exactly what the workflows will accept.
 */

/** `native` (the host's own OS and installed suite) or a catalog flavor id (a VM clone of its golden). */
export const TargetSchema = FlavorIdSchema;
export const NATIVE_TARGET = 'native';

export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/, 'a run id (letters, digits, . _ -)');
export const HostIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)');
/** Schedule ids share Temporal's namespace with other schedules: keep them plain and readable. */
export const ScheduleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a schedule id (a-z 0-9 -, at most 63 characters)');

/** Either a selection resolved against the target's installed runfiles, or a user's own runfile. */
export const RunRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('selection'), selection: SelectionSchema }),
  z.strictObject({
    kind: z.literal('runfile'),
    /** The runfile's text, as read by the CLI. */
    runfileText: z.string().min(1),
    /** Its file name, for messages and the store's `selection` column. */
    name: z.string().min(1),
    /** `-i` for the runner: sections that are not absolute paths are looked up below it. */
    testDir: z.string().startsWith('/').optional(),
  }),
]);
export type RunRequest = z.infer<typeof RunRequestSchema>;

/** Knobs shared by the parent and the per-target workflows. */
const runShape = {
  runId: RunIdSchema,
  /** The lab host whose queue runs the tests (`hostTaskQueue(hostId)`). */
  hostId: HostIdSchema,
  request: RunRequestSchema,
  shards: z.number().int().min(1).max(64).default(1),
  /** At most this many tests per chunk activity; a chunk is the unit of retry and of history. */
  chunkSize: z.number().int().min(1).max(100_000).default(50),
  /** Chunks per workflow execution before the per-target workflow continues as new. */
  maxChunksPerExecution: z.number().int().min(1).max(10_000).default(200),
  /** Classify against the baseline of this OpenZFS version instead of the target's own. */
  baselineVersion: z
    .string()
    .regex(/\d+\.\d+/)
    .optional(),
  /** Resolve and plan only; run nothing, record nothing. */
  dryRun: z.boolean().default(false),
  /** Capture a fingerprint of each chunk's runner tree and compare it with the flavor's baseline of this workload name. */
  fingerprint: z.strictObject({ workload: z.string().trim().min(1).max(120) }).optional(),
  /** In-guest probes beside each chunk's runner (zio latency, kstats); none unless asked (the CLI asks for all). */
  probes: z.array(ProbeKindSchema).max(ALL_PROBES.length).default([]),
  /** How long a chunk may go without a heartbeat before it is retried elsewhere/again. */
  heartbeatTimeoutSeconds: z.number().int().min(2).max(3600).default(10),
  /** How long a task may wait on the host's queue for a worker (`run.hostWaitSeconds`). */
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
  /**
   * Hosts that take over a target's chunks, in this order, when its host is lost mid-run (placement
   * fills it with the other hosts that can run the target; empty: nowhere to go).
   */
  standbyHosts: z.array(HostIdSchema).max(64).default([]),
  /** On host loss: move the chunk to a standby host (`replace`) or retry it where it was (`wait`). */
  onHostLoss: HostLossPolicySchema.default('replace'),
  /**
   * `static`: each shard runs its chunks in order on the target's host; `dynamic`: every chunk waits in
   * one queue, longest first, and each free slot of `dispatchHosts` takes the next (core/test-run/dynamic-dispatch.ts).
   */
  dispatch: DispatchModeSchema.default('static'),
  /** With dynamic dispatch: the hosts whose slots take chunks (default: the target's host, one slot per shard). */
  dispatchHosts: z.array(DispatchHostSchema).max(64).default([]),
  /**
   * Re-runs of each unexpected FAIL/KILLED test, in a fresh clone at the end of its shard (`run.reruns`,
   * `--reruns`; 0 turns them off): a test that passes on one is `flaky`, one that fails every time a `regression`.
   */
  reruns: RerunsSchema.default(DEFAULT_RERUNS),
  /** The zfslab schedule whose firing started this run (search attribute `ZfslabSchedule`). */
  scheduleId: ScheduleIdSchema.optional(),
};

export const MatrixRunInputSchema = z.strictObject({
  ...runShape,
  targets: z
    .array(TargetSchema)
    .min(1)
    .refine((t) => new Set(t).size === t.length, 'a target is named twice'),
  /** Flavors `all` left out because the run's host cannot run them: named in the output and the run's record. */
  skipped: z.array(z.strictObject({ flavorId: z.string().min(1), reason: z.string().min(1) })).default([]),
});
export type MatrixRunInput = z.input<typeof MatrixRunInputSchema>;
export type MatrixRunSpec = z.output<typeof MatrixRunInputSchema>;

export const TargetRunInputSchema = z.strictObject({ ...runShape, target: TargetSchema });
export type TargetRunInput = z.input<typeof TargetRunInputSchema>;
export type TargetRunSpec = z.output<typeof TargetRunInputSchema>;

/** The store's `selection` column and the UI label: `suite:quick`, `group:a,b`, `runfile:mine.run`. */
export function describeRequest(request: RunRequest): string {
  if (request.kind === 'runfile') return `runfile:${request.name}`;
  return describeSelection(request.selection);
}

export function describeSelection(selection: Selection): string {
  const parts: string[] = [];
  if (selection.suite !== undefined) parts.push(`suite:${selection.suite}`);
  if (selection.run !== undefined) parts.push(`run:${selection.run}`);
  if (selection.groups !== undefined) parts.push(`group:${selection.groups.join(',')}`);
  if (selection.tags !== undefined) parts.push(`tags:${selection.tags.join(',')}`);
  return parts.join(' ');
}

/** The suite search attribute: the named suite, `linux` (the default searched), or `runfile`. */
export function suiteOf(request: RunRequest): string {
  return request.kind === 'runfile' ? 'runfile' : (request.selection.suite ?? 'linux');
}
