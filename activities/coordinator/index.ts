import { ApplicationFailure } from '@temporalio/activity';
import { artifactKeys } from '../../core/artifact-keys.js';
import type { HealthEvent, HealthTransition, HostHealthRecord } from '../../core/host/health.js';
import { HostProbeReportSchema, type HostProbeReport } from '../../core/host/probe-report.js';
import { registrationOf, type HostEntry } from '../../core/host/registry.js';
import { UsageError } from '../../lib/errors.js';
import type { HostRegistry } from '../../lib/store/host-registry.js';
import { GoldenManifestSchema, type GoldenManifest } from '../../core/vm/manifest.js';
import type { ArtifactStore } from '../../lib/s3.js';

export interface CoordinatorActivityDeps {
  artifacts: ArtifactStore;
  /** The fleet's host registry (results store); probes register into it, health changes go through it. */
  registry?: HostRegistry;
}

/** Activities of the coordinator queue: bookkeeping that needs no particular lab host. */
export function createCoordinatorActivities(deps: CoordinatorActivityDeps) {
  const requireRegistry = (): HostRegistry => {
    if (!deps.registry) throw ApplicationFailure.nonRetryable('this coordinator was started without the results store: no host registry', 'NoHostRegistry');
    return deps.registry;
  };
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

    /** Registers what a probe proved (capabilities, VM slots, goldens, tags) in the fleet's host registry. */
    async registerHost(report: HostProbeReport): Promise<HostEntry> {
      const parsed = HostProbeReportSchema.safeParse(report);
      if (!parsed.success) throw ApplicationFailure.nonRetryable(`probe report failed validation: ${parsed.error.message}`, 'InvalidProbeReport');
      return requireRegistry().register(registrationOf(parsed.data), new Date().toISOString());
    },

    /** Applies a health event to a host (an infrastructure failure, a health check's verdict, an operator's request). */
    async applyHostHealth(input: { hostId: string; event: HealthEvent }): Promise<{ record: HostHealthRecord; transition?: HealthTransition }> {
      try {
        return await requireRegistry().applyHealth(input.hostId, input.event);
      } catch (err) {
        if (err instanceof UsageError) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
    },

    /** Every host of the registry, for placement and `zfslab status`. */
    async listFleet(): Promise<HostEntry[]> {
      return requireRegistry().list();
    },

    /** Publishes a golden's manifest so that every host and `zfslab status` can see which goldens exist where. */
    async storeGoldenManifest(input: { hostId: string; manifest: GoldenManifest }): Promise<{ uri: string }> {
      const manifest = GoldenManifestSchema.parse(input.manifest);
      const key = `${artifactKeys.golden(input.hostId, manifest.flavorId, manifest.recipeHash.slice(0, 16))}/manifest.json`;
      return { uri: (await deps.artifacts.putBytes(key, JSON.stringify(manifest, null, 2) + '\n')).uri };
    },
  };
}

export type CoordinatorActivities = ReturnType<typeof createCoordinatorActivities>;
