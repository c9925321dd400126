import { ApplicationFailure, Context } from '@temporalio/activity';
import type { GoldenStep } from '../../core/vm/manifest.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import { withHeartbeats } from '../heartbeat.js';
import { planGoldenBuild, readGoldenManifest, runGoldenStep, type GoldenBuildRequest, type GoldenPlan, type StepOutcome } from './build.js';
import { defaultGoldenCacheDir } from './paths.js';

export interface GoldenActivityDeps {
  /** Golden cache of this host (default: defaultGoldenCacheDir()). */
  cacheDir?: string;
  /** config host.aptCheckValidUntil */
  aptCheckValidUntil?: boolean;
}

export interface GoldenStepHeartbeat {
  step: GoldenStep;
  lines: number;
  lastLine: string;
}

/**
 * Golden-build activities for a host's own queue: plan once, then one activity per step. Each step
 * heartbeats its latest build-log line; a worker killed mid-step is noticed at the heartbeat
 * timeout and the retried step resumes there (earlier steps are checkpointed on disk).
 */
export function createGoldenActivities(deps: GoldenActivityDeps = {}) {
  const log = createLogger('golden');
  const cacheDir = deps.cacheDir ?? defaultGoldenCacheDir();
  return {
    async planGoldenBuild(request: GoldenBuildRequest): Promise<GoldenPlan> {
      try {
        return await planGoldenBuild({ aptCheckValidUntil: deps.aptCheckValidUntil, ...request, cacheDir: request.cacheDir ?? cacheDir }, log);
      } catch (err) {
        if (err instanceof UsageError) throw ApplicationFailure.nonRetryable(err.message, 'UsageError');
        throw err;
      }
    },

    async runGoldenStep(plan: GoldenPlan, step: GoldenStep): Promise<StepOutcome> {
      const beat: GoldenStepHeartbeat = { step, lines: 0, lastLine: '' };
      const signal = Context.current().cancellationSignal;
      try {
        return await withHeartbeats(
          () => beat,
          () =>
            runGoldenStep(plan, step, {
              log,
              signal,
              onLine: (line) => {
                beat.lines += 1;
                beat.lastLine = line.slice(0, 200);
              },
            }),
          5_000,
        );
      } catch (err) {
        // A step refused for what the host or mirror is (not a passing failure) is not retried.
        if (err instanceof UsageError) throw ApplicationFailure.nonRetryable(err.message, 'UsageError');
        throw err;
      }
    },

    /** The published manifest of a plan's golden (what the workflow returns). */
    async readGoldenManifest(goldenDir: string) {
      const manifest = readGoldenManifest(goldenDir);
      if (!manifest) throw ApplicationFailure.nonRetryable(`no golden manifest in ${goldenDir}`, 'MissingGolden');
      return manifest;
    },
  };
}

export type GoldenActivities = ReturnType<typeof createGoldenActivities>;
