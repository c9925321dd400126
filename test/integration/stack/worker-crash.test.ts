import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { HostProbeReportSchema, PROBE_SECTION_NAMES, type ProbeSectionName } from '../../../core/host/probe-report.js';
import { connectTestClient, createWorld, startWorker, type RunningWorker, type TestWorld } from '../../support/stack.js';

describe('a host worker killed with SIGKILL mid-activity', () => {
  let world: TestWorld;
  let client: Client;
  let coordinator: RunningWorker;
  const hosts: RunningWorker[] = [];

  beforeAll(async () => {
    world = createWorld('crash');
    client = await connectTestClient();
    coordinator = await startWorker('coordinator', world.env);
  });
  afterAll(async () => {
    await Promise.all([coordinator?.stop(), ...hosts.map((h) => h.stop())]);
    await client?.connection.close();
    world?.cleanup();
  });

  it('is replaced by a new worker whose retry resumes from the heartbeat checkpoint', async () => {
    hosts.push(await startWorker('host', world.env));
    const handle = await client.workflow.start('hostProbe', {
      taskQueue: world.loaded.config.temporal.taskQueue,
      workflowId: `crash-${world.hostId}`,
      // A long disk measurement is the last section: the kill lands while it runs.
      args: [{ hostId: world.hostId, diskBenchmarkSeconds: 15 }],
    });

    // Wait until the server holds a heartbeat with every section but the last one.
    const before: ProbeSectionName[] = PROBE_SECTION_NAMES.filter((n) => n !== 'diskSpeed');
    let checkpointed: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const description = await handle.describe();
      const pending = description.raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      if (payload) {
        checkpointed = Object.keys(defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload));
        if (before.every((n) => checkpointed.includes(n))) break;
      }
      await sleep(100);
    }
    expect(checkpointed).toEqual(expect.arrayContaining(before));
    expect(checkpointed).not.toContain('diskSpeed');

    await hosts[0]!.kill9();
    hosts.push(await startWorker('host', world.env));

    const result = (await handle.result()) as { report: unknown };
    const report = HostProbeReportSchema.parse(result.report);
    // The checkpointed sections are the first attempt's, not collected again…
    for (const name of checkpointed as ProbeSectionName[]) expect(report.sections[name].attempt, name).toBe(1);
    // …and the section that was running when the worker died was done by a retry.
    expect(report.sections.diskSpeed.attempt).toBeGreaterThan(1);
    expect(report.sections.diskSpeed.measured).toBe(true);
    expect(hosts[1]!.output()).toMatch(/already collected by an earlier attempt/);
  }, 180_000);
});
