import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../core/catalog/index.js';
import { expandAll, fleetSlots, placeTarget } from '../../../core/dispatch/placement.js';
import type { PlacementHost } from '../../../core/dispatch/placement.js';

const catalog = loadCatalog();
const flavor = (id: string) => {
  const found = catalog.flavors.find((f) => f.id === id);
  if (!found) throw new Error(`no flavor ${id} in the shipped catalog`);
  return found;
};

// This lab machine as its probe sees it: qemu and debootstrap, no usable KVM, no internet; one golden.
const lab: PlacementHost = { hostId: 'lab', health: 'good', capabilities: ['qemu', 'debootstrap', 'zfs-storage'], goldens: ['debian13'], vmSlots: 2 };
const kvmBox: PlacementHost = {
  hostId: 'kvm1',
  health: 'good',
  capabilities: ['qemu', 'kvm', 'debootstrap', 'internet'],
  goldens: [],
  vmSlots: 4,
  busyVmSlots: 1,
};

describe('placeTarget', () => {
  it('takes a host with the golden before one that must build it, and names why the others cannot', () => {
    const broken: PlacementHost = { ...kvmBox, hostId: 'kvm2', health: 'bad' };
    const placement = placeTarget(flavor('debian13'), [kvmBox, lab, broken]);
    expect(placement.hosts).toEqual([
      { hostId: 'lab', via: 'golden', freeSlots: 2 },
      { hostId: 'kvm1', via: 'build', freeSlots: 3 },
    ]);
    expect(placement.rejected).toEqual([{ hostId: 'kvm2', reasons: ['health is bad'] }]);
  });

  it('--require kvm leaves out a host whose probe did not prove KVM', () => {
    const placement = placeTarget(flavor('debian13'), [lab, kvmBox], { require: ['kvm'] });
    expect(placement.hosts.map((h) => h.hostId)).toEqual(['kvm1']);
    expect(placement.rejected).toEqual([{ hostId: 'lab', reasons: ['lacks required kvm'] }]);
  });

  it('a cloud-image flavor needs a golden or internet; a host in maintenance or without VM slots gets nothing', () => {
    const placement = placeTarget(flavor('ubuntu24'), [lab, { ...kvmBox, health: 'maintenance' }, { ...kvmBox, hostId: 'novm', vmSlots: 0 }]);
    expect(placement.hosts).toEqual([]);
    expect(placement.rejected).toEqual([
      { hostId: 'lab', reasons: ['no ubuntu24 golden and cannot build one (lacks internet)'] },
      { hostId: 'kvm1', reasons: ['health is maintenance'] },
      { hostId: 'novm', reasons: ['runs no VMs (host.maxVms is 0)'] },
    ]);
  });
});

describe('expandAll', () => {
  it('on a machine without internet: the debootstrap flavors run, the cloud images are skipped by name, nothing fails', () => {
    const expanded = expandAll(catalog.flavors, [lab]);
    expect(expanded.placements.map((p) => p.flavorId)).toEqual(catalog.flavors.filter((f) => f.builder.kind === 'debootstrap').map((f) => f.id));
    const cloud = catalog.flavors.filter((f) => f.builder.kind === 'cloud-image').map((f) => f.id);
    expect(cloud.length).toBeGreaterThan(0);
    expect(expanded.skipped.map((s) => s.flavorId)).toEqual(cloud);
    for (const skipped of expanded.skipped) expect(skipped.reason).toBe(`lab: no ${skipped.flavorId} golden and cannot build one (lacks internet)`);
  });

  it('a fleet where one host has internet runs every flavor', () => {
    expect(expandAll(catalog.flavors, [lab, kvmBox]).skipped).toEqual([]);
  });
});

describe('fleetSlots', () => {
  it('every free VM slot of the chosen hosts, each allowed the flavors placed on its host', () => {
    const expanded = expandAll([flavor('debian13'), flavor('ubuntu24')], [lab, kvmBox]);
    expect(fleetSlots(expanded.placements)).toEqual([
      { slotId: 'kvm1/1', hostId: 'kvm1', targets: ['debian13', 'ubuntu24'] },
      { slotId: 'kvm1/2', hostId: 'kvm1', targets: ['debian13', 'ubuntu24'] },
      { slotId: 'kvm1/3', hostId: 'kvm1', targets: ['debian13', 'ubuntu24'] },
      { slotId: 'lab/1', hostId: 'lab', targets: ['debian13'] },
      { slotId: 'lab/2', hostId: 'lab', targets: ['debian13'] },
    ]);
  });
});
