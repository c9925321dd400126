import { ActivityFailure, ApplicationFailure, TimeoutFailure, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { hostTaskQueue } from '../core/queues.js';

/** The bound every host activity carries; the workflow's input brings it from `run.hostWaitSeconds`. */
export interface HostBounds {
  hostId: string;
  hostWaitSeconds: number;
}

/**
 * Activities on one host's queue, each with a schedule-to-start bound: a task that no worker picks up
 * within `hostWaitSeconds` (the host is down, its worker was killed and never came back) fails as a
 * non-retryable `HostUnavailable` that names the host, instead of waiting in the queue forever. Every
 * workflow that runs something on a host proxies it through here.
 */
export function proxyHostActivities<A extends object>(bounds: HostBounds, options: Omit<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'>): A {
  const queue = hostTaskQueue(bounds.hostId);
  const proxied = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({
    ...options,
    taskQueue: queue,
    scheduleToStartTimeout: `${bounds.hostWaitSeconds}s`,
  });
  return new Proxy({} as A, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      return async (...args: unknown[]) => {
        try {
          return await proxied[name]!(...args);
        } catch (err) {
          if (isScheduleToStartTimeout(err)) throw hostUnavailable(bounds, queue, name);
          throw err;
        }
      };
    },
  });
}

function isScheduleToStartTimeout(err: unknown): err is ActivityFailure {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

// No `cause`: people read the innermost failure's message (failureMessage, rootCauseMessage), and
// this one, naming the host, is the message that matters; the details carry the facts.
function hostUnavailable(bounds: HostBounds, queue: string, activity: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'HostUnavailable',
    nonRetryable: true,
    message: `host ${bounds.hostId} is unavailable: no worker picked up ${activity} on ${queue} within ${bounds.hostWaitSeconds} s (run.hostWaitSeconds); start its worker (\`zfslab up\` on ${bounds.hostId})`,
    details: [{ hostId: bounds.hostId, queue, activity, hostWaitSeconds: bounds.hostWaitSeconds }],
  });
}
