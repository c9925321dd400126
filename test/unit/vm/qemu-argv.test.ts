import { describe, expect, it } from 'vitest';
import { buildQemuArgv, escapeQemuValue, findGuestCrash, guestDiskNames, type QemuSpec } from '../../../core/vm/qemu-argv.js';

const spec: QemuSpec = {
  name: 'zfslab-c-0123456789',
  accel: 'tcg',
  cpus: 2,
  memoryMiB: 4096,
  disks: [
    { path: '/var/lib/zfslab/clones/c-0123456789/disk.qcow2', format: 'qcow2' },
    { path: '/var/lib/zfslab/clones/c-0123456789/vdev0.raw', format: 'raw' },
  ],
  kernel: { path: '/g/vmlinuz', initrd: '/g/initrd.img', append: 'root=/dev/vda rw console=ttyS0' },
  sshHostPort: 40022,
  serialLogPath: '/c/serial.log',
  qmpSocketPath: '/c/qmp.sock',
  pidFilePath: '/c/qemu.pid',
  daemonize: true,
};

function optionAfter(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

describe('buildQemuArgv', () => {
  it('uses multi-threaded TCG with -cpu max when there is no KVM', () => {
    const argv = buildQemuArgv(spec);
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(optionAfter(argv, '-accel')).toEqual(['tcg,thread=multi']);
    expect(optionAfter(argv, '-cpu')).toEqual(['max']);
  });

  it('uses KVM with the host CPU when KVM works', () => {
    const argv = buildQemuArgv({ ...spec, accel: 'kvm' });
    expect(optionAfter(argv, '-accel')).toEqual(['kvm']);
    expect(optionAfter(argv, '-cpu')).toEqual(['host']);
  });

  it('takes CPU and RAM from the spec and labels the VM', () => {
    const argv = buildQemuArgv(spec);
    expect(optionAfter(argv, '-smp')).toEqual(['2']);
    expect(optionAfter(argv, '-m')).toEqual(['4096']);
    expect(optionAfter(argv, '-name')).toEqual(['guest=zfslab-c-0123456789,process=zfslab-c-0123456789']);
    expect(optionAfter(argv, '-pidfile')).toEqual(['/c/qemu.pid']);
  });

  it('sends the serial console to a file, QMP to a unix socket, SSH to a loopback port', () => {
    const argv = buildQemuArgv(spec);
    expect(optionAfter(argv, '-serial')).toEqual(['file:/c/serial.log']);
    expect(optionAfter(argv, '-qmp')).toEqual(['unix:/c/qmp.sock,server=on,wait=off']);
    expect(optionAfter(argv, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22']);
    expect(argv).toContain('-no-reboot');
    expect(argv.at(-1)).toBe('-daemonize');
  });

  it('attaches the root disk first, then the vdevs, as virtio', () => {
    const drives = optionAfter(buildQemuArgv(spec), '-drive');
    expect(drives).toEqual([
      'file=/var/lib/zfslab/clones/c-0123456789/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap',
      'file=/var/lib/zfslab/clones/c-0123456789/vdev0.raw,if=virtio,format=raw,cache=unsafe,discard=unmap',
    ]);
  });

  it('boots the golden kernel directly when it has one, and not otherwise', () => {
    const argv = buildQemuArgv(spec);
    expect(optionAfter(argv, '-kernel')).toEqual(['/g/vmlinuz']);
    expect(optionAfter(argv, '-initrd')).toEqual(['/g/initrd.img']);
    expect(optionAfter(argv, '-append')).toEqual(['root=/dev/vda rw console=ttyS0']);
    const noKernel = buildQemuArgv({ ...spec, kernel: undefined, daemonize: false });
    expect(noKernel).not.toContain('-kernel');
    expect(noKernel).not.toContain('-daemonize');
  });

  it('resumes a saved machine through -incoming only when asked, the file quoted for the shell qemu runs it in', () => {
    expect(buildQemuArgv(spec)).not.toContain('-incoming');
    const argv = buildQemuArgv({ ...spec, incomingStateFile: "/var/cache/golden's state" });
    expect(argv[argv.indexOf('-incoming') + 1]).toBe(`exec:cat '/var/cache/golden'\\''s state'`);
  });

  it('doubles commas inside option values', () => {
    expect(escapeQemuValue('/a,b/disk')).toBe('/a,,b/disk');
    const drives = optionAfter(buildQemuArgv({ ...spec, disks: [{ path: '/x,y.qcow2', format: 'qcow2' }] }), '-drive');
    expect(drives[0]).toMatch(/^file=\/x,,y\.qcow2,if=virtio/);
  });

  it('refuses a VM without a root disk', () => {
    expect(() => buildQemuArgv({ ...spec, disks: [] })).toThrow(/root disk/);
  });
});

describe('guest disks and crashes', () => {
  it('names the extra disks as the guest sees them', () => {
    expect(guestDiskNames(3)).toEqual(['vdb', 'vdc', 'vdd']);
    expect(guestDiskNames(0)).toEqual([]);
  });

  it('finds a panic or Oops on the serial console (the MTTCG boot race of the manual proof)', () => {
    const oops = '[    0.912345] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[    0.912400] RIP: 0010:sched_clock_cpu+0x10/0x1c0';
    expect(findGuestCrash(`[    0.1] Linux version 6.12\n${oops}`)).toBe('[    0.912345] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI');
    expect(findGuestCrash('[ 4.8] Kernel panic - not syncing: VFS: Unable to mount root fs')).toMatch(/Kernel panic/);
    expect(findGuestCrash('[ 1.0] systemd[1]: Started ssh.service\n[ 2.0] zfs: module loaded, no Oopses here')).toBeUndefined();
  });
});
