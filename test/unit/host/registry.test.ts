import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../../core/host/probe-report.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { newHealthRecord } from '../../../core/host/health.js';
import { registrationOf, runnableTargets, type HostEntry } from '../../../core/host/registry.js';
import { probeReport } from '../../support/store/host-registry-suite.js';

describe('proven capabilities', () => {
  it('claims kvm only where a guest kernel booted under KVM', () => {
    // KVM initialised but no guest boot recorded (a report from before the boot check): not proven.
    expect(capabilitiesOf(probeReport('a', true))).not.toContain('kvm');
    // KVM initialised, the guest stopped before its root-fs panic (KVM internal error): not proven.
    expect(capabilitiesOf(probeReport('a', true, false))).not.toContain('kvm');
    expect(capabilitiesOf(probeReport('a', true, true))).toContain('kvm');
    expect(capabilitiesOf(probeReport('a', false))).toEqual(['qemu', 'debootstrap']);
  });

  it('registers tags beside proven capabilities and says which accelerator clones get', () => {
    const noKvm = registrationOf(probeReport('a', false));
    expect(noKvm.capabilities).toEqual(['debootstrap', 'internet', 'qemu']);
    expect(noKvm.facts.accelerator).toBe('tcg');
    expect(registrationOf(probeReport('a', true, true)).facts.accelerator).toBe('kvm');
  });
});

describe('runnableTargets (zfslab test all on one host)', () => {
  const catalog = loadCatalog([]);
  const entryOf = (report: ReturnType<typeof probeReport>, state: HostEntry['health']['state'] = 'unknown'): HostEntry => {
    const reg = registrationOf(report);
    return {
      hostId: reg.hostId,
      capabilities: reg.capabilities,
      facts: reg.facts,
      probedAt: reg.probedAt,
      lastSeenAt: reg.probedAt,
      health: { ...newHealthRecord(reg.hostId, reg.probedAt), state },
    };
  };

  it('skips the cloud-image flavors on a host without internet, naming why, and keeps every debootstrap flavor', () => {
    const report = probeReport('lab-a', false);
    const offline = entryOf({ ...report, worker: { ...report.worker!, tags: [] } });
    const { targets, skipped } = runnableTargets(catalog.flavors, offline);
    expect(targets).toEqual(['debian13', 'debian12', 'debian12-bpo', 'debian13-bpo', 'debian11', 'debian-sid']);
    expect(skipped.map((s) => s.flavorId)).toEqual(['debian13-cloud', 'ubuntu24', 'centos9', 'rocky9', 'fedora44']);
    expect(skipped[1]?.reason).toBe('lab-a: no ubuntu24 golden and cannot build one (lacks internet)');
  });

  it('skips everything a --require the host has not proven rules out, and runs nothing on a retired host', () => {
    const tcg = entryOf(probeReport('lab-a', false));
    const kvm = runnableTargets(catalog.flavors, tcg, { require: ['kvm'] });
    expect(kvm.targets).toEqual([]);
    expect(kvm.skipped[0]?.reason).toContain('lacks required kvm');
    expect(runnableTargets(catalog.flavors, entryOf(probeReport('lab-a', true, true)), { require: ['kvm'] }).targets).toContain('ubuntu24');
    expect(runnableTargets(catalog.flavors, entryOf(probeReport('lab-a', false), 'retired')).skipped[0]?.reason).toBe('host lab-a is retired');
  });

  it('judges no flavor on a host never probed', () => {
    expect(runnableTargets(catalog.flavors, undefined).targets).toHaveLength(catalog.flavors.length);
  });
});
