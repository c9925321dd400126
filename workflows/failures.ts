import { ApplicationFailure, TemporalFailure, TimeoutFailure } from '@temporalio/workflow';
import type { ChunkFailureFacts } from '../core/test-run/host-loss.js';
import type { z } from 'zod';

/**
 * Workflow-side error helpers. A bad input must fail the workflow, not its task: a plain throw in
 * workflow code fails the task, which Temporal retries forever. So workflows throw only
 * ApplicationFailures made here (the lint rule over workflows/ refuses `throw new Error` and a bare
 * zod `.parse`).
 */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid workflow input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
      'InvalidInput',
    );
  }
  return parsed.data;
}

/** A flavor has no golden on the host: nothing to clone, and retrying will not build one. */
export function missingGolden(flavorId: string, lineage: string, hostId: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'MissingGolden',
    nonRetryable: true,
    message: `no ${lineage} golden of ${flavorId} on host ${hostId}: build it with \`zfslab golden-ztest ${flavorId}\``,
    details: [{ flavorId, lineage, hostId }],
  });
}

/** The innermost failure's message (ActivityFailure → ApplicationFailure …), for people. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof TemporalFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The ApplicationFailure type somewhere in the cause chain (`UsageError`, `TargetUnavailable` …). */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

/** What core/test-run/host-loss.ts needs to know of a failed activity: its type, timeout and retryability. */
export function chunkFailureFacts(err: unknown): ChunkFailureFacts {
  const facts: ChunkFailureFacts = { nonRetryable: false };
  let e: unknown = err;
  while (e) {
    if (e instanceof TimeoutFailure && facts.timeoutType === undefined) facts.timeoutType = String(e.timeoutType);
    if (e instanceof ApplicationFailure && facts.type === undefined) {
      if (e.type) facts.type = e.type;
      facts.nonRetryable = e.nonRetryable === true;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return facts;
}

/** The last heartbeat details a timed-out activity had sent (its checkpoint), if any. */
export function lastHeartbeatOf(err: unknown): unknown {
  let e: unknown = err;
  while (e) {
    if (e instanceof TimeoutFailure && e.lastHeartbeatDetails !== undefined) return e.lastHeartbeatDetails;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}
