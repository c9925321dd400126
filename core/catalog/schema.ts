import { z } from 'zod';

/**
 * A flavor is one distro release a golden can be built for: what it is (OS, release, kernel, the
 * OpenZFS version we expect to find), how its golden is built (builder + inputs) and what each
 * lineage adds. Flavors are data: the shipped ones live in ./flavors.ts, users add theirs under
 * `flavors:` in the config file, and both pass through FlavorSchema.
 */

export const FlavorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a lowercase flavor id (a-z 0-9 -, at most 40 chars)');

export const LineageSchema = z.enum(['lean', 'ztest']);
export type Lineage = z.infer<typeof LineageSchema>;

const packageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+_:@/-]*$/, 'a package name');

/** What a lineage installs on top of the base image (the ztest lineage adds the test payload). */
export const LineagePayloadSchema = z.strictObject({
  packages: z.array(packageName).default([]),
});

/**
 * debootstrap: build from a Debian mirror on any Debian host. `backports` names a suite that is
 * added for the build and that OpenZFS, and unless `kernelFrom: suite` the kernel too, are taken
 * from (apt -t).
 */
export const DebootstrapInputsSchema = z.strictObject({
  kind: z.literal('debootstrap'),
  suite: z.string().regex(/^[a-z][a-z0-9-]*$/),
  components: z
    .array(z.string().regex(/^[a-z][a-z0-9-]*$/))
    .min(1)
    .default(['main', 'contrib']),
  /** Mirror URL; default: the Debian mirror this host's apt uses. */
  mirror: z.url({ protocol: /^https?$/ }).optional(),
  backports: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .optional(),
  /** With `backports`: where the kernel comes from (default `backports`). No default value, so the recipe hash of a flavor without it is unchanged. */
  kernelFrom: z.enum(['suite', 'backports']).optional(),
  /** Packages debootstrap includes in the base rootfs. */
  basePackages: z.array(packageName).min(1),
  /** Installed in the kernel step (image + headers; DKMS builds against these headers). */
  kernelPackages: z.array(packageName).min(1),
  /** Installed in the OpenZFS step; zfs-dkms builds the module for the guest kernel here. */
  zfsPackages: z.array(packageName).min(1),
});
export type DebootstrapInputs = z.infer<typeof DebootstrapInputsSchema>;

const checksum = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sha256'), value: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.strictObject({ kind: z.literal('sha512'), value: z.string().regex(/^[0-9a-f]{128}$/) }),
  /** A published SHA256SUMS / CHECKSUM file; the line for the image's file name is used. */
  z.strictObject({ kind: z.literal('sums-url'), url: z.url({ protocol: /^(https?|file)$/ }), algorithm: z.enum(['sha256', 'sha512']) }),
]);

/**
 * cloud-image: a distro's published cloud image booted once with a cloud-init NoCloud seed that
 * adds the user, keys, host keys, the distro's OpenZFS repository and packages, then powered off.
 */
export const CloudImageInputsSchema = z.strictObject({
  kind: z.literal('cloud-image'),
  imageUrl: z.url({ protocol: /^(https?|file)$/ }),
  checksum,
  /** Commands (run as root by cloud-init, in order) that make the OpenZFS repository available. */
  zfsRepoCommands: z.array(z.string().min(1)).default([]),
  /** Packages that bring OpenZFS (module + userland). */
  zfsPackages: z.array(packageName).min(1),
  /** The package manager cloud-init's `packages:` module drives; informational, used in commands. */
  packageManager: z.enum(['apt', 'dnf']),
  /**
   * Boot a kernel and initrd published beside the image (as Ubuntu does under unpacked/) instead of
   * the image's own bootloader; also how a whole-disk image without a bootloader is booted.
   */
  directKernel: z
    .strictObject({
      kernelUrl: z.url({ protocol: /^(https?|file)$/ }),
      initrdUrl: z.url({ protocol: /^(https?|file)$/ }),
      cmdline: z.string().min(1),
    })
    .optional(),
  /** Size the golden's disk is grown to. */
  diskSizeGiB: z.number().int().min(4).max(512).default(16),
});
export type CloudImageInputs = z.infer<typeof CloudImageInputsSchema>;

export const BuilderInputsSchema = z.discriminatedUnion('kind', [DebootstrapInputsSchema, CloudImageInputsSchema]);
export type BuilderInputs = z.infer<typeof BuilderInputsSchema>;

export const FlavorSchema = z.strictObject({
  id: FlavorIdSchema,
  /** Human name, e.g. "Debian 13 (trixie)". */
  name: z.string().min(1),
  os: z.enum(['debian', 'ubuntu', 'centos-stream', 'rocky', 'fedora', 'other']),
  release: z.string().min(1),
  /** The kernel package the golden boots (e.g. linux-image-amd64, kernel). */
  kernelPackage: packageName,
  /** OpenZFS version expected in the golden, as a prefix of `zfs version` (e.g. "2.3"); the manifest checks it. */
  expectedZfsVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'a version prefix like 2.3 or 2.3.2'),
  builder: BuilderInputsSchema,
  lineages: z.strictObject({ lean: LineagePayloadSchema.prefault({}), ztest: LineagePayloadSchema.prefault({}) }),
  /** VM size for clones of this flavor; the host config may lower it. */
  vm: z
    .strictObject({
      cpus: z.number().int().min(1).max(64).default(2),
      memoryMiB: z.number().int().min(512).max(262_144).default(4096),
      /** Extra blank disks given to the guest as vdevs (zfs-tests.sh DISKS). */
      vdevCount: z.number().int().min(0).max(16).default(3),
      vdevSizeGiB: z.number().int().min(1).max(1024).default(4),
    })
    .prefault({}),
  notes: z.string().optional(),
});
export type Flavor = z.infer<typeof FlavorSchema>;
/** What a user writes: defaults may be left out. */
export type FlavorInput = z.input<typeof FlavorSchema>;

/** The config file's `flavors:` key: extra flavors, or replacements of shipped ones (same id). */
export const FlavorListSchema = z.array(FlavorSchema).default([]);
