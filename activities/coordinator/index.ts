import { ApplicationFailure } from '@temporalio/activity';
import { artifactKeys } from '../../core/artifact-keys.js';
import { HostProbeReportSchema, type HostProbeReport } from '../../core/host/probe-report.js';
import type { ArtifactStore } from '../../lib/s3.js';

export interface CoordinatorActivityDeps {
  artifacts: ArtifactStore;
}

/** Activities of the coordinator queue: bookkeeping that needs no particular lab host. */
export function createCoordinatorActivities(deps: CoordinatorActivityDeps) {
  return {
    /** Validates a host's probe report and stores it as the host's latest and under its timestamp. */
    async storeProbeReport(report: HostProbeReport): Promise<{ key: string; uri: string }> {
      const parsed = HostProbeReportSchema.safeParse(report);
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(`probe report failed validation: ${parsed.error.message}`, 'InvalidProbeReport');
      }
      const body = JSON.stringify(parsed.data, null, 2) + '\n';
      const stamp = parsed.data.probedAt.replace(/[^0-9A-Za-z]/g, '');
      const timestamped = await deps.artifacts.putBytes(artifactKeys.probeAt(parsed.data.hostId, stamp), body);
      await deps.artifacts.putBytes(artifactKeys.probeLatest(parsed.data.hostId), body);
      return { key: timestamped.key, uri: timestamped.uri };
    },
  };
}

export type CoordinatorActivities = ReturnType<typeof createCoordinatorActivities>;
