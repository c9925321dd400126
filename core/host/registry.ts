import { z } from 'zod';
import { HostHealthRecordSchema, type HostHealthRecord } from './health.js';
import { capabilitiesOf, type HostProbeReport } from './probe-report.js';
import type { Flavor } from '../catalog/schema.js';
import { placeTarget, type PlacementHost, type PlacementRequirements } from '../dispatch/placement.js';

/**
 * One entry of the fleet's host registry: what the host's last probe proved and what its worker
 * declared (VM slots, tags, goldens present), plus its health. The registry is the results store's
 * `hosts` table; the probe reports in S3 are the evidence behind each entry, not a second registry.
 */
export const HostFactsSchema = z.strictObject({
  hostname: z.string().min(1),
  cpus: z.number().int().positive(),
  memoryBytes: z.number().int().positive(),
  kernel: z.string().min(1),
  os: z.string().min(1),
  imageDirFreeBytes: z.number().nonnegative(),
  /** VMs the host runs at once (`host.maxVms`). */
  vmSlots: z.number().int().min(0),
  /** Flavor ids with a ztest golden in the host's golden cache. */
  goldens: z.array(z.string().min(1)),
  /** From the host's config (`host.tags`): placement treats them like capabilities. */
  tags: z.array(z.string().min(1)),
  /** Which accelerator a clone gets there: `kvm` only where a guest kernel really booted under KVM. */
  accelerator: z.enum(['kvm', 'tcg']),
});
export type HostFacts = z.infer<typeof HostFactsSchema>;

export const HostEntrySchema = z.strictObject({
  hostId: z.string().min(1),
  capabilities: z.array(z.string().min(1)),
  facts: HostFactsSchema.optional(),
  probedAt: z.string().optional(),
  lastSeenAt: z.string(),
  health: HostHealthRecordSchema,
});
export type HostEntry = z.infer<typeof HostEntrySchema>;

/** What registering a probe writes: capabilities are the probe's proven ones plus the config's tags. */
export function registrationOf(report: HostProbeReport): { hostId: string; capabilities: string[]; facts: HostFacts; probedAt: string } {
  const s = report.sections;
  const worker = report.worker ?? { vmSlots: 0, tags: [], goldens: [] };
  const proven = capabilitiesOf(report);
  return {
    hostId: report.hostId,
    capabilities: [...new Set([...proven, ...worker.tags])].sort(),
    probedAt: report.probedAt,
    facts: {
      hostname: s.system.hostname,
      cpus: s.system.cpus,
      memoryBytes: s.system.memoryBytes,
      kernel: s.system.kernel,
      os: s.system.os,
      imageDirFreeBytes: s.disk.freeBytes,
      vmSlots: worker.vmSlots,
      goldens: [...worker.goldens].sort(),
      tags: [...worker.tags].sort(),
      accelerator: proven.includes('kvm') ? 'kvm' : 'tcg',
    },
  };
}

/** A registry entry as placement sees it; a host never probed has no slots and no goldens. */
export function placementHostOf(entry: HostEntry, busyVmSlots = 0): PlacementHost {
  return {
    hostId: entry.hostId,
    health: entry.health.state,
    capabilities: entry.capabilities,
    goldens: entry.facts?.goldens ?? [],
    vmSlots: entry.facts?.vmSlots ?? 0,
    busyVmSlots,
  };
}

export type { HostHealthRecord };

export interface RunnableTargets {
  /** Flavor ids the host can run, in the order given. */
  targets: string[];
  /** Flavors it cannot run (no golden and no means to build one, or a required capability missing), with why. */
  skipped: { flavorId: string; reason: string }[];
}

/**
 * `zfslab test all` on one host: the flavors it can run and those it cannot. Health is left out on
 * purpose: an `unknown` or `bad` host may be fit again by the time the run reaches it (health says
 * when a host gets work, not whether a flavor can ever run there); a retired host runs nothing.
 * A host never probed is not judged (its entry says nothing), so every flavor stays.
 */
export function runnableTargets(
  flavors: readonly Pick<Flavor, 'id' | 'builder'>[],
  entry: HostEntry | undefined,
  requirements: PlacementRequirements = {},
): RunnableTargets {
  if (!entry?.facts) return { targets: flavors.map((f) => f.id), skipped: [] };
  if (entry.health.state === 'retired') {
    return { targets: [], skipped: flavors.map((f) => ({ flavorId: f.id, reason: `host ${entry.hostId} is retired` })) };
  }
  const host = { ...placementHostOf(entry), health: 'good' as const };
  const out: RunnableTargets = { targets: [], skipped: [] };
  for (const flavor of flavors) {
    const placement = placeTarget(flavor, [host], requirements);
    if (placement.hosts.length > 0) out.targets.push(flavor.id);
    else out.skipped.push({ flavorId: flavor.id, reason: `${entry.hostId}: ${placement.rejected.flatMap((r) => r.reasons).join('; ')}` });
  }
  return out;
}

/**
 * The hosts that take over a run's chunks when its host is lost, best first: every other `good` host
 * of the registry that was probed and can run each flavor of the run (a golden there or the means to
 * build it, the required capabilities). `native` needs nothing but a host. Ordered as placement ranks
 * them (golden present, free slots, id).
 */
export function standbyHostsFor(
  flavors: readonly Pick<Flavor, 'id' | 'builder'>[],
  entries: readonly HostEntry[],
  placedHost: string,
  requirements: PlacementRequirements = {},
): string[] {
  const candidates = entries.filter((e) => e.hostId !== placedHost && e.health.state === 'good' && e.facts);
  if (flavors.length === 0) return candidates.map((e) => e.hostId).sort();
  const able = candidates.filter((e) => runnableTargets(flavors, e, requirements).skipped.length === 0);
  const ranked = placeTarget(flavors[0]!, able.map(placementHostOf), requirements);
  return ranked.hosts.map((h) => h.hostId);
}
