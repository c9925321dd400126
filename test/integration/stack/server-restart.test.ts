import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { HostProbeReportSchema } from '../../../core/host/probe-report.js';
import { startTemporalServer, stopTemporalServer } from '../../../infra/temporal-server.js';
import { toolPath } from '../../../infra/tools.js';
import { freePort } from '../../support/ports.js';
import { createWorld, startWorker, testStack, type RunningWorker, type TestWorld } from '../../support/stack.js';

// This test restarts a Temporal server, so it runs its own (the shared one serves other files).
describe('the Temporal dev server restarted on the same SQLite file', () => {
  const root = mkdtempSync(join(tmpdir(), 'zfslab-restart-'));
  const dirs = { runDir: join(root, 'run'), logDir: join(root, 'logs') };
  let port: number;
  let world: TestWorld;
  let coordinator: RunningWorker | undefined;
  let host: RunningWorker | undefined;
  const serverOptions = () => ({
    binary: toolPath(testStack().toolsDir, 'temporal'),
    dataDir: join(root, 'temporal'),
    ip: '127.0.0.1',
    port,
    uiPort: 0,
    namespace: 'zfslab',
    headless: true,
  });

  beforeAll(async () => {
    port = await freePort();
    await startTemporalServer(dirs, serverOptions());
    world = createWorld('restart', { ZFSLAB_TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await Promise.all([coordinator?.stop(), host?.stop()]);
    await stopTemporalServer(dirs);
    world?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps a waiting workflow, which completes once a host worker arrives', async () => {
    coordinator = await startWorker('coordinator', world.env);
    const connect = async () => new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }), namespace: 'zfslab' });
    let client = await connect();
    const handle = await client.workflow.start('hostProbe', {
      taskQueue: world.loaded.config.temporal.taskQueue,
      workflowId: `restart-${world.hostId}`,
      args: [{ hostId: world.hostId, diskBenchmarkSeconds: 0 }],
    });
    // No host worker yet: the workflow waits with its probe activity scheduled.
    for (let i = 0; i < 100 && !(await handle.describe()).raw.pendingActivities?.length; i++) await sleep(100);
    expect((await handle.describe()).raw.pendingActivities?.length).toBe(1);
    await client.connection.close();

    expect(await stopTemporalServer(dirs)).toBe(true);
    expect(statSync(join(root, 'temporal', 'temporal.sqlite')).size).toBeGreaterThan(0);
    await sleep(1_000);
    await startTemporalServer(dirs, serverOptions());

    client = await connect();
    try {
      const again = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      expect((await again.describe()).status.name).toBe('RUNNING');
      host = await startWorker('host', world.env);
      const result = (await again.result()) as { report: unknown };
      expect(HostProbeReportSchema.parse(result.report).hostId).toBe(world.hostId);
    } finally {
      await client.connection.close();
    }
  }, 240_000);
});
