import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { HostActivities } from '../activities/host/index.js';
import type { HostProbeReport } from '../core/host/probe-report.js';
import type { HostEntry } from '../core/host/registry.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

export const HostProbeInputSchema = z.object({
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  /** Seconds of sequential-write measurement under the image dir; 0 skips it. */
  diskBenchmarkSeconds: z.number().min(0).max(600).default(3),
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type HostProbeInput = z.input<typeof HostProbeInputSchema>;

export interface HostProbeResult {
  report: HostProbeReport;
  uri: string;
  /** The host's registry entry after the probe: proven capabilities, facts, health. */
  host: HostEntry;
}

const { storeProbeReport, registerHost } = proxyActivities<CoordinatorActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** Probes one lab host on its own queue, keeps the report in S3 and registers what it proved in the host registry. */
export async function hostProbe(rawInput: HostProbeInput): Promise<HostProbeResult> {
  const input = parseInput(HostProbeInputSchema, rawInput);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'host-probe' },
  ]);
  const { probeHost } = proxyHostActivities<HostActivities>(input, {
    startToCloseTimeout: '5m',
    // Short, so that a crashed host worker is noticed quickly; the activity heartbeats every second.
    heartbeatTimeout: '5s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10 },
  });
  const report = await probeHost({ diskBenchmarkSeconds: input.diskBenchmarkSeconds });
  const { uri } = await storeProbeReport(report);
  const host = await registerHost(report);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: 'ok' }]);
  return { report, uri, host };
}
