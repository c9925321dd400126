import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../../core/host/probe-report.js';
import { registrationOf } from '../../../core/host/registry.js';
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
