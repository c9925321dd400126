import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseHeartbeat } from '../../../../core/test-run/checkpoint.js';
import { TARGET_PROGRESS_QUERY } from '../../../../core/test-run/progress.js';
import type { TargetProgress } from '../../../../core/test-run/progress.js';
import { formatDuration } from './plan-view.js';
import { waitForWorkflow, type Settled, type WaitSpec } from '../../wait.js';

/** One target's live state: the workflow's chunk-level view plus the running chunks' last heartbeats. */
export interface LiveTarget {
  target: string;
  progress: TargetProgress | undefined;
  /** Tests finished inside running chunks (from their heartbeats). */
  inFlightDone: number;
  current: string | undefined;
  /** The highest attempt among running chunks (> 1: resumed after a failure). */
  attempt: number;
}

export async function readLiveTarget(client: Client, target: string, workflowId: string): Promise<LiveTarget> {
  const handle = client.workflow.getHandle(workflowId);
  const live: LiveTarget = { target, progress: undefined, inFlightDone: 0, current: undefined, attempt: 1 };
  try {
    live.progress = await handle.query<TargetProgress>(TARGET_PROGRESS_QUERY);
    const description = await handle.describe();
    for (const pending of description.raw.pendingActivities ?? []) {
      if (pending.activityType?.name !== 'runZtsChunk') continue;
      live.attempt = Math.max(live.attempt, pending.attempt ?? 1);
      const payload = pending.heartbeatDetails?.payloads?.[0];
      const details = payload ? parseHeartbeat(defaultPayloadConverter.fromPayload(payload)) : undefined;
      if (!details) continue;
      live.inFlightDone += details.finished.filter((r) => r.kind === 'test').length;
      live.current = details.current ?? live.current;
    }
  } catch {
    // not started yet, or between executions (continue-as-new): shown as waiting
  }
  return live;
}

export function progressLine(live: LiveTarget): string {
  const p = live.progress;
  if (!p) return `${live.target}: waiting`;
  const name = p.flavorId ?? live.target;
  if (p.phase === 'resolving' || p.phase === 'planning') return `${name}: ${p.phase}`;
  const done = Math.min(p.totalTests, p.doneTests + live.inFlightDone);
  const parts = [`${name}: ${done}/${p.totalTests} tests`];
  const bad = p.counts.FAIL + p.counts.KILLED;
  if (bad > 0) parts.push(`${bad} failed (${p.unexpected} unexpected)`);
  if (p.infraErrors.length > 0) parts.push(`${p.infraErrors.length} infra error(s)`);
  if (live.current && p.phase === 'running') parts.push(`now ${live.current}`);
  if (live.attempt > 1) parts.push(`attempt ${live.attempt}, resumed`);
  if (p.etaSeconds !== undefined && p.phase === 'running') parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  if (p.phase !== 'running') parts.push(p.phase);
  return parts.join(', ');
}

/**
 * Shows each target's progress until the run's workflow ends: on a TTY the lines are redrawn in place,
 * otherwise a plain line is printed whenever a target's line changes. Written to stderr, so stdout
 * carries only the result (and `--json` stays parseable). The waiting itself, with its bounds and
 * the host queue's status, is apps/cli/wait.ts.
 */
export async function followRun<T>(
  client: Client,
  handle: WorkflowHandle,
  targets: readonly { target: string; workflowId: string }[],
  options: { stream: NodeJS.WriteStream; intervalMs?: number; quiet?: boolean; wait: Omit<WaitSpec, 'say' | 'onTick' | 'tickMs' | 'quiet' | 'workflowIds'> },
): Promise<Settled<T>> {
  const tty = Boolean(options.stream.isTTY);
  const last = new Map<string, string>();
  let drawn = 0;
  const draw = async () => {
    if (options.quiet) return;
    const lines = await Promise.all(targets.map(async (t) => progressLine(await readLiveTarget(client, t.target, t.workflowId))));
    if (tty) {
      if (drawn > 0) options.stream.write(`\u001b[${drawn}A`);
      for (const line of lines) options.stream.write(`\u001b[2K${line}\n`);
      drawn = lines.length;
    } else {
      lines.forEach((line, i) => {
        const key = targets[i]!.target;
        if (last.get(key) !== line) options.stream.write(`${line}\n`);
        last.set(key, line);
      });
    }
  };
  return waitForWorkflow<T>(client, handle, {
    ...options.wait,
    workflowIds: targets.map((t) => t.workflowId),
    quiet: options.quiet,
    tickMs: options.intervalMs ?? 1_000,
    onTick: draw,
    say: (line) => {
      options.stream.write(`${line}\n`);
      // The progress block is redrawn below what was just said, not over it.
      drawn = 0;
    },
  });
}
