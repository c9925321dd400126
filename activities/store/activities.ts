import { ApplicationFailure } from '@temporalio/activity';
import { ZodError } from 'zod';
import { recordResults as countResults, recordRunOutcome } from '../../lib/metrics.js';
import type { CoordinatorMetrics } from '../../lib/metrics.js';
import type { ResultsStore } from '../../lib/store/store.js';
import type { ArtifactKey, FlavorRecord, HostRecord, ResultBatch, RunEnd, RunFlavorRecord, RunRecord } from '../../lib/store/types.js';

export interface StoreActivityDeps {
  store: ResultsStore;
  /** When given, recorded results and finished runs are counted here too. */
  metrics?: CoordinatorMetrics;
}

/**
 * The results store as coordinator activities. Every write is idempotent, so Temporal's retries
 * are safe; input that fails validation will fail again and is thrown as non-retryable.
 */
export function createStoreActivities(deps: StoreActivityDeps) {
  const { store, metrics } = deps;
  return {
    async recordRun(run: RunRecord): Promise<void> {
      await validated(() => store.recordRun(run));
    },

    async recordFlavor(flavor: FlavorRecord, now: string): Promise<void> {
      await validated(() => store.upsertFlavor(flavor, now));
    },

    async recordHost(host: HostRecord): Promise<void> {
      await validated(() => store.upsertHost(host));
    },

    async recordRunFlavor(runFlavor: RunFlavorRecord): Promise<void> {
      await validated(() => store.recordRunFlavor(runFlavor));
    },

    /** Returns the number of rows written. Counted in the metrics after the write succeeded. */
    async recordResults(batch: ResultBatch): Promise<number> {
      const written = await validated(() => store.recordResults(batch));
      if (metrics) countResults(metrics, batch.flavorId, batch.results);
      return written;
    },

    async recordArtifactKeys(keys: ArtifactKey[]): Promise<void> {
      await validated(() => store.recordArtifactKeys(keys));
    },

    async finishRun(runId: string, end: RunEnd): Promise<void> {
      await validated(() => store.finishRun(runId, end));
      if (metrics && end.status !== 'running') {
        const run = await store.getRun(runId);
        const seconds = run?.endedAt === undefined ? undefined : (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
        recordRunOutcome(metrics, end.status, seconds !== undefined && seconds >= 0 ? seconds : undefined);
      }
    },
  };
}

export type StoreActivities = ReturnType<typeof createStoreActivities>;

async function validated<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof ZodError) {
      throw ApplicationFailure.nonRetryable(`results store input failed validation: ${err.message}`, 'InvalidStoreInput');
    }
    throw err;
  }
}
