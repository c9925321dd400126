import { z } from 'zod';

/**
 * What a target does when a chunk's host is lost (its worker died, the machine rebooted or fell off
 * the network — the chunk's heartbeat stopped — or no worker took the task at all):
 * - `replace` (default): the chunk moves to the next standby host and resumes there at the test it
 *   was on (the heartbeat checkpoint travels with it); the lost host goes `unknown`;
 * - `wait`: the chunk is retried on the same host, which may come back (`run.hostWaitSeconds`).
 */
export const HostLossPolicySchema = z.enum(['replace', 'wait']);
export type HostLossPolicy = z.infer<typeof HostLossPolicySchema>;

/** A failed chunk attempt, as the workflow sees it (from Temporal's failure: its type, timeout, retryability). */
export interface ChunkFailureFacts {
  /** The ApplicationFailure type (`HostUnavailable`, `ZtsRunnerFailed`, …), when there is one. */
  type?: string;
  /** `HEARTBEAT`, `START_TO_CLOSE`, … when the attempt timed out. */
  timeoutType?: string;
  nonRetryable: boolean;
}

export type ChunkNextStep = { kind: 'retry'; delaySeconds: number } | { kind: 'move'; why: string } | { kind: 'stop' };

/** Attempts of one chunk in all, on every host it ran on: as many as the activity retry policy allowed before. */
export const MAX_CHUNK_ATTEMPTS = 6;

/**
 * After a chunk attempt failed: try again here (after a backoff), move to another host, or stop.
 * A heartbeat that stopped means the host (or its worker) is gone: with somewhere to go the chunk
 * moves at once; without, it is retried here, where a restarted worker resumes it. A task nobody
 * picked up (`HostUnavailable`) has waited its bound already: move, or stop.
 */
export function nextChunkStep(failure: ChunkFailureFacts, context: { attempt: number; canMove: boolean }): ChunkNextStep {
  const lost = failure.timeoutType === 'HEARTBEAT' ? 'its heartbeat stopped' : failure.type === 'HostUnavailable' ? 'no worker took the chunk' : undefined;
  if (lost && context.canMove) return { kind: 'move', why: lost };
  if (failure.type === 'HostUnavailable' || failure.nonRetryable) return { kind: 'stop' };
  if (context.attempt >= MAX_CHUNK_ATTEMPTS) return { kind: 'stop' };
  return { kind: 'retry', delaySeconds: Math.min(30, 2 ** (context.attempt - 1)) };
}

/** The next host for a target whose host was lost: the first standby host not lost yet, in order. */
export function nextHost(standby: readonly string[], lost: readonly string[]): string | undefined {
  return standby.find((h) => !lost.includes(h));
}
