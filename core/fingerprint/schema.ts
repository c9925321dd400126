import { z } from 'zod';

/**
 * The workload fingerprint: a few KB of JSON that summarises everything kernel-visible a
 * workload did. Its first shape is kept (workload, captured_at, duration_s, syscalls, binaries_spawned,
 * ioctl_codes, kfunc_latency_p99_us, network_destinations, filesystem_paths_modified) and extended with
 * what a detector needs to be honest: which sections were really captured (`capture.sections`), how
 * many calls each latency figure rests on, and read-only path patterns.
 *
 * Bump FINGERPRINT_SCHEMA_VERSION on any change a reader of an older file would misread.
 */
export const FINGERPRINT_SCHEMA_VERSION = 1;

export const SECTION_NAMES = [
  'syscalls',
  'binaries_spawned',
  'ioctl_codes',
  'kfunc_latency_p99_us',
  'network_destinations',
  'filesystem_paths_modified',
  'filesystem_paths_read',
] as const;
export const SectionNameSchema = z.enum(SECTION_NAMES);
export type SectionName = z.infer<typeof SectionNameSchema>;

/** Where a section's data came from. */
export const CaptureSourceSchema = z.enum(['bpftrace', 'tetragon']);
export type CaptureSource = z.infer<typeof CaptureSourceSchema>;

/**
 * A section is either filled by one source or not captured, with the reason in words a person can act
 * on ("kprobes unavailable: /sys/kernel/tracing/kprobe_events missing"). A not-captured section is
 * empty in the fingerprint and is never compared by the detector.
 */
export const SectionCoverageSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('captured'), source: CaptureSourceSchema, note: z.string().optional() }),
  z.strictObject({ status: z.literal('not_captured'), reason: z.string().min(1) }),
]);
export type SectionCoverage = z.infer<typeof SectionCoverageSchema>;

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();

export const SyscallStatSchema = z.strictObject({ count, rate_per_s: rate });
export type SyscallStat = z.infer<typeof SyscallStatSchema>;

export const BinarySpawnSchema = z.strictObject({
  path: z.string().min(1),
  count: count.min(1),
  /** Binaries of the processes that exec'd it (the workload root has none inside the capture). */
  parents: z.array(z.string()),
});
export type BinarySpawn = z.infer<typeof BinarySpawnSchema>;

/** Keys are the ioctl request as lowercase hex, `0x5a00`. */
export const IoctlHexSchema = z.string().regex(/^0x[0-9a-f]+$/, 'an ioctl request as lowercase hex (0x5a00)');
export const IoctlStatSchema = z.strictObject({
  /** ZFS_IOC_* (from the table of `capture.zfs_ioctl_table`) or a generic Linux name; null when unknown. */
  name: z.string().nullable(),
  count,
  rate_per_s: rate,
});
export type IoctlStat = z.infer<typeof IoctlStatSchema>;

export const NetworkDestinationSchema = z.strictObject({
  family: z.enum(['inet', 'inet6', 'unix']),
  /** IPv4/IPv6 address, or the socket path for unix (abstract sockets start with `@`). */
  address: z.string(),
  port: z.number().int().min(0).max(65535),
  count: count.min(1),
});
export type NetworkDestination = z.infer<typeof NetworkDestinationSchema>;

export const CaptureInfoSchema = z.strictObject({
  backends: z.array(CaptureSourceSchema),
  sections: z.strictObject(Object.fromEntries(SECTION_NAMES.map((name) => [name, SectionCoverageSchema])) as Record<SectionName, typeof SectionCoverageSchema>),
  /** Events the kernel dropped before userspace read them (bpftrace "Lost N events"); counts are then lower bounds. */
  lost_events: count,
  /** Paths cut at the capture's string limit; their patterns end in `…*`. */
  truncated_paths: count,
  /** The ZFS ioctl numbering used to name codes, e.g. `openzfs-2.3`. */
  zfs_ioctl_table: z.string(),
  kernel: z.string().optional(),
  arch: z.string().optional(),
  stopped_by: z.enum(['exit', 'duration', 'signal', 'replay']),
  exit_code: z.number().int().nullable(),
});
export type CaptureInfo = z.infer<typeof CaptureInfoSchema>;

export const FingerprintSchema = z.strictObject({
  schema_version: z.literal(FINGERPRINT_SCHEMA_VERSION),
  workload: z.string().min(1),
  captured_at: z.iso.datetime({ offset: true }),
  duration_s: z.number().nonnegative(),
  capture: CaptureInfoSchema,
  /** By syscall name, most frequent first. */
  syscalls: z.record(z.string().min(1), SyscallStatSchema),
  /** Most spawned first. */
  binaries_spawned: z.array(BinarySpawnSchema),
  ioctl_codes: z.record(IoctlHexSchema, IoctlStatSchema),
  /** p99 of time spent in each kernel function, microseconds (system-wide: ZFS works in kernel threads). */
  kfunc_latency_p99_us: z.record(z.string().min(1), z.number().nonnegative()),
  /** Calls each p99 rests on; a p99 over a handful of calls is noise. */
  kfunc_calls: z.record(z.string().min(1), count),
  network_destinations: z.array(NetworkDestinationSchema),
  /** Glob patterns (`*` within a path component, `**` for a whole subtree) of paths written, created, renamed or removed. */
  filesystem_paths_modified: z.array(z.string().min(1)),
  /** Glob patterns of paths opened read-only. */
  filesystem_paths_read: z.array(z.string().min(1)),
});
export type Fingerprint = z.infer<typeof FingerprintSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/** Validates an untrusted value (a file's JSON) as a fingerprint; issues name the path and the problem. */
export function parseFingerprint(value: unknown): ParseResult<Fingerprint> {
  if (typeof value === 'object' && value !== null && 'schema_version' in value) {
    const version = (value as { schema_version: unknown }).schema_version;
    if (version !== FINGERPRINT_SCHEMA_VERSION) {
      return {
        ok: false,
        issues: [`schema_version: got ${JSON.stringify(version)}, this zfslab reads version ${FINGERPRINT_SCHEMA_VERSION}`],
      };
    }
  }
  const parsed = FingerprintSchema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

/** Lowercase hex as used for ioctl keys. */
export function ioctlHex(code: number): string {
  return '0x' + (code >>> 0).toString(16);
}
