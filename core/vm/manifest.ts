import { z } from 'zod';
import { FlavorIdSchema, LineageSchema } from '../catalog/schema.js';
import { GoldenSuiteSchema } from './golden-suite.js';
import { ZfsSourceSchema } from './zfs-source.js';

/** The steps of a golden build, in order. Each is one activity and one checkpoint. */
export const DebootstrapStepSchema = z.enum(['debootstrap', 'kernel', 'zfs', 'payload', 'configure', 'initramfs', 'image', 'verify', 'publish']);
export const CloudImageStepSchema = z.enum(['fetch-image', 'seed', 'provision', 'verify', 'publish']);
export const GoldenStepSchema = z.union([DebootstrapStepSchema, CloudImageStepSchema]);
export type GoldenStep = z.infer<typeof GoldenStepSchema>;

export const StepTimingSchema = z.object({ step: GoldenStepSchema, seconds: z.number().nonnegative(), finishedAt: z.string() });
export type StepTiming = z.infer<typeof StepTimingSchema>;

/** How a clone of the golden boots and is reached. */
export const GoldenBootSchema = z.object({
  disk: z.string(),
  diskFormat: z.enum(['qcow2', 'raw']),
  /** Direct kernel boot (debootstrap goldens); absent when the image boots its own bootloader. */
  kernel: z.string().optional(),
  initrd: z.string().optional(),
  kernelCmdline: z.string().optional(),
});

export const GoldenSshSchema = z.object({
  /** The non-root user zfs-tests.sh runs as (passwordless `sudo -E`); also used to reach root via sudo. */
  user: z.string().min(1),
  /** Client private key (relative to the golden dir). */
  privateKeyFile: z.string(),
  /** The guest's host key, as in a known_hosts line without the host part: "ssh-ed25519 AAAA…". Clones are reached only with this key. */
  hostPublicKey: z.string().regex(/^ssh-ed25519 [A-Za-z0-9+/=]+$/),
});

/**
 * What is really inside a golden, read from the booted image (not from the recipe): the kernel
 * running, `zfs version`, package versions; plus the recipe hash and the build's step timings.
 */
export const GoldenManifestSchema = z.object({
  name: z.string(),
  flavorId: FlavorIdSchema,
  lineage: LineageSchema,
  recipeHash: z.string().regex(/^[0-9a-f]{64}$/),
  builderVersion: z.number().int(),
  builder: z.enum(['debootstrap', 'cloud-image']),
  builtAt: z.string(),
  buildHost: z.string(),
  zfsSource: ZfsSourceSchema.optional(),
  kernelRelease: z.string().min(1),
  /** `zfs version` lines, e.g. userland "zfs-2.3.2-2" and kmod "zfs-kmod-2.3.2-2". */
  zfsVersion: z.object({ userland: z.string(), kmod: z.string() }),
  /** package name → version, as the guest's package manager reports them. */
  packages: z.record(z.string(), z.string()),
  boot: GoldenBootSchema,
  ssh: GoldenSshSchema,
  steps: z.array(StepTimingSchema),
  buildLog: z.string(),
  /** The ZTS the image holds (ztest goldens; absent in goldens built before it was recorded): runfiles in `suite/`. */
  suite: GoldenSuiteSchema.optional(),
});
export type GoldenManifest = z.infer<typeof GoldenManifestSchema>;

/** `zfs version` prints "zfs-2.3.2-2" then "zfs-kmod-2.3.2-2"; the kmod line is missing when the module is not loaded. */
export function parseZfsVersion(output: string): { userland: string; kmod: string } {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const kmod = lines.find((l) => l.startsWith('zfs-kmod-'));
  const userland = lines.find((l) => l.startsWith('zfs-') && !l.startsWith('zfs-kmod-'));
  if (!userland || !kmod) throw new Error(`unexpected \`zfs version\` output: ${JSON.stringify(output.slice(0, 200))}`);
  return { userland, kmod };
}

/** The numeric version in "zfs-kmod-2.3.2-2" → "2.3.2". */
export function zfsNumericVersion(line: string): string {
  const match = /^zfs-(?:kmod-)?(\d+\.\d+(?:\.\d+)?)/.exec(line);
  if (!match?.[1]) throw new Error(`not a zfs version line: ${line}`);
  return match[1];
}

/** "2.3.2" matches the catalog's expected prefix "2.3" (component-wise, so "2.30" does not). */
export function versionMatchesPrefix(version: string, prefix: string): boolean {
  const have = version.split('.');
  return prefix.split('.').every((part, i) => have[i] === part);
}

/** `dpkg-query -W -f '${Package}\t${Version}\n'` or `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'` output → record. */
export function parsePackageList(output: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version) packages[name.trim()] = version.trim();
  }
  return packages;
}
