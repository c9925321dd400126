import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { HostActivities } from '../activities/host/index.js';
import { FlavorSchema } from '../core/catalog/schema.js';
import type { HealthTransition, HostHealthRecord } from '../core/host/health.js';
import { CLONE_SMOKE_SCRIPT, healthCheckWhy } from '../core/host/health-check.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { failureMessage, parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

export const HostHealthCheckInputSchema = z.object({
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  /** A flavor with a golden on the host: its clone boots and runs the smoke test. None: the native smoke test. */
  flavor: FlavorSchema.optional(),
  hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
});
export type HostHealthCheckInput = z.input<typeof HostHealthCheckInputSchema>;

export interface HealthCheckPart {
  name: string;
  passed: boolean;
  detail: string;
}

export interface HostHealthCheckResult {
  hostId: string;
  passed: boolean;
  parts: HealthCheckPart[];
  record: HostHealthRecord;
  transition?: HealthTransition;
}

const fleet = proxyActivities<CoordinatorActivities>({ startToCloseTimeout: '2m', retry: { initialInterval: '1s', maximumInterval: '30s' } });

/**
 * A host's health check, after LAVA's: probe it, then boot a clone of one of its goldens and run a
 * ZFS smoke test there (a host with no golden runs the native smoke test instead); pass → `good`,
 * fail → `bad`, recorded in the host registry with why.
 */
export async function hostHealthCheck(rawInput: HostHealthCheckInput): Promise<HostHealthCheckResult> {
  const input = parseInput(HostHealthCheckInputSchema, rawInput);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'health-check' },
    ...(input.flavor ? [{ key: SEARCH_ATTRIBUTES.flavor, value: input.flavor.id }] : []),
  ]);
  const host = proxyHostActivities<HostActivities>(input, {
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
  });
  const clone = proxyHostActivities<HostActivities>(input, {
    // Boot under software emulation takes minutes on a loaded host.
    startToCloseTimeout: '40m',
    heartbeatTimeout: '2m',
    retry: { initialInterval: '10s', maximumAttempts: 2, nonRetryableErrorTypes: ['MissingGolden'] },
  });
  const parts: HealthCheckPart[] = [];
  const attempt = async (name: string, body: () => Promise<{ passed: boolean; detail: string }>): Promise<boolean> => {
    try {
      const { passed, detail } = await body();
      parts.push({ name, passed, detail });
      return passed;
    } catch (err) {
      // An unreachable host is not a failed one: it stays as it is (`unknown` after the infrastructure failure).
      if (err instanceof ApplicationFailure && err.type === 'HostUnavailable') throw err;
      parts.push({ name, passed: false, detail: failureMessage(err) });
      return false;
    }
  };
  const probed = await attempt('probe', async () => {
    const report = await host.probeHost({ diskBenchmarkSeconds: 0 });
    await fleet.storeProbeReport(report);
    await fleet.registerHost(report);
    return { passed: true, detail: `${report.sections.system.cpus} CPUs, kernel ${report.sections.system.kernel}` };
  });
  if (probed && input.flavor) {
    const flavor = input.flavor;
    await attempt(`boot a ${flavor.id} clone + smoke test`, async () => {
      const golden = await host.findGolden({ flavor, lineage: 'ztest' });
      if (!golden) return { passed: false, detail: `no ztest golden of ${flavor.id} on ${input.hostId}` };
      const result = await clone.runRecipeInClone({
        runId: `health-${input.hostId}-${workflowInfo().runId.slice(0, 8)}`,
        flavorId: flavor.id,
        goldenDir: golden.goldenDir,
        recipe: { name: 'health-smoke', script: CLONE_SMOKE_SCRIPT, timeoutMs: 600_000 },
      });
      const passed = result.outcome === 'PASS';
      const detail = passed
        ? `booted in ${result.clone.bootSeconds} s; pool created, written, scrubbed, destroyed`
        : `${result.outcome} (exit ${result.exitCode}): ${result.outputTail.trim().split('\n').slice(-2).join(' | ')}`;
      return { passed, detail };
    });
  } else if (probed) {
    await attempt('native smoke test', async () => {
      const smoke = await host.nativeSmokeTest();
      return { passed: smoke.passed, detail: smoke.steps.map((s) => `${s.name}: ${s.passed ? 'ok' : s.detail}`).join('; ') };
    });
  }
  const passed = parts.every((p) => p.passed);
  const health = await fleet.applyHostHealth({
    hostId: input.hostId,
    event: { kind: 'health-check', at: new Date().toISOString(), passed, why: healthCheckWhy(parts) },
  });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: passed ? 'passed' : 'failed' }]);
  return { hostId: input.hostId, passed, parts, ...health };
}
