import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForWorkflow } from '../../../apps/cli/wait.js';
import { hostTaskQueue } from '../../../core/queues.js';
import { InfraError } from '../../../lib/errors.js';
import { describePollers } from '../../../lib/task-queues.js';
import { connectTestClient, startWorker, testStack, useWorld } from '../../support/stack.js';

/**
 * The CLI's waiter against the real server: it says what it waits for and on which host queue, warns
 * when nobody serves that queue, and gives up with an InfraError naming the host once the bound and
 * its grace are spent — here on a probe whose own bound is far longer, so only the CLI can end it.
 */
describe('apps/cli/wait.ts', () => {
  const setup = useWorld('waiter', { host: false });
  let client: Client;
  const opened: string[] = [];

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    for (const id of opened)
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await client.connection.close();
  });

  it('gives up on a host queue nobody serves, naming the host, after saying so', async () => {
    const hostId = `${setup.world.hostId}-x`.slice(0, 60);
    const workflowId = `wait-probe-${hostId}`;
    const handle = await client.workflow.start('hostProbe', {
      taskQueue: setup.world.loaded.config.temporal.taskQueue,
      workflowId,
      args: [{ hostId, hostWaitSeconds: 600 }],
    });
    opened.push(workflowId);
    const said: string[] = [];
    const startedAt = Date.now();
    const waiting = waitForWorkflow(client, handle, {
      what: `probe of host ${hostId}`,
      hostId,
      namespace: testStack().namespace,
      coordinatorQueue: setup.world.loaded.config.temporal.taskQueue,
      hostWaitSeconds: 2,
      graceSeconds: 1,
      say: (line) => said.push(line),
      tickMs: 100,
      checkEveryMs: 250,
    });
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(
      new RegExp(`^probe of host ${hostId}: host ${hostId} is unavailable: no worker has served ${hostTaskQueue(hostId)} for 3 s`),
    );
    expect((Date.now() - startedAt) / 1000).toBeLessThan(15);
    expect(said[0]).toMatch(new RegExp(`^waiting for probe of host ${hostId} on ${hostTaskQueue(hostId)}: no worker polling \\(\\d+ s\\)$`));
    expect(said.some((l) => l.startsWith(`warning: no worker serves ${hostTaskQueue(hostId)}`))).toBe(true);
  });

  it('keeps waiting while a worker serves the queue, and returns the result', async () => {
    const worker = await startWorker('host', setup.world.env);
    setup.workers.push(worker);
    // The worker logs that it polls before the server lists it as a poller: wait for the listing,
    // so the waiter's first look is the one asserted below.
    const queue = hostTaskQueue(setup.world.hostId);
    for (let i = 0; i < 120 && (await describePollers(client, testStack().namespace, queue)).activityPollers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const workflowId = `wait-probe-ok-${setup.world.hostId}`;
    const handle = await client.workflow.start('hostProbe', {
      taskQueue: setup.world.loaded.config.temporal.taskQueue,
      workflowId,
      args: [{ hostId: setup.world.hostId, diskBenchmarkSeconds: 0, hostWaitSeconds: 60 }],
    });
    opened.push(workflowId);
    const said: string[] = [];
    const settled = await waitForWorkflow<{ uri: string }>(client, handle, {
      what: 'probe',
      hostId: setup.world.hostId,
      namespace: testStack().namespace,
      coordinatorQueue: setup.world.loaded.config.temporal.taskQueue,
      hostWaitSeconds: 1,
      graceSeconds: 0,
      say: (line) => said.push(line),
      tickMs: 100,
      checkEveryMs: 250,
    });
    expect('value' in settled && settled.value.uri).toMatch(/^s3:\/\//);
    expect(said[0]).toMatch(new RegExp(`^waiting for probe on ${hostTaskQueue(setup.world.hostId)}: [1-9]\\d* worker\\(s\\) polling`));
    expect(said.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });
});
