import type { Client } from '@temporalio/client';
import { hostTaskQueue } from '../../core/queues.js';
import type { Config } from '../../lib/config.js';
import { InfraError } from '../../lib/errors.js';
import { describePollers } from '../../lib/task-queues.js';
import { connectClient } from '../../lib/temporal.js';

/** A Temporal client for a command, or an infrastructure error that says what to do about it. */
export async function connectOrExplain(config: Config): Promise<Client> {
  return connectClient(config).catch((err: Error) => {
    throw new InfraError(`cannot reach Temporal at ${config.temporal.address} (is the stack up? \`zfslab up\`): ${err.message}`);
  });
}

/** Refuses before starting a workflow that would wait forever for a host worker nobody runs. */
export async function requireHostWorker(client: Client, namespace: string, hostId: string): Promise<void> {
  const queue = hostTaskQueue(hostId);
  const pollers = await describePollers(client, namespace, queue);
  if (pollers.activityPollers.length === 0) {
    throw new InfraError(`no host worker polls ${queue}: start one on host ${hostId} (\`zfslab up\` there, or \`node dist/workers/host/main.js\`)`);
  }
}
