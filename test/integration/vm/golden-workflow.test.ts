import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { GoldenActivities } from '../../../activities/golden/index.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import type { GoldenManifest, GoldenStep } from '../../../core/vm/manifest.js';
import { hostTaskQueue } from '../../../core/queues.js';
import { distDir } from '../../../lib/paths.js';
import { goldenBuild, goldenProgressQuery } from '../../../workflows/golden.js';

/**
 * The goldenBuild workflow on the real Temporal dev server with a real worker; the activities are
 * stand-ins that record calls (the real steps are exercised by the ZFSLAB_SLOW tests and by
 * bench/golden/kill-resume.ts). A step whose first attempt dies is retried on the host queue, and
 * only that step: the ones before it are not called again.
 */
describe('goldenBuild workflow', () => {
  it('runs one activity per step on the host queue, retries the failed step only, and reports progress', async () => {
    const stack = inject('stack');
    const hostId = `golden-wf-${Date.now()}`;
    const calls: GoldenStep[] = [];
    let zfsAttempts = 0;
    const published: { hostId: string; manifest: GoldenManifest }[] = [];
    const manifest = { name: 'debian13-ztest-0123456789abcdef', kernelRelease: '6.12.117+deb13-amd64' } as unknown as GoldenManifest;
    const activities: GoldenActivities = {
      planGoldenBuild: async (req) => ({
        name: manifest.name,
        flavor: loadCatalog().get('debian13'),
        lineage: 'ztest',
        recipeHash: '0'.repeat(64),
        cacheDir: '/nonexistent',
        goldenDir: '/nonexistent/debian13-ztest-0123456789abcdef',
        aptCheckValidUntil: true,
        steps: ['debootstrap', 'kernel', 'zfs', 'payload'],
        cached: false,
        force: req.force ?? false,
      }),
      runGoldenStep: async (_plan, step) => {
        calls.push(step);
        if (step === 'zfs' && ++zfsAttempts === 1) throw ApplicationFailure.retryable('worker died mid-DKMS', 'InfraError');
        return { step, seconds: step === 'zfs' ? 558 : 1, finishedAt: '2026-11-26T00:00:00Z', skipped: false };
      },
      readGoldenManifest: async () => manifest,
    };
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await Worker.create({
      connection,
      namespace: stack.namespace,
      taskQueue: hostTaskQueue(hostId),
      workflowsPath: join(distDir, 'workflows', 'golden.js'),
      // The coordinator's activity that publishes the manifest, stubbed like the host's.
      activities: {
        ...activities,
        storeGoldenManifest: async (input: { hostId: string; manifest: GoldenManifest }) => (published.push(input), { uri: 's3://test/manifest.json' }),
      },
    });
    const client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: stack.namespace });
    try {
      const result = await worker.runUntil(async () => {
        const handle = await client.workflow.start(goldenBuild, {
          taskQueue: hostTaskQueue(hostId),
          workflowId: `golden-test-${hostId}`,
          args: [{ hostId, flavor: loadCatalog().get('debian13') }],
        });
        const result = await handle.result();
        expect(await handle.query(goldenProgressQuery)).toMatchObject({ name: manifest.name, cached: false });
        return result;
      });
      expect(calls).toEqual(['debootstrap', 'kernel', 'zfs', 'zfs', 'payload']);
      expect(result.manifest.kernelRelease).toBe('6.12.117+deb13-amd64');
      expect(published).toEqual([{ hostId, manifest }]);
      expect(result.steps).toEqual([
        { step: 'debootstrap', status: 'done', seconds: 1 },
        { step: 'kernel', status: 'done', seconds: 1 },
        { step: 'zfs', status: 'done', seconds: 558 },
        { step: 'payload', status: 'done', seconds: 1 },
      ]);
    } finally {
      await connection.close();
    }
  }, 120_000);
});
