/**
 * The qemu command line for one clone, as a pure function of its spec (unit-tested argv).
 *
 * TCG: `-accel tcg,thread=multi -cpu max` is what booted the goldens' kernels reliably (a debian13
 * and a debian12 golden, built and booted by hand first); KVM: `-accel kvm -cpu host`.
 */
import { shellQuote } from '../text/shell-quote.js';

export type Accelerator = 'kvm' | 'tcg';

export interface QemuDisk {
  path: string;
  format: 'qcow2' | 'raw';
  /** The throwaway clone and vdevs need no flush guarantees; cache=unsafe saves emulated I/O time. */
  cache?: 'unsafe' | 'none' | 'writeback';
  readOnly?: boolean;
}

export interface QemuSpec {
  /** Label seen in `ps` and by QMP: zfslab-<cloneId>. */
  name: string;
  accel: Accelerator;
  cpus: number;
  memoryMiB: number;
  /** The first disk is the root disk (/dev/vda); the rest appear as vdb, vdc, … */
  disks: readonly QemuDisk[];
  /** Direct kernel boot; absent for images that boot their own bootloader. */
  kernel?: { path: string; initrd?: string; append: string };
  /** Host port (on 127.0.0.1) forwarded to the guest's port 22. */
  sshHostPort: number;
  serialLogPath: string;
  qmpSocketPath: string;
  pidFilePath: string;
  /** Detach from the starting process (the clone outlives a crashed worker until swept). */
  daemonize: boolean;
  /** Resume the machine saved in this file (qemu's migration stream) instead of booting it. */
  incomingStateFile?: string;
  qemuBinary?: string;
}

/** qemu's option syntax doubles a comma inside a value. */
export function escapeQemuValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/**
 * Bumped whenever buildQemuArgv changes the machine's device set: a saved machine state only loads
 * into the same devices, so this is part of every saved state's key.
 */
export const QEMU_DEVICE_MODEL_VERSION = 1;

export function buildQemuArgv(spec: QemuSpec): string[] {
  if (spec.disks.length === 0) throw new Error('a VM needs a root disk');
  const argv = [
    spec.qemuBinary ?? 'qemu-system-x86_64',
    '-name',
    `guest=${escapeQemuValue(spec.name)},process=${escapeQemuValue(spec.name)}`,
    '-machine',
    'q35',
    ...(spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-smp',
    String(spec.cpus),
    '-m',
    String(spec.memoryMiB),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    // A guest panic (kernel panic=-1) or reboot ends qemu instead of looping.
    '-no-reboot',
    '-serial',
    `file:${spec.serialLogPath}`,
    '-qmp',
    `unix:${escapeQemuValue(spec.qmpSocketPath)},server=on,wait=off`,
    '-pidfile',
    spec.pidFilePath,
    '-device',
    'virtio-rng-pci',
    // A new generation id on every start, restores included: the guest kernel reseeds its RNG when
    // it changes, so two clones restored from one saved state do not share random numbers.
    '-device',
    'vmgenid,guid=auto',
    '-netdev',
    `user,id=net0,hostfwd=tcp:127.0.0.1:${spec.sshHostPort}-:22`,
    '-device',
    'virtio-net-pci,netdev=net0',
  ];
  for (const disk of spec.disks) {
    const options = [
      `file=${escapeQemuValue(disk.path)}`,
      'if=virtio',
      `format=${disk.format}`,
      `cache=${disk.cache ?? 'unsafe'}`,
      'discard=unmap',
      ...(disk.readOnly ? ['readonly=on'] : []),
    ];
    argv.push('-drive', options.join(','));
  }
  if (spec.kernel) {
    argv.push('-kernel', spec.kernel.path);
    if (spec.kernel.initrd) argv.push('-initrd', spec.kernel.initrd);
    argv.push('-append', spec.kernel.append);
  }
  if (spec.incomingStateFile !== undefined) argv.push('-incoming', `exec:cat ${shellQuote(spec.incomingStateFile)}`);
  if (spec.daemonize) argv.push('-daemonize');
  return argv;
}

/** Guest device names of the extra disks (vdb, vdc, …), i.e. zfs-tests.sh's DISKS. */
export function guestDiskNames(extraDiskCount: number): string[] {
  return Array.from({ length: extraDiskCount }, (_, i) => `vd${String.fromCharCode('b'.charCodeAt(0) + i)}`);
}

/** Serial-console lines that mean the guest kernel died: an infrastructure failure, not a test result. */
export const GUEST_CRASH_PATTERN = /Kernel panic - not syncing|\bOops[:\s]|BUG: unable to handle|general protection fault/;

export function findGuestCrash(serialText: string): string | undefined {
  const line = serialText.split('\n').find((l) => GUEST_CRASH_PATTERN.test(l));
  return line?.trim();
}
