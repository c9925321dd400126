import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import { z } from 'zod';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { GoldenActivities } from '../activities/golden/index.js';
import { FlavorSchema, LineageSchema } from '../core/catalog/schema.js';
import type { GoldenManifest, GoldenStep } from '../core/vm/manifest.js';
import { ZfsSourceSchema } from '../core/vm/zfs-source.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

/** Input of goldenBuild: the flavor is resolved from the catalog (shipped + config) by the caller. */
export const GoldenBuildInputSchema = z.object({
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  flavor: FlavorSchema,
  lineage: LineageSchema.default('ztest'),
  force: z.boolean().default(false),
  zfsSource: ZfsSourceSchema.optional(),
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type GoldenBuildInput = z.input<typeof GoldenBuildInputSchema>;

export interface GoldenStepProgress {
  step: GoldenStep;
  status: 'pending' | 'running' | 'done' | 'skipped' | 'failed';
  seconds?: number;
}

export interface GoldenBuildProgress {
  name: string | undefined;
  cached: boolean;
  steps: GoldenStepProgress[];
}

export interface GoldenBuildResult {
  name: string;
  goldenDir: string;
  cached: boolean;
  manifest: GoldenManifest;
  steps: GoldenStepProgress[];
}

const { storeGoldenManifest } = proxyActivities<CoordinatorActivities>({ startToCloseTimeout: '2m', retry: { maximumInterval: '30s' } });

export const goldenProgressQuery = defineQuery<GoldenBuildProgress>('goldenProgress');

/**
 * Builds (or reuses) one golden on one host: a plan activity, then one activity per step on the
 * host's queue. Steps are checkpointed on the host, so a retried step after a worker crash resumes
 * where it stopped; a rerun of the whole workflow skips finished steps.
 */
export async function goldenBuild(rawInput: GoldenBuildInput): Promise<GoldenBuildResult> {
  const input = parseInput(GoldenBuildInputSchema, rawInput);
  const progress: GoldenBuildProgress = { name: undefined, cached: false, steps: [] };
  setHandler(goldenProgressQuery, () => progress);

  const { planGoldenBuild, readGoldenManifest } = proxyHostActivities<GoldenActivities>(input, {
    startToCloseTimeout: '10m',
    retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 5 },
  });
  const { runGoldenStep } = proxyHostActivities<GoldenActivities>(input, {
    // DKMS under TCG-less CPU contention takes tens of minutes; heartbeats every 5 s show liveness.
    startToCloseTimeout: '3h',
    heartbeatTimeout: '2m',
    retry: { initialInterval: '10s', maximumInterval: '2m', maximumAttempts: 4 },
  });

  const plan = await planGoldenBuild({ flavor: input.flavor, lineage: input.lineage, force: input.force, zfsSource: input.zfsSource });
  progress.name = plan.name;
  progress.cached = plan.cached;
  progress.steps = plan.steps.map((step) => ({ step, status: plan.cached ? 'skipped' : 'pending' }));
  if (!plan.cached) {
    for (const entry of progress.steps) {
      entry.status = 'running';
      try {
        const outcome = await runGoldenStep(plan, entry.step);
        entry.status = outcome.skipped ? 'skipped' : 'done';
        entry.seconds = outcome.seconds;
      } catch (err) {
        entry.status = 'failed';
        throw err;
      }
    }
  }
  const manifest = await readGoldenManifest(plan.goldenDir);
  await storeGoldenManifest({ hostId: input.hostId, manifest });
  return { name: plan.name, goldenDir: plan.goldenDir, cached: plan.cached, manifest, steps: progress.steps };
}
