import { GENERIC_LINUX_IOCTLS, ZFS_IOCTL_TABLES } from './ioctl-tables.js';

/**
 * ioctl request numbers → names. On Linux, libzfs passes the bare `zfs_ioc_t` value as the request
 * (ZFS_IOC_FIRST = 'Z' << 8 = 0x5a00, no _IOWR encoding), and the numbering grows between releases
 * (2.2 added VDEV_GET_PROPS … POOL_SCRUB, 2.3 POOL_PREFETCH and DDT_PRUNE), so names are looked up in
 * the table of the OpenZFS release under test. The tables are data derived from upstream headers.
 */
export const ZFS_IOCTL_VERSIONS = ['2.1', '2.2', '2.3', '2.4'] as const;
export type ZfsIoctlVersion = (typeof ZFS_IOCTL_VERSIONS)[number];
export const NEWEST_ZFS_IOCTL_VERSION: ZfsIoctlVersion = '2.4';

/** The table for an OpenZFS version string ("2.3.9", "zfs-2.2.4-1", "2.4"), or undefined when none fits. */
export function zfsIoctlVersionFor(version: string): ZfsIoctlVersion | undefined {
  const match = /(\d+)\.(\d+)/.exec(version);
  if (!match) return undefined;
  const key = `${match[1]}.${match[2]}`;
  return (ZFS_IOCTL_VERSIONS as readonly string[]).includes(key) ? (key as ZfsIoctlVersion) : undefined;
}

export function ioctlName(code: number, zfsVersion: ZfsIoctlVersion): string | null {
  return ZFS_IOCTL_TABLES[zfsVersion][code] ?? GENERIC_LINUX_IOCTLS[code] ?? null;
}

/** ZFS ioctl numbers live in 0x5a00–0x5aff on Linux. */
export function isZfsIoctl(code: number): boolean {
  return code >= 0x5a00 && code <= 0x5aff;
}

export function zfsIoctlCode(name: string, zfsVersion: ZfsIoctlVersion): number | undefined {
  for (const [code, entry] of Object.entries(ZFS_IOCTL_TABLES[zfsVersion])) if (entry === name) return Number(code);
  return undefined;
}

/**
 * Parses the `typedef enum zfs_ioc { … } zfs_ioc_t;` block of include/sys/fs/zfs.h for Linux:
 * `#ifdef __FreeBSD__` branches are skipped, implicit values count on from the previous entry, range
 * markers (ZFS_IOC_FIRST, ZFS_IOC, ZFS_IOC_PLATFORM, ZFS_IOC_LAST) are left out, and entries commented
 * `(FreeBSD)` are FreeBSD-only (their Linux aliases, e.g. ZFS_IOC_USERNS_ATTACH = ZFS_IOC_JAIL, are kept).
 */
export function parseZfsIocEnum(header: string): Map<number, string> {
  const start = header.indexOf('typedef enum zfs_ioc {');
  const end = header.indexOf('} zfs_ioc_t;', start);
  if (start < 0 || end < 0) throw new Error('no zfs_ioc_t enum in the text');
  const body = header.slice(start + 'typedef enum zfs_ioc {'.length, end).replace(/\/\*(?![^*]*\((?:Linux|FreeBSD)\))[\s\S]*?\*\//g, '');
  const values = new Map<string, number>();
  const table = new Map<number, string>();
  const markers = new Set(['ZFS_IOC_FIRST', 'ZFS_IOC', 'ZFS_IOC_PLATFORM', 'ZFS_IOC_LAST']);
  const skip: boolean[] = [];
  let next = 0;
  for (const rawLine of body.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('#ifdef')) {
      skip.push(/__FreeBSD__/.test(line));
      continue;
    }
    if (line.startsWith('#ifndef')) {
      skip.push(!/__FreeBSD__/.test(line));
      continue;
    }
    if (line.startsWith('#else')) {
      skip.push(!skip.pop());
      continue;
    }
    if (line.startsWith('#endif')) {
      skip.pop();
      continue;
    }
    if (skip.some(Boolean)) continue;
    const entry = /^(ZFS_IOC\w*)\s*(?:=\s*([^,/]+?))?\s*,?\s*(?:\/\*(.*)\*\/)?$/.exec(line);
    if (!entry) continue;
    const name = entry[1] as string;
    const value = entry[2] === undefined ? next : evaluateEnumExpression(entry[2], values);
    values.set(name, value);
    next = value + 1;
    if (markers.has(name)) continue;
    if (/\(FreeBSD\)/.test(entry[3] ?? '')) continue;
    table.set(value, name);
  }
  return table;
}

/** The expressions zfs.h uses: ('Z' << 8), hex/decimal numbers, earlier names, `+`. */
function evaluateEnumExpression(expression: string, values: ReadonlyMap<string, number>): number {
  const tokens = expression.match(/'.'|0x[0-9a-fA-F]+|\d+|\w+|<<|\+|\(|\)/g) ?? [];
  let position = 0;
  const primary = (): number => {
    const token = tokens[position++];
    if (token === undefined) throw new Error(`incomplete expression: ${expression}`);
    if (token === '(') {
      const value = shift();
      position++; // ')'
      return value;
    }
    if (token.startsWith("'")) return token.charCodeAt(1);
    if (/^0x/i.test(token)) return parseInt(token, 16);
    if (/^\d+$/.test(token)) return Number(token);
    const known = values.get(token);
    if (known === undefined) throw new Error(`unknown name ${token} in ${expression}`);
    return known;
  };
  const sum = (): number => {
    let value = primary();
    while (tokens[position] === '+') {
      position++;
      value += primary();
    }
    return value;
  };
  const shift = (): number => {
    let value = sum();
    while (tokens[position] === '<<') {
      position++;
      value <<= sum();
    }
    return value;
  };
  return shift();
}

/**
 * Parses `#define NAME 0x54NN` lines of asm-generic/ioctls.h: the terminal/file requests ('T' << 8)
 * every shell issues. _IOR-style macros and flag values (TIOCPKT_*, TIOCSER_TEMT) are left out.
 */
export function parseGenericIoctls(header: string): Map<number, string> {
  const table = new Map<number, string>();
  for (const match of header.matchAll(/^#define\s+([A-Z][A-Z0-9_]+)\s+(0x[0-9A-Fa-f]+)\b/gm)) {
    const code = parseInt(match[2] as string, 16);
    if (code >> 8 !== 0x54) continue;
    if (!table.has(code)) table.set(code, match[1] as string);
  }
  return table;
}
