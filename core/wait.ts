import { z } from 'zod';

/**
 * How long anything zfslab starts may wait for a host. Two sides use the same figure:
 *   - workflows: the schedule-to-start bound of every activity on a host's queue (a task nobody
 *     picks up within it fails the run as `HostUnavailable`, naming the host);
 *   - the CLI: how long it follows a run whose host queue has no live worker before it gives up.
 */
export const DEFAULT_HOST_WAIT_SECONDS = 1800;
export const HostWaitSecondsSchema = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);

/**
 * A worker that is alive re-polls at least once per long poll (the server answers an idle poll after
 * about a minute), so a poller whose last access is older than this is a worker that went away:
 * DescribeTaskQueue keeps listing gone pollers for minutes.
 */
export const POLLER_STALE_SECONDS = 90;

/**
 * Extra time the CLI grants after the host bound before it gives up by itself: a workflow whose host
 * activity has just timed out still records its partial results and closes the run, and its own
 * verdict (exit 3 naming the host, results kept) is the better ending.
 */
export const CLI_GRACE_SECONDS = 120;

/** Warn about a silent host queue once it has been silent this long (or a quarter of the bound, if less). */
export const WARN_SILENT_SECONDS = 60;

export interface WaitObservation {
  /** Seconds since the CLI started waiting. */
  elapsedSeconds: number;
  /**
   * Each queue the workflow needs, with the seconds since it last showed a sign of life: a live
   * worker polling it, or (host queues) an activity a worker holds. Counted from the start of the
   * wait when never seen.
   */
  queues: readonly { queue: string; silentSeconds: number }[];
  /** The host bound (`run.hostWaitSeconds`). */
  hostWaitSeconds: number;
  /** `--timeout`: the user's own bound on the whole wait, if any. */
  timeoutSeconds?: number | undefined;
  /** Extra seconds beyond the host bound before giving up (default CLI_GRACE_SECONDS). */
  graceSeconds?: number | undefined;
}

export type WaitDecision = { action: 'wait' } | { action: 'warn'; queue: string; reason: string } | { action: 'give-up'; queue?: string; reason: string };

/**
 * What the CLI does next while it waits for a workflow: keep waiting, warn that a queue it needs has
 * gone silent, or give up. The silent queue that has been silent longest decides. Pure, so every
 * branch is tested without a server.
 */
export function decideWait(o: WaitObservation): WaitDecision {
  if (o.timeoutSeconds !== undefined && o.elapsedSeconds >= o.timeoutSeconds) {
    return { action: 'give-up', reason: `gave up waiting after ${o.timeoutSeconds} s (--timeout); the workflow goes on` };
  }
  const worst = [...o.queues].sort((a, b) => b.silentSeconds - a.silentSeconds)[0];
  if (!worst) return { action: 'wait' };
  const silent = Math.round(worst.silentSeconds);
  const grace = o.graceSeconds ?? CLI_GRACE_SECONDS;
  const giveUpAfter = o.hostWaitSeconds + grace;
  if (worst.silentSeconds >= giveUpAfter) {
    return {
      action: 'give-up',
      queue: worst.queue,
      reason: `no worker has served ${worst.queue} for ${silent} s (run.hostWaitSeconds ${o.hostWaitSeconds} s + ${grace} s grace)`,
    };
  }
  const warnAfter = Math.min(WARN_SILENT_SECONDS, Math.max(1, Math.floor(o.hostWaitSeconds / 4)));
  if (worst.silentSeconds >= warnAfter) {
    const left = Math.max(0, Math.round(o.hostWaitSeconds - worst.silentSeconds));
    return {
      action: 'warn',
      queue: worst.queue,
      reason: `no worker serves ${worst.queue} (silent ${silent} s); the run gives up on it in about ${left} s unless one comes back`,
    };
  }
  return { action: 'wait' };
}

/** Whether a poller seen by DescribeTaskQueue is still alive: its last poll is recent enough. */
export function pollerIsLive(lastAccess: string | undefined, nowMs: number): boolean {
  // Without a last-access time the server is reporting a poll that is happening now.
  if (lastAccess === undefined) return true;
  const at = Date.parse(lastAccess);
  return Number.isNaN(at) || nowMs - at <= POLLER_STALE_SECONDS * 1000;
}
