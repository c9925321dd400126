import type { Client, WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostTaskQueue } from '../../core/queues.js';
import { decideWait, pollerIsLive } from '../../core/wait.js';
import type { Config } from '../../lib/config.js';
import { InfraError } from '../../lib/errors.js';
import { describePollers } from '../../lib/task-queues.js';
import type { Output } from './output.js';

/** What the CLI waits for, and its bounds. */
export interface WaitSpec {
  /** For people: `run 20260101-…`, `recipe check.sh on debian13`. */
  what: string;
  hostId: string;
  namespace: string;
  /** The coordinator's queue: its workflow worker must be there for the workflow to move at all. */
  coordinatorQueue: string;
  /** `run.hostWaitSeconds`: the bound the workflow's host activities carry. */
  hostWaitSeconds: number;
  /** `--timeout`: the user's bound on the whole wait. */
  timeoutSeconds?: number | undefined;
  /** Beyond the host bound, before giving up (default: core/wait.ts CLI_GRACE_SECONDS). */
  graceSeconds?: number;
  /** Workflows whose running activities show the host at work (default: the one waited for). */
  workflowIds?: readonly string[];
  /** Status and warnings, one line each (stderr; never stdout, which carries the result). */
  say: (line: string) => void;
  /** No periodic status lines (warnings and the give-up are still said). */
  quiet?: boolean;
  /** Called once per tick while waiting: the caller's own progress display. */
  onTick?: () => Promise<void>;
  tickMs?: number;
  /** How often the queues are looked at (DescribeTaskQueue). */
  checkEveryMs?: number;
  /** How often a status line is repeated when nothing changed. */
  statusEveryMs?: number;
}

/**
 * The wait spec of a command that waits on one workflow of host `hostId`: the config's namespace,
 * coordinator queue and host bound; status lines on stderr, none with --json.
 */
export function commandWaitSpec(config: Config, out: Output, what: string, hostId: string): WaitSpec {
  return {
    what,
    hostId,
    namespace: config.temporal.namespace,
    coordinatorQueue: config.temporal.taskQueue,
    hostWaitSeconds: config.run.hostWaitSeconds,
    say: (line) => out.warn(line),
    quiet: out.json,
  };
}

export type Settled<T> = { value: T } | { error: unknown };

/** temporal.api.enums.v1.PendingActivityState STARTED: a worker holds the activity. */
const PENDING_ACTIVITY_STARTED = 2;

/**
 * The one way the CLI waits for a workflow: until it ends, saying what it waits for, on which host
 * queue, and whether any worker serves it; warning when a queue it needs goes silent; and giving up
 * with an InfraError naming the host once the bound is spent (core/wait.ts decides when). The
 * workflow's own host bound normally ends the run first, with its verdict and partial results.
 */
export async function waitForWorkflow<T>(client: Client, handle: WorkflowHandle, spec: WaitSpec): Promise<Settled<T>> {
  let settled: Settled<T> | undefined;
  const result = handle.result().then(
    (value) => (settled = { value: value as T }),
    (error: unknown) => (settled = { error }),
  );
  const hostQueue = hostTaskQueue(spec.hostId);
  const startedAt = Date.now();
  const lastAlive = new Map<string, number>([
    [hostQueue, startedAt],
    [spec.coordinatorQueue, startedAt],
  ]);
  const workflowIds = spec.workflowIds ?? [handle.workflowId];
  let nextCheck = 0;
  let nextStatus = 0;
  let lastStatus = '';
  let warned = false;
  while (!settled) {
    const now = Date.now();
    if (now >= nextCheck) {
      nextCheck = now + (spec.checkEveryMs ?? 5_000);
      const seen = await lookAtQueues(client, spec, hostQueue, workflowIds);
      if (seen.hostAlive) lastAlive.set(hostQueue, Date.now());
      if (seen.coordinatorAlive) lastAlive.set(spec.coordinatorQueue, Date.now());
      const status = `waiting for ${spec.what} on ${hostQueue}: ${seen.summary}`;
      if (!spec.quiet && (status !== lastStatus || now >= nextStatus)) {
        spec.say(`${status} (${Math.round((now - startedAt) / 1000)} s)`);
        lastStatus = status;
        nextStatus = now + (spec.statusEveryMs ?? 60_000);
      }
      const decision = decideWait({
        elapsedSeconds: (Date.now() - startedAt) / 1000,
        hostWaitSeconds: spec.hostWaitSeconds,
        timeoutSeconds: spec.timeoutSeconds,
        graceSeconds: spec.graceSeconds,
        queues: [...lastAlive].map(([queue, at]) => ({ queue, silentSeconds: (Date.now() - at) / 1000 })),
      });
      if (decision.action === 'give-up') {
        const host = decision.queue === hostQueue ? `host ${spec.hostId} is unavailable: ` : '';
        throw new InfraError(`${spec.what}: ${host}${decision.reason}; workflow ${handle.workflowId} is left to its own bounds`);
      }
      if (decision.action === 'warn' && !warned) spec.say(`warning: ${decision.reason}`);
      warned = decision.action === 'warn';
    }
    if (spec.onTick) await spec.onTick();
    await Promise.race([result, sleep(spec.tickMs ?? 1_000)]);
  }
  return settled;
}

/** Signs of life: a live worker on each queue, or an activity of the watched workflows held by a host worker. */
async function lookAtQueues(
  client: Client,
  spec: WaitSpec,
  hostQueue: string,
  workflowIds: readonly string[],
): Promise<{ hostAlive: boolean; coordinatorAlive: boolean; summary: string }> {
  const now = Date.now();
  try {
    const [host, coordinator] = await Promise.all([
      describePollers(client, spec.namespace, hostQueue),
      describePollers(client, spec.namespace, spec.coordinatorQueue),
    ]);
    const hostPollers = host.activityPollers.filter((p) => pollerIsLive(p.lastAccess, now)).length;
    const coordinatorAlive = coordinator.workflowPollers.some((p) => pollerIsLive(p.lastAccess, now));
    const held = await heldActivities(client, workflowIds);
    const parts = [hostPollers > 0 ? `${hostPollers} worker(s) polling` : 'no worker polling'];
    if (held > 0) parts.push(`${held} activit${held === 1 ? 'y' : 'ies'} running`);
    if (!coordinatorAlive) parts.push(`no coordinator on ${spec.coordinatorQueue}`);
    return { hostAlive: hostPollers > 0 || held > 0, coordinatorAlive, summary: parts.join(', ') };
  } catch (err) {
    return { hostAlive: false, coordinatorAlive: false, summary: `cannot ask Temporal (${(err as Error).message})` };
  }
}

async function heldActivities(client: Client, workflowIds: readonly string[]): Promise<number> {
  let held = 0;
  for (const id of workflowIds) {
    const description = await client.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    held += (description?.raw.pendingActivities ?? []).filter((a) => a.state === PENDING_ACTIVITY_STARTED).length;
  }
  return held;
}
