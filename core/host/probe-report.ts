import { z } from 'zod';

/**
 * What `zfslab host probe` learns about a lab host. Each section says whether it could be read and,
 * when not, why: a missing tool is a fact to report, never a reason to fail the probe. Sections are
 * collected one by one and checkpointed by activity heartbeat; `attempt` records which activity
 * attempt collected each one (a retried probe keeps what the crashed attempt already had).
 */
const Section = z.object({ attempt: z.number().int().min(1), collectedAt: z.string() });
const ToolVersion = z.object({ present: z.boolean(), version: z.string().optional(), path: z.string().optional() });

export const ProbeSectionsSchema = z.object({
  system: Section.extend({
    hostname: z.string(),
    kernel: z.string(),
    os: z.string(),
    arch: z.string(),
    cpus: z.number().int().positive(),
    cpuModel: z.string(),
    memoryBytes: z.number().int().positive(),
  }),
  disk: Section.extend({ imageDir: z.string(), freeBytes: z.number().nonnegative(), totalBytes: z.number().nonnegative() }),
  kvm: Section.extend({
    devicePresent: z.boolean(),
    /**
     * A guest kernel really booted under KVM (`guestBoot`). Reports older than that check said true
     * as soon as qemu brought the KVM accelerator up, which is not enough: on some hosts the guest
     * then stops at its first instructions ("KVM internal error. Suberror: 1").
     */
    usable: z.boolean(),
    reason: z.string().optional(),
    /** The boot that proved (or disproved) KVM: a guest kernel with no root disk must reach its root-fs panic. */
    guestBoot: z.object({ kernel: z.string(), booted: z.boolean(), seconds: z.number().nonnegative(), detail: z.string() }).optional(),
  }),
  qemu: Section.extend({ system: ToolVersion, img: ToolVersion }),
  zfs: Section.extend({
    zfs: ToolVersion,
    zpool: ToolVersion,
    /** /sys/module/zfs/version: the loaded kernel module, when there is one. */
    kmodVersion: z.string().optional(),
  }),
  tools: Section.extend({ debootstrap: ToolVersion, bpftrace: ToolVersion }),
  tracing: Section.extend({
    tracefsMounted: z.boolean(),
    tracepoints: z.object({ works: z.boolean(), detail: z.string() }),
    kprobes: z.object({ works: z.boolean(), detail: z.string() }),
  }),
  /** Sequential write throughput under the image dir (clones and goldens live there), fdatasync'd. */
  diskSpeed: Section.extend({
    measured: z.boolean(),
    seconds: z.number().nonnegative(),
    bytesWritten: z.number().int().nonnegative(),
    writeMiBPerSecond: z.number().nonnegative(),
  }),
});
export type ProbeSections = z.infer<typeof ProbeSectionsSchema>;
export type ProbeSectionName = keyof ProbeSections;
export const PROBE_SECTION_NAMES = Object.keys(ProbeSectionsSchema.shape) as ProbeSectionName[];

export const HostProbeReportSchema = z.object({
  schema: z.literal('zfslab.host-probe/v1'),
  hostId: z.string(),
  probedAt: z.string(),
  sections: ProbeSectionsSchema,
  /** What the host's worker declares beside what it measured: VM slots, config tags, goldens present. */
  worker: z
    .object({
      vmSlots: z.number().int().min(0),
      tags: z.array(z.string().min(1)),
      goldens: z.array(z.string().min(1)),
    })
    .optional(),
});
export type HostProbeReport = z.infer<typeof HostProbeReportSchema>;

/**
 * The capabilities a host advertises to placement: only what its probe proved. `kvm` needs a guest
 * that booted under KVM, not a device node or an accelerator that initialises.
 */
export function capabilitiesOf(report: HostProbeReport): string[] {
  const s = report.sections;
  const caps: string[] = [];
  if (s.kvm.usable && s.kvm.guestBoot?.booted === true) caps.push('kvm');
  if (s.qemu.system.present && s.qemu.img.present) caps.push('qemu');
  if (s.zfs.kmodVersion && s.zfs.zfs.present) caps.push('zfs-storage');
  if (s.tools.debootstrap.present) caps.push('debootstrap');
  if (s.tracing.tracepoints.works) caps.push('bpftrace-tracepoints');
  if (s.tracing.kprobes.works) caps.push('bpftrace-kprobes');
  return caps;
}
