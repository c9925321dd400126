import { describe, expect, it } from 'vitest';
import { ioctlName, isZfsIoctl, parseGenericIoctls, parseZfsIocEnum, zfsIoctlCode, zfsIoctlVersionFor } from '../../../core/fingerprint/ioctl-names.js';
import { GENERIC_LINUX_IOCTLS, ZFS_IOCTL_TABLES } from '../../../core/fingerprint/ioctl-tables.js';
import { X86_64_SYSCALLS } from '../../../core/fingerprint/syscall-table-x86_64.js';
import { execSyscallNumbers, parseSyscallTbl, parseUnistdHeader, syscallName } from '../../../core/fingerprint/syscall-table.js';
import { fixture } from './fixtures.js';

const TAGS = { '2.1': 'zfs-2.1.16', '2.2': 'zfs-2.2.11', '2.3': 'zfs-2.3.9', '2.4': 'zfs-2.4.4' } as const;

describe('ZFS ioctl tables', () => {
  for (const [version, tag] of Object.entries(TAGS)) {
    it(`OpenZFS ${version} equals the zfs_ioc_t enum of ${tag}`, () => {
      const parsed = parseZfsIocEnum(fixture('openzfs', `zfs_ioc_t-${tag}.h`));
      expect(Object.fromEntries(parsed)).toEqual(
        Object.fromEntries(Object.entries(ZFS_IOCTL_TABLES[version as keyof typeof TAGS]).map(([k, v]) => [Number(k), v])),
      );
    });
  }

  it('numbers from 0x5a00 on Linux, as the header comments say', () => {
    expect(ioctlName(0x5a00, '2.3')).toBe('ZFS_IOC_POOL_CREATE');
    expect(ioctlName(0x5a01, '2.3')).toBe('ZFS_IOC_POOL_DESTROY');
    expect(ioctlName(0x5a07, '2.3')).toBe('ZFS_IOC_POOL_SCAN');
    expect(ioctlName(0x5a08, '2.3')).toBe('ZFS_IOC_POOL_FREEZE');
    expect(ioctlName(0x5a81, '2.3')).toBe('ZFS_IOC_EVENTS_NEXT');
    expect(ioctlName(0x5a88, '2.1')).toBe('ZFS_IOC_GET_BOOTENV');
  });

  it('tracks what each release added and keeps FreeBSD-only numbers out', () => {
    expect(ioctlName(0x5a57, '2.1')).toBeNull();
    expect(ioctlName(0x5a57, '2.2')).toBe('ZFS_IOC_POOL_SCRUB');
    expect(ioctlName(0x5a59, '2.2')).toBeNull();
    expect(ioctlName(0x5a59, '2.3')).toBe('ZFS_IOC_DDT_PRUNE');
    // 0x85 is ZFS_IOC_JAIL on FreeBSD; Linux (2.2+) aliases it as USERNS_ATTACH.
    expect(ioctlName(0x5a85, '2.1')).toBeNull();
    expect(ioctlName(0x5a85, '2.4')).toBe('ZFS_IOC_USERNS_ATTACH');
    expect(ioctlName(0x5a84, '2.4')).toBeNull();
    expect(zfsIoctlCode('ZFS_IOC_POOL_STATS', '2.3')).toBe(0x5a05);
    expect(isZfsIoctl(0x5a05)).toBe(true);
    expect(isZfsIoctl(0x5401)).toBe(false);
  });

  it('maps version strings to tables', () => {
    expect(zfsIoctlVersionFor('2.3.9-1')).toBe('2.3');
    expect(zfsIoctlVersionFor('zfs-2.2.4')).toBe('2.2');
    expect(zfsIoctlVersionFor('2.5.0')).toBeUndefined();
    expect(zfsIoctlVersionFor('garbage')).toBeUndefined();
  });

  it('names the terminal ioctls from asm-generic/ioctls.h', () => {
    expect(Object.fromEntries(parseGenericIoctls(fixture('linux', 'asm-generic-ioctls-linux-libc-dev-6.1.187.h')))).toEqual(
      Object.fromEntries(Object.entries(GENERIC_LINUX_IOCTLS).map(([k, v]) => [Number(k), v])),
    );
    expect(ioctlName(0x5401, '2.4')).toBe('TCGETS');
    expect(ioctlName(0x5413, '2.4')).toBe('TIOCGWINSZ');
    expect(ioctlName(0x1234, '2.4')).toBeNull();
  });
});

describe('x86_64 syscall table', () => {
  it('equals the Debian header plus the newer kernel table lines', () => {
    const header = parseUnistdHeader(fixture('linux', 'unistd_64-linux-libc-dev-6.1.187.h'));
    const tail = parseSyscallTbl(fixture('linux', 'syscall_64-6.19.9-tail.tbl'));
    const merged = new Map([...header, ...tail]);
    expect(Object.fromEntries(merged)).toEqual(Object.fromEntries(Object.entries(X86_64_SYSCALLS).map(([k, v]) => [Number(k), v])));
    expect(header.size).toBe(362);
  });

  it('names numbers, and says so when it cannot', () => {
    expect(syscallName('x86_64', 0)).toBe('read');
    expect(syscallName('x86_64', 16)).toBe('ioctl');
    expect(syscallName('x86_64', 24)).toBe('sched_yield');
    expect(syscallName('x86_64', 257)).toBe('openat');
    expect(syscallName('x86_64', 462)).toBe('mseal');
    expect(syscallName('x86_64', 999)).toBe('syscall_999');
    expect(execSyscallNumbers('x86_64').sort((a, b) => a - b)).toEqual([59, 322]);
  });
});
