import type { Client } from '@temporalio/client';

export interface QueuePollers {
  queue: string;
  workflowPollers: { identity: string; lastAccess?: string }[];
  activityPollers: { identity: string; lastAccess?: string }[];
}

/** Who polls a task queue, from Temporal's DescribeTaskQueue (pollers seen in the last few minutes). */
export async function describePollers(client: Client, namespace: string, queue: string): Promise<QueuePollers> {
  // temporal.api.enums.v1: TaskQueueKind NORMAL = 1; TaskQueueType WORKFLOW = 1, ACTIVITY = 2.
  // (@temporalio/proto is CommonJS and has no named ESM exports, so the numbers are spelt out.)
  const describe = async (taskQueueType: 1 | 2) => {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queue, kind: 1 },
      taskQueueType,
    });
    return (response.pollers ?? []).map((p) => ({
      identity: p.identity ?? 'unknown',
      ...(p.lastAccessTime?.seconds ? { lastAccess: new Date(Number(p.lastAccessTime.seconds) * 1000).toISOString() } : {}),
    }));
  };
  return {
    queue,
    workflowPollers: await describe(1),
    activityPollers: await describe(2),
  };
}
