import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLiveTarget } from '../../../apps/cli/commands/test-run/follow.js';
import { runWorkflowId, targetWorkflowId } from '../../../core/test-run/ids.js';
import type { MatrixRunInput } from '../../../core/test-run/input.js';
import { RUN_PROGRESS_QUERY, TARGET_PROGRESS_QUERY, type RunProgressView, type TargetProgress } from '../../../core/test-run/progress.js';
import type { MatrixRunResult } from '../../../core/test-run/types.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { connectTestClient, useWorld } from '../../support/stack.js';

describe('matrixRun over many chunks', () => {
  const setup = useWorld('can');
  let client: Client;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-can-'));

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('continues as new past the chunk bound, keeps its place, and reports progress by query all along', async () => {
    // Tests long enough (0.6 s) that a poll every 100 ms sees one in flight even on a loaded host.
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 2, perGroup: 5, sleepSeconds: 0.6 });
    const runId = `can-${Date.now()}`;
    const input: MatrixRunInput = {
      runId,
      hostId: setup.world.hostId,
      targets: ['native'],
      request: { kind: 'runfile', runfileText: readFileSync(suite.runfile, 'utf8'), name: 'counter.run', testDir: dirname(suite.runfile) },
      // Groups of 5 in chunks of 2: 3 chunks per group, 6 in all; 2 per execution: 3 executions.
      chunkSize: 2,
      maxChunksPerExecution: 2,
    };
    const handle = await client.workflow.start('matrixRun', {
      taskQueue: setup.world.loaded.config.temporal.taskQueue,
      workflowId: runWorkflowId(runId),
      args: [input],
    });
    const done: number[] = [];
    const executions = new Set<number>();
    let sawCurrent = false;
    let finished = false;
    const result = handle.result().finally(() => (finished = true));
    while (!finished) {
      try {
        const view = await handle.query<RunProgressView>(RUN_PROGRESS_QUERY);
        expect(view.targets).toEqual([{ target: 'native', workflowId: targetWorkflowId(runId, 'native') }]);
        const live = await readLiveTarget(client, 'native', targetWorkflowId(runId, 'native'));
        if (live.progress) {
          done.push(live.progress.doneTests);
          executions.add(live.progress.execution);
          if (live.current?.startsWith('functional/counter_')) sawCurrent = true;
        }
      } catch {
        // the parent may not have registered its query yet
      }
      await sleep(100);
    }
    const out = (await result) as MatrixRunResult;
    expect(out.outcome).toBe('passed');
    expect(out.targets[0]?.totals.tests).toBe(10);

    const final = await client.workflow.getHandle(targetWorkflowId(runId, 'native')).query<TargetProgress>(TARGET_PROGRESS_QUERY);
    expect(final.execution).toBe(3);
    expect(final.chunks).toEqual({ total: 6, done: 6 });
    expect(final.doneTests).toBe(10);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(executions.size).toBeGreaterThan(1);
    expect(sawCurrent).toBe(true);
    // Each test ran once; each group's setup ran once per chunk of it (3 chunks per group).
    const counts = invocations(suite);
    for (const id of suite.testIds) expect(counts.get(id.replace(/^functional\//, ''))).toBe(1);
    expect(counts.get('counter_a/setup')).toBe(3);

    // Each execution's history stays small (it is what continue-as-new is for).
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${targetWorkflowId(runId, 'native')}'` })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      expect(history.events?.length ?? 0).toBeLessThan(80);
    }
  }, 180_000);
});
