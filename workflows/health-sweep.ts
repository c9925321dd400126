import { executeChild, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import { FlavorSchema } from '../core/catalog/schema.js';
import { hostsToCheck } from '../core/host/health.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { failureMessage, parseInput } from './failures.js';
import { hostHealthCheck, type HostHealthCheckResult } from './health-check.js';

export const HealthSweepInputSchema = z.object({
  /** `health.everyHours` / `health.everyJobs`: when a `good` host is due again. */
  cadence: z.strictObject({ everyHours: z.number().positive().optional(), everyJobs: z.number().int().min(1).optional() }).default({}),
  /** The catalog's flavors: a host boots the first of its goldens found here. */
  flavors: z.array(FlavorSchema).default([]),
  /** A host that takes longer than this to pick up its check fails it (and goes on being `unknown`). */
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type HealthSweepInput = z.input<typeof HealthSweepInputSchema>;

export interface HealthSweepResult {
  checked: { hostId: string; flavorId?: string; passed: boolean; state: string; error?: string }[];
}

const fleet = proxyActivities<CoordinatorActivities>({ startToCloseTimeout: '2m', retry: { initialInterval: '1s', maximumInterval: '30s' } });

/**
 * The health cadence, fired by a Temporal Schedule (`zfslab host health-cadence`): every host whose
 * check is due gets one, as a child `hostHealthCheck`, all at once; one host failing its check (or
 * not answering) does not stop the others.
 */
export async function hostHealthSweep(rawInput: HealthSweepInput): Promise<HealthSweepResult> {
  const input = parseInput(HealthSweepInputSchema, rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.kind, value: 'health-sweep' }]);
  const due = hostsToCheck(
    await fleet.listFleet(),
    new Date().toISOString(),
    input.cadence,
    input.flavors.map((f) => f.id),
  );
  const settled = await Promise.allSettled(
    due.map((check) =>
      executeChild(hostHealthCheck, {
        args: [
          {
            hostId: check.hostId,
            ...(check.flavorId ? { flavor: input.flavors.find((f) => f.id === check.flavorId)! } : {}),
            hostWaitSeconds: input.hostWaitSeconds,
          },
        ],
      }),
    ),
  );
  return {
    checked: settled.map((s, i) => {
      const check = due[i]!;
      if (s.status === 'fulfilled') {
        const r: HostHealthCheckResult = s.value;
        return { ...check, passed: r.passed, state: r.record.state };
      }
      return { ...check, passed: false, state: 'unknown', error: failureMessage(s.reason) };
    }),
  };
}
