import { Context } from '@temporalio/activity';

/**
 * Keeps heartbeating `details()` every `everyMs` while `work` runs, so that a long step (a bpftrace
 * check, a DKMS build) does not trip the heartbeat timeout and a crash is noticed within it.
 */
export async function withHeartbeats<T>(details: () => unknown, work: () => Promise<T>, everyMs = 1_000): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(details()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
