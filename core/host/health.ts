import { z } from 'zod';
import { UsageError } from '../errors.js';

/**
 * A host's health, after LAVA's device health: `good` hosts get work; an infrastructure failure makes a
 * host `unknown`, and an `unknown` host runs a health check (probe, boot a clone of one golden, a smoke
 * test) before anything else: pass → `good`, fail → `bad`. Operators put a host in `maintenance` (no new
 * work; back to `unknown`, so checked, when they end it) or `retired` (for good). Every change records
 * who, why and when. Pure: the registry stores the record, workflows apply events through here.
 */
export const HostHealthSchema = z.enum(['good', 'unknown', 'bad', 'maintenance', 'retired']);
export type HostHealth = z.infer<typeof HostHealthSchema>;

export const HealthTransitionSchema = z.object({
  from: HostHealthSchema,
  to: HostHealthSchema,
  /** ISO time. */
  at: z.string(),
  /** `system` or the operator (`operator:alice`). */
  by: z.string().min(1),
  why: z.string().min(1),
});
export type HealthTransition = z.infer<typeof HealthTransitionSchema>;

export const HostHealthRecordSchema = z.object({
  hostId: z.string().min(1),
  state: HostHealthSchema,
  /** The transition into the current state. */
  last: HealthTransitionSchema,
  /** When the last health check ended, and how. */
  lastCheck: z.object({ at: z.string(), passed: z.boolean() }).optional(),
  /** Jobs (targets or groups) finished since the last health check: the "every N jobs" cadence counts these. */
  jobsSinceCheck: z.number().int().min(0),
});
export type HostHealthRecord = z.infer<typeof HostHealthRecordSchema>;

export type HealthEvent =
  /** A server, worker, VM or network failure on the host (or its heartbeat ran out). */
  | { kind: 'infra-failure'; at: string; why: string }
  /** A host that was lost is back (its worker polls again): its orphans are swept, then it is checked. */
  | { kind: 'returned'; at: string; why: string }
  | { kind: 'health-check'; at: string; passed: boolean; why: string }
  | { kind: 'job-done'; at: string }
  | { kind: 'maintenance'; at: string; by: string; why: string }
  /** An operator ends maintenance, or asks for a fresh check of a `bad` or `good` host. */
  | { kind: 'recheck'; at: string; by: string; why: string }
  | { kind: 'retire'; at: string; by: string; why: string };

/** A host seen for the first time: `unknown` until its first health check passes. */
export function newHealthRecord(hostId: string, at: string): HostHealthRecord {
  return { hostId, state: 'unknown', last: { from: 'unknown', to: 'unknown', at, by: 'system', why: 'registered' }, jobsSinceCheck: 0 };
}

/** An event the state does not allow (a retired host brought back, a check result for a host in maintenance). */
export class HealthTransitionError extends UsageError {
  override name = 'HealthTransitionError';
}

/**
 * The record after `event`, and the transition to store when the state changed. Events that change
 * nothing (a second infrastructure failure of an `unknown` host) return no transition.
 */
export function applyHealthEvent(record: HostHealthRecord, event: HealthEvent): { record: HostHealthRecord; transition?: HealthTransition } {
  const move = (to: HostHealth, by: string, why: string, patch: Partial<HostHealthRecord> = {}) => {
    const transition: HealthTransition = { from: record.state, to, at: event.at, by, why };
    return { record: { ...record, ...patch, state: to, last: transition }, transition };
  };
  const refuse = (what: string): never => {
    throw new HealthTransitionError(`host ${record.hostId} is ${record.state}: cannot ${what}`);
  };
  if (record.state === 'retired') refuse(event.kind === 'job-done' ? 'finish a job' : `apply ${event.kind}`);
  switch (event.kind) {
    case 'infra-failure':
    case 'returned':
      // Maintenance and bad stay as they are: neither gets work, and each has its own way back.
      if (record.state === 'good') return move('unknown', 'system', event.why);
      return { record };
    case 'health-check': {
      if (record.state === 'maintenance') refuse('record a health check (end maintenance first)');
      const checked = { lastCheck: { at: event.at, passed: event.passed }, jobsSinceCheck: 0 };
      const to: HostHealth = event.passed ? 'good' : 'bad';
      if (to === record.state) return { record: { ...record, ...checked } };
      return move(to, 'system', event.why, checked);
    }
    case 'job-done':
      return { record: { ...record, jobsSinceCheck: record.jobsSinceCheck + 1 } };
    case 'maintenance':
      if (record.state === 'maintenance') return { record };
      return move('maintenance', event.by, event.why);
    case 'recheck':
      return move('unknown', event.by, event.why);
    case 'retire':
      return move('retired', event.by, event.why);
  }
}

/** How often a `good` host is checked again anyway: every N hours or every N jobs, whichever comes first. */
export interface HealthCadence {
  everyHours?: number;
  everyJobs?: number;
}

/**
 * Whether the host must run a health check before its next job: always when `unknown`; when `good`, once
 * the cadence is due (counted from the last check, or from when it became good if it never had one).
 */
export function healthCheckDue(record: HostHealthRecord, now: string, cadence: HealthCadence = {}): boolean {
  if (record.state === 'unknown') return true;
  if (record.state !== 'good') return false;
  if (cadence.everyJobs !== undefined && record.jobsSinceCheck >= cadence.everyJobs) return true;
  if (cadence.everyHours !== undefined) {
    const since = Date.parse(record.lastCheck?.at ?? record.last.at);
    if (Date.parse(now) - since >= cadence.everyHours * 3_600_000) return true;
  }
  return false;
}

/** Placement's test: only a `good` host with no check due gets new work. */
export function acceptsWork(record: HostHealthRecord, now: string, cadence: HealthCadence = {}): boolean {
  return record.state === 'good' && !healthCheckDue(record, now, cadence);
}

/** One host a health sweep checks, and the golden it boots (none: the native smoke test). */
export interface SweepCheck {
  hostId: string;
  flavorId?: string;
}

/**
 * What a health sweep (the cadence) checks now: every probed host whose check is due — `unknown`
 * (after an infrastructure failure, or a `recheck`), or `good` past `everyHours`/`everyJobs` — booting
 * the first of its goldens that the catalog knows. Hosts in maintenance, retired or `bad` wait for an
 * operator; a host never probed is not judged (it has nothing to boot and no proven facts).
 */
export function hostsToCheck(
  entries: readonly { hostId: string; health: HostHealthRecord; facts?: { goldens: readonly string[] } | undefined }[],
  now: string,
  cadence: HealthCadence,
  knownFlavors: readonly string[],
): SweepCheck[] {
  return entries
    .filter((e) => e.facts !== undefined && healthCheckDue(e.health, now, cadence))
    .map((e) => {
      const flavorId = e.facts!.goldens.find((g) => knownFlavors.includes(g));
      return flavorId ? { hostId: e.hostId, flavorId } : { hostId: e.hostId };
    });
}
