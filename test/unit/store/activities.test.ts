import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createStoreActivities } from '../../../activities/store/activities.js';
import { openStore } from '../../../lib/store/index.js';
import { createCoordinatorMetrics } from '../../../lib/metrics.js';
import { readCapture } from '../../support/store/real-captures.js';

const dir = mkdtempSync(join(tmpdir(), 'zfslab-store-activities-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('store activities', () => {
  it('write through the store, count what they wrote, and refuse invalid input for good', async () => {
    const store = await openStore(`sqlite:${join(dir, 'a.db')}`, { logger: pino({ level: 'silent' }) });
    const metrics = createCoordinatorMetrics();
    const activities = createStoreActivities({ store, metrics });
    try {
      const capture = readCapture('2.4.4', 'demo');
      await activities.recordFlavor({ id: 'debian-13', os: 'debian', release: '13', kernel: '6.12.0', openzfsVersion: '2.4.4' }, capture.startedAt);
      await activities.recordRun({ id: 'run-1', workflowId: 'wf-1', selection: 'runfile:demo.run', target: 'debian-13', startedAt: capture.startedAt });
      expect(await activities.recordResults({ runId: 'run-1', flavorId: 'debian-13', results: capture.results })).toBe(capture.results.length);
      await activities.finishRun('run-1', { status: 'failed', endedAt: new Date(Date.parse(capture.startedAt) + 90_000).toISOString() });

      expect(await store.getResults('run-1')).toHaveLength(capture.results.length);
      const text = await metrics.registry.metrics();
      expect(text).toContain('zfslab_runs_total{outcome="failed"} 1');
      expect(text).toContain('zfslab_run_duration_seconds_sum{outcome="failed"} 90');
      expect(text).toContain('zfslab_test_results_total{flavor="debian-13",outcome="KILLED",classification="unexpected-fail"} 1');

      const bad = activities.recordResults({ runId: 'run-1', flavorId: 'debian-13', results: [{ ...capture.results[0]!, outcome: 'RERAN' as never }] });
      await expect(bad).rejects.toBeInstanceOf(ApplicationFailure);
      await expect(bad).rejects.toMatchObject({ nonRetryable: true, type: 'InvalidStoreInput' });
      // A missing run is not a validation error: it may be a race, so it stays retryable.
      const orphan = activities.recordResults({ runId: 'no-such-run', flavorId: 'debian-13', results: capture.results });
      await expect(orphan).rejects.not.toBeInstanceOf(ApplicationFailure);
    } finally {
      await store.close();
    }
  });
});
