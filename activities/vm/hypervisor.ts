import { join } from 'node:path';
import type { Accelerator, QemuSpec } from '../../core/vm/qemu-argv.js';
import type { Logger } from '../../lib/log.js';
import { probeAccelerator } from './accel-probe.js';
import type { GoldenRef } from './golden-ref.js';
import { QemuHypervisor } from './qemu-hypervisor.js';

/** A started VM, as data: enough to find and stop it again from another activity or after a crash. */
export interface VmHandle {
  name: string;
  pid: number;
  qmpSocketPath: string;
  pidFilePath: string;
  serialLogPath: string;
  sshHostPort: number;
  accel: Accelerator;
}

/** What a VM is started from: disks, kernel, size and where its control files go (the accelerator is the hypervisor's). */
export type VmStartSpec = Omit<QemuSpec, 'accel' | 'daemonize' | 'qemuBinary'>;

export type VmRef = Pick<VmHandle, 'pidFilePath' | 'qmpSocketPath'>;

/**
 * Everything zfslab does to a VM, behind one small interface so that a host-specific backend can
 * stand in for qemu. Start is detached (a VM outlives a crashed worker until swept); every stop is
 * idempotent; the saved state is the running machine's memory and device state, which a later
 * start with `incomingStateFile` resumes instead of booting.
 */
export interface Hypervisor {
  readonly kind: 'qemu';
  readonly accel: Accelerator;
  /** With `incomingStateFile`: resolves once the saved machine runs again; a state that does not load throws. */
  start(spec: VmStartSpec): Promise<VmHandle>;
  isRunning(vm: Pick<VmHandle, 'pidFilePath'>): boolean;
  /** Asks the guest to power off; kills it after `graceMs`. */
  shutdown(vm: VmRef, graceMs?: number): Promise<'clean' | 'killed' | 'gone'>;
  /** Ends the VM now. */
  kill(vm: VmRef): Promise<void>;
  /** The guest's serial console so far ('' before it wrote anything). */
  serialLog(vm: Pick<VmHandle, 'serialLogPath'>): string;
  /** One machine-protocol command (QMP for qemu), its `return` value. */
  command(vm: VmRef, name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  /** Pauses the VM and writes its whole state to `file`; the VM stays paused (kill it, or `cont`). */
  saveState(vm: VmRef, file: string, timeoutMs?: number): Promise<{ bytes: number; seconds: number }>;
}

/** The hypervisor for a kernel: KVM where a guest really boots under it here, else TCG (the probe is cached). */
export async function hypervisorForKernel(kernelPath: string | undefined, options: { probeCacheFile: string; log: Logger }): Promise<Hypervisor> {
  if (!kernelPath) return new QemuHypervisor({ accel: 'tcg', log: options.log });
  const probe = await probeAccelerator({ kernelPath, cacheFile: options.probeCacheFile, log: options.log });
  return new QemuHypervisor({ accel: probe.chosen, log: options.log });
}

/** One hypervisor per golden kernel, probed once per process: what the VM activities and the ZTS target provider share. */
export function hypervisorResolver(cacheDir: string, log: Logger): (golden: GoldenRef) => Promise<Hypervisor> {
  const byKernel = new Map<string, Promise<Hypervisor>>();
  return (golden) => {
    const kernel = golden.boot.kernel ? join(golden.dir, golden.boot.kernel) : '';
    let hypervisor = byKernel.get(kernel);
    if (!hypervisor) {
      hypervisor = hypervisorForKernel(kernel || undefined, { probeCacheFile: join(cacheDir, 'accel-probe.json'), log });
      byKernel.set(kernel, hypervisor);
    }
    return hypervisor;
  };
}
