import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ZfsSource } from '../../core/vm/zfs-source.js';
import { runCommand } from '../../lib/exec/run-command.js';
import type { ChrootRunner } from './chroot.js';
import type { StepContext } from './step-context.js';

/**
 * `--zfs-source PATH|URL [--zfs-branch B]`: OpenZFS built from a source tree (a PR before it lands)
 * instead of the distro's zfs-dkms. The tree is pinned to a commit when the build is planned, so
 * the recipe hash names exactly what was built.
 */

/** Packages the OpenZFS build needs in the guest (its autogen/configure/make and the test suite). */
export const ZFS_BUILD_DEPENDENCIES = [
  'build-essential',
  'autoconf',
  'automake',
  'libtool',
  'gawk',
  'alien',
  'fakeroot',
  'git',
  'python3',
  'python3-dev',
  'python3-setuptools',
  'python3-cffi',
  'libffi-dev',
  'uuid-dev',
  'libblkid-dev',
  'libudev-dev',
  'libssl-dev',
  'zlib1g-dev',
  'libaio-dev',
  'libattr1-dev',
  'libelf-dev',
  'libtirpc-dev',
  'libcurl4-openssl-dev',
  'libpam0g-dev',
  'pkg-config',
];

function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(location) || /^[^/]+@[^:]+:/.test(location);
}

/** Resolves the location + branch to a commit (git rev-parse for a path, git ls-remote for a URL). */
export async function resolveZfsSource(source: ZfsSource): Promise<ZfsSource> {
  if (source.revision) return source;
  const ref = source.branch ?? 'HEAD';
  if (isUrl(source.location)) {
    const out = await runCommand('git', ['ls-remote', source.location, ref], { timeoutMs: 60_000 });
    const revision = out.stdout.split(/\s+/)[0];
    if (!revision) throw new Error(`${source.location} has no ${ref}`);
    return { ...source, revision };
  }
  const path = isAbsolute(source.location) ? source.location : resolve(source.location);
  if (!existsSync(path)) throw new Error(`--zfs-source ${path} does not exist`);
  const out = await runCommand('git', ['-C', path, 'rev-parse', `${ref}^{commit}`]);
  return { ...source, location: path, revision: out.stdout.trim() };
}

/** Puts the pinned commit's tree at <rootfs>/usr/src/zfs-source (git archive: no host clutter, no .git). */
export async function exportSourceTree(ctx: StepContext, source: ZfsSource): Promise<string> {
  const inGuest = '/usr/src/zfs-source';
  const target = join(ctx.paths.rootfs, inGuest);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  let repo = source.location;
  if (isUrl(source.location)) {
    repo = join(ctx.paths.buildDir, 'zfs-source.git');
    if (!existsSync(repo))
      await runCommand('git', ['clone', '--bare', '--filter=blob:none', source.location, repo], { ...ctx.runOptions, timeoutMs: 1_800_000 });
  }
  const archive = join(ctx.paths.buildDir, 'zfs-source.tar');
  await runCommand('git', ['-C', repo, 'archive', '--format=tar', '-o', archive, source.revision ?? 'HEAD']);
  await runCommand('tar', ['-C', target, '-xf', archive]);
  rmSync(archive, { force: true });
  return inGuest;
}

/** Builds and installs OpenZFS (module for the guest kernel, userland, zfs-tests) inside the chroot. */
export async function buildZfsFromSource(ctx: StepContext, run: ChrootRunner, kernelRelease: string, treeInGuest: string): Promise<void> {
  await run(`apt-get install -y --no-install-recommends ${ZFS_BUILD_DEPENDENCIES.join(' ')}`, ctx.runOptions);
  await run(
    [
      `cd ${treeInGuest}`,
      './autogen.sh',
      `./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --with-config=all ` +
        `--with-linux=$(readlink -f /lib/modules/${kernelRelease}/source) --with-linux-obj=$(readlink -f /lib/modules/${kernelRelease}/build)`,
      'make -j"$(nproc)"',
      'make install',
      'ldconfig',
      `depmod ${kernelRelease}`,
    ].join('\n'),
    ctx.runOptions,
  );
}
