import { ApplicationFailure, Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { loadCatalog, type Catalog } from '../../core/catalog/index.js';
import { RunfileSyntaxError } from '../../core/runfile/errors.js';
import type { ChunkActivityInput, ChunkActivityResult, ResolvedTarget } from '../../core/test-run/types.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { recordKstatStep, recordZioWindow, type ProbeMetrics } from '../../lib/probe-metrics.js';
import { ChunkCancelled, ChunkRunnerFailed, executeChunk } from './chunk.js';
import type { ProbeListener } from './chunk-probes.js';
import { resolveTarget, type GoldenSuites, type ResolveTargetInput } from './resolve.js';
import { NativeTargetProvider, TargetProviders, TargetUnavailable, type TargetProvider } from './targets.js';

export interface ZtsHostActivityDeps {
  hostId: string;
  toolsDir: string;
  /** Run work on this host: `<stateDir>/zts-runs`. */
  workRoot: string;
  artifacts: ArtifactStore;
  catalog?: Catalog;
  /** The VM layer's provider, once it exists; without it only `native` runs here. */
  vmProvider?: TargetProvider;
  /** This host's goldens' suites (the VM provider): flavors are planned from their golden's own runfiles. */
  goldens?: GoldenSuites;
  /** The host worker's exporter of the in-guest probes (zfs_* metrics), fed while chunks run. */
  probeMetrics?: ProbeMetrics;
}

/**
 * The ZTS activities of a lab host (registered by activities/host/index.ts on the host's queue).
 * Errors are classified once, here: a bad selection or runfile is the user's (non-retryable,
 * `UsageError`), a target this host cannot open is non-retryable, a runner that died is retried
 * (the retry resumes from the checkpoint), a cancel is reported as a cancel.
 */
export function createZtsHostActivities(deps: ZtsHostActivityDeps) {
  const log = createLogger('zts');
  const catalog = deps.catalog ?? loadCatalog();
  const provider = new TargetProviders({
    native: new NativeTargetProvider({ toolsDir: deps.toolsDir, log }),
    ...(deps.vmProvider ? { vm: deps.vmProvider } : {}),
  });
  return {
    async resolveZtsTarget(input: ResolveTargetInput): Promise<ResolvedTarget> {
      try {
        return await resolveTarget(input, {
          toolsDir: deps.toolsDir,
          catalog,
          log,
          signal: Context.current().cancellationSignal,
          ...(deps.goldens ? { goldens: deps.goldens } : {}),
        });
      } catch (err) {
        throw classify(err);
      }
    },

    async runZtsChunk(input: ChunkActivityInput): Promise<ChunkActivityResult> {
      const context = Context.current();
      const heartbeatMs = context.info.heartbeatTimeoutMs ?? 30_000;
      try {
        return await executeChunk(input, {
          // The workflow counts attempts itself (a chunk may move between hosts); Temporal's is always 1 then.
          attempt: input.attempt ?? context.info.attempt,
          heartbeatDetails: context.info.heartbeatDetails,
          heartbeat: (details) => context.heartbeat(details),
          signal: context.cancellationSignal,
          artifacts: deps.artifacts,
          provider,
          workRoot: deps.workRoot,
          log: log.child({ runId: input.runId, flavorId: input.flavorId, shard: input.shard, chunk: input.chunk }),
          keepAliveMs: Math.max(250, Math.min(5_000, Math.floor(heartbeatMs / 3))),
          ...(deps.probeMetrics ? { probeListener: probeListenerOf(deps.probeMetrics, deps.hostId) } : {}),
        });
      } catch (err) {
        // A worker shutting down aborts its activities too: that is no cancel of the run, so report a
        // retryable failure and let the next attempt resume from the checkpoint.
        if (err instanceof ChunkCancelled && !context.cancellationDetails?.cancelRequested) {
          throw ApplicationFailure.retryable(`chunk interrupted (${describeAbort(context)}); ${err.message}`, 'ZtsChunkInterrupted');
        }
        throw classify(err);
      }
    },
  };
}

function probeListenerOf(metrics: ProbeMetrics, host: string): (flavor: string) => ProbeListener {
  return (flavor) => ({
    kstat: (step) => recordKstatStep(metrics, { flavor, host }, step),
    zio: (window) => recordZioWindow(metrics, { flavor, host }, window),
  });
}

export type ZtsHostActivities = ReturnType<typeof createZtsHostActivities>;

function describeAbort(context: Context): string {
  const d = context.cancellationDetails;
  if (d?.workerShutdown) return 'worker shutdown';
  if (d?.timedOut) return 'timed out';
  return 'aborted';
}

function classify(err: unknown): unknown {
  if (err instanceof ChunkCancelled) return new CancelledFailure(err.message);
  if (err instanceof ChunkRunnerFailed) {
    return err.retryable
      ? ApplicationFailure.retryable(err.message, 'ZtsRunnerFailed', { resultsKey: err.resultsKey })
      : ApplicationFailure.nonRetryable(err.message, 'ZtsRunnerFailed', { resultsKey: err.resultsKey });
  }
  if (err instanceof TargetUnavailable) return ApplicationFailure.nonRetryable(err.message, 'TargetUnavailable');
  if (err instanceof UsageError || err instanceof RunfileSyntaxError) return ApplicationFailure.nonRetryable(err.message, 'UsageError');
  return err;
}
