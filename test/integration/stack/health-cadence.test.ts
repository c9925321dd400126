import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEALTH_SWEEP_SCHEDULE } from '../../../apps/cli/commands/host.js';
import { storeUrlOf } from '../../../lib/config.js';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import type { HealthSweepResult } from '../../../workflows/health-sweep.js';
import { connectTestClient, runCli, startWorker, useWorld } from '../../support/stack.js';

// `zfslab host health-cadence` on the real dev server: the schedule exists with its cadence, and a
// firing of it runs the sweep through real workers, which health-checks the probed host that is due.
describe('zfslab host health-cadence', () => {
  const setup = useWorld('cadence', { host: false });
  // No goldens for this host: its check is the native smoke test, not a clone boot.
  const goldens = mkdtempSync(join(tmpdir(), 'zfslab-cadence-goldens-'));
  afterAll(() => rmSync(goldens, { recursive: true, force: true }));

  it('creates the schedule; a firing checks the unknown probed host and makes it good; --off deletes it', async () => {
    const env = { ...setup.world.env, ZFSLAB_GOLDEN_CACHE: goldens };
    setup.workers.push(await startWorker('host', env));
    expect((await runCli(['host', 'probe', '--disk-seconds', '0'], env)).code).toBe(0);
    const created = await runCli(['host', 'health-cadence', '--every', '1h'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`schedule ${HEALTH_SWEEP_SCHEDULE} created: a sweep every 1h checks unknown hosts`);
    const client = await connectTestClient();
    try {
      const handle = client.schedule.getHandle(HEALTH_SWEEP_SCHEDULE);
      const described = await handle.describe();
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'hostHealthSweep' });
      expect(described.spec.intervals?.[0]?.every).toBe(3_600_000);
      await handle.trigger();
      let started: { workflowId: string; firstExecutionRunId: string } | undefined;
      for (let i = 0; i < 100 && !started; i++) {
        started = (await handle.describe()).info.recentActions.at(-1)?.action.workflow;
        if (!started) await new Promise((r) => setTimeout(r, 200));
      }
      const sweep = (await client.workflow.getHandle(started!.workflowId, started!.firstExecutionRunId).result()) as HealthSweepResult;
      expect(sweep.checked).toEqual([{ hostId: setup.world.hostId, passed: true, state: 'good' }]);
    } finally {
      await client.connection.close();
    }
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      expect((await new HostRegistry(store.db).get(setup.world.hostId))?.health.state).toBe('good');
    } finally {
      await store.close();
    }
    const off = await runCli(['host', 'health-cadence', '--off'], env);
    expect(off.stdout).toContain(`schedule ${HEALTH_SWEEP_SCHEDULE} deleted`);
    expect((await runCli(['host', 'health-cadence', '--every', '10s'], env)).stderr).toContain('a duration of at least 1m');
  }, 240_000);
});
