import { z } from 'zod';
import type { Flavor } from '../catalog/schema.js';
import { HostHealthSchema } from '../host/health.js';

/**
 * Which hosts of a fleet can run a target, and over how many VM slots. Pure: the hosts come from the
 * host registry (what each probe proved, which goldens it holds, its health), the flavors from the
 * catalog; nothing here looks at a machine.
 */

export const PlacementHostSchema = z.strictObject({
  hostId: z.string().min(1),
  /** Only a `good` host gets new work (core/host/health.ts; `acceptsWork` also holds back a host due a check). */
  health: HostHealthSchema,
  /** What the host's probe proved (`kvm`, `qemu`, `debootstrap`, `internet`, …) plus tags from its config. */
  capabilities: z.array(z.string().min(1)),
  /** Flavor ids with a golden present on the host (ztest lineage). */
  goldens: z.array(z.string().min(1)),
  /** VMs the host runs at once (`host.maxVms`). */
  vmSlots: z.number().int().min(0),
  /** VMs it runs now for other work. */
  busyVmSlots: z.number().int().min(0).default(0),
});
export type PlacementHost = z.input<typeof PlacementHostSchema>;

/** What a target asks of a host besides its golden: capabilities such as `kvm` (`--require kvm`). */
export interface PlacementRequirements {
  require?: readonly string[];
}

export type PlacedVia = 'golden' | 'build';

export interface HostChoice {
  hostId: string;
  /** The golden is there, or the host can build it first. */
  via: PlacedVia;
  freeSlots: number;
}

export interface HostRejection {
  hostId: string;
  reasons: string[];
}

export interface TargetPlacement {
  flavorId: string;
  hosts: HostChoice[];
  rejected: HostRejection[];
}

/**
 * What building a golden of this flavor needs on a host: debootstrap from a Debian mirror, or the
 * distro's published cloud image downloaded from the internet (a `file:` image needs neither).
 */
export function buildNeeds(flavor: Pick<Flavor, 'builder'>): string[] {
  const builder = flavor.builder;
  if (builder.kind === 'debootstrap') return ['qemu', 'debootstrap'];
  return builder.imageUrl.startsWith('file:') ? ['qemu'] : ['qemu', 'internet'];
}

/**
 * The hosts that can run `flavor`, best first (a golden present before one to build, then the most
 * free slots, then host id), and why each other host cannot. A host with no free slot now still
 * qualifies: its slots free up as its work ends, and dynamic dispatch hands it groups then.
 */
export function placeTarget(
  flavor: Pick<Flavor, 'id' | 'builder'>,
  hosts: readonly PlacementHost[],
  requirements: PlacementRequirements = {},
): TargetPlacement {
  const required = [...new Set(requirements.require ?? [])];
  const chosen: HostChoice[] = [];
  const rejected: HostRejection[] = [];
  for (const raw of hosts) {
    const host = PlacementHostSchema.parse(raw);
    const caps = new Set(host.capabilities);
    const reasons: string[] = [];
    if (host.health !== 'good') reasons.push(`health is ${host.health}`);
    const missing = required.filter((cap) => !caps.has(cap));
    if (missing.length > 0) reasons.push(`lacks required ${missing.join(', ')}`);
    if (host.vmSlots === 0) reasons.push('runs no VMs (host.maxVms is 0)');
    const hasGolden = host.goldens.includes(flavor.id);
    const buildMissing = buildNeeds(flavor).filter((cap) => !caps.has(cap));
    if (!hasGolden && buildMissing.length > 0) reasons.push(`no ${flavor.id} golden and cannot build one (lacks ${buildMissing.join(', ')})`);
    if (reasons.length > 0) rejected.push({ hostId: host.hostId, reasons });
    else chosen.push({ hostId: host.hostId, via: hasGolden ? 'golden' : 'build', freeSlots: Math.max(0, host.vmSlots - host.busyVmSlots) });
  }
  chosen.sort((a, b) => rank(a.via) - rank(b.via) || b.freeSlots - a.freeSlots || compare(a.hostId, b.hostId));
  return { flavorId: flavor.id, hosts: chosen, rejected };
}

export interface SkippedFlavor {
  flavorId: string;
  /** One line for the run's output and record. */
  reason: string;
}

export interface ExpandedTargets {
  /** Flavors some host can run, in catalog order. */
  placements: TargetPlacement[];
  /** Flavors no host can run: named, never an error for the run. */
  skipped: SkippedFlavor[];
}

/**
 * `zfslab test all`: every catalog flavor that some host of the fleet can run; the others are skipped
 * with the reason, so five cloud-image flavors on a machine without internet do not fail the run.
 */
export function expandAll(
  flavors: readonly Pick<Flavor, 'id' | 'builder'>[],
  hosts: readonly PlacementHost[],
  requirements: PlacementRequirements = {},
): ExpandedTargets {
  const placements: TargetPlacement[] = [];
  const skipped: SkippedFlavor[] = [];
  for (const flavor of flavors) {
    const placement = placeTarget(flavor, hosts, requirements);
    if (placement.hosts.length > 0) placements.push(placement);
    else skipped.push({ flavorId: flavor.id, reason: skipReason(placement) });
  }
  return { placements, skipped };
}

function skipReason(placement: TargetPlacement): string {
  if (placement.rejected.length === 0) return 'no host in the fleet';
  return placement.rejected.map((r) => `${r.hostId}: ${r.reasons.join('; ')}`).join(' | ');
}

/** One VM slot of the fleet, as the dispatcher sees it (see ./dispatcher.ts). */
export interface FleetSlot {
  slotId: string;
  hostId: string;
  /** Flavor ids this slot may run (those placed on its host). */
  targets: string[];
}

/**
 * Every free VM slot of the hosts the placements chose, each allowed the flavors placed on its
 * host: the dispatcher hands a freed slot the longest group of any of them.
 */
export function fleetSlots(placements: readonly TargetPlacement[]): FleetSlot[] {
  const byHost = new Map<string, { freeSlots: number; targets: string[] }>();
  for (const placement of placements) {
    for (const choice of placement.hosts) {
      const entry = byHost.get(choice.hostId) ?? { freeSlots: choice.freeSlots, targets: [] };
      entry.targets.push(placement.flavorId);
      byHost.set(choice.hostId, entry);
    }
  }
  const slots: FleetSlot[] = [];
  for (const hostId of [...byHost.keys()].sort(compare)) {
    const entry = byHost.get(hostId)!;
    for (let i = 1; i <= entry.freeSlots; i++) slots.push({ slotId: `${hostId}/${i}`, hostId, targets: [...entry.targets] });
  }
  return slots;
}

function rank(via: PlacedVia): number {
  return via === 'golden' ? 0 : 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
