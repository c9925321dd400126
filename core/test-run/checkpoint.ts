import { z } from 'zod';
import { TestResultSchema } from '../results/types.js';
import type { TestResult } from '../results/types.js';

/**
 * A chunk's checkpoint: every script finished so far, in the order they ended. It lives in two
 * places: the activity's heartbeat (on the Temporal server, so a retry on any host sees it) and a
 * journal on the host (written with every result line, so a retry on the same host loses nothing to
 * heartbeat throttling or to a heartbeat still in flight when the worker died).
 */
export const ChunkHeartbeatSchema = z.object({
  finished: z.array(TestResultSchema),
  current: z.string().optional(),
});
export type ChunkHeartbeatDetails = z.infer<typeof ChunkHeartbeatSchema>;

/** The heartbeat details of an earlier attempt, or undefined when there are none or they do not parse. */
export function parseHeartbeat(details: unknown): ChunkHeartbeatDetails | undefined {
  const parsed = ChunkHeartbeatSchema.safeParse(details);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Where to resume from: the longer of the two checkpoints when one extends the other (the journal is
 * normally ahead of the server by the heartbeats not yet sent). If they disagree — they were written
 * by different hosts — the server's copy wins: it is the one every host shares.
 */
export function resumePoint(fromServer: readonly TestResult[] | undefined, fromJournal: readonly TestResult[]): TestResult[] {
  const server = fromServer ?? [];
  if (isPrefix(server, fromJournal)) return [...fromJournal];
  if (isPrefix(fromJournal, server)) return [...server];
  return [...server];
}

function isPrefix(shorter: readonly TestResult[], longer: readonly TestResult[]): boolean {
  if (shorter.length > longer.length) return false;
  return shorter.every((r, i) => sameResult(r, longer[i] as TestResult));
}

function sameResult(a: TestResult, b: TestResult): boolean {
  return (
    a.testId === b.testId &&
    a.kind === b.kind &&
    a.outcome === b.outcome &&
    a.linuxSection === b.linuxSection &&
    a.durationSeconds === b.durationSeconds &&
    a.loggedAt === b.loggedAt
  );
}
