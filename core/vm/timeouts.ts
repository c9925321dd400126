/**
 * How long the VM layer waits for a guest, and why.
 *
 * Under TCG (software emulation, used wherever KVM cannot run the guest) every guest instruction is
 * translated, so a boot that takes well under a minute under KVM takes minutes, and its time grows
 * with whatever else shares the host's cores: other guests (up to `host.maxVms`), golden builds,
 * the workers themselves. A bound must hold on a small, busy host, yet still catch a guest that
 * will never answer within one activity attempt. The figures measured so far, idle and loaded, are
 * in docs/vm-timings.md; `host.bootTimeoutSeconds` overrides the boot bound per host.
 */
import type { Accelerator } from './qemu-argv.js';

/** From qemu start to the guest's SSH answering. */
export const BOOT_TIMEOUT_SECONDS: Readonly<Record<Accelerator, number>> = { kvm: 180, tcg: 600 };

/**
 * bpftrace compiling and attaching its probes inside a guest before the ZTS starts: an LLVM
 * compile, as slow under TCG as a boot. The runner starts without the capture when it expires.
 */
export const GUEST_TRACER_ATTACH_TIMEOUT_SECONDS = 600;

/** The boot bound for a clone: the host's configured one, else the accelerator's. */
export function bootTimeoutMs(accel: Accelerator, configuredMs?: number): number {
  return configuredMs ?? BOOT_TIMEOUT_SECONDS[accel] * 1000;
}
