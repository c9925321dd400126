import { join } from 'node:path';
import { PROVISIONED_MARKER } from '../../core/vm/cloud-init.js';
import { parsePackageList, parseZfsVersion, versionMatchesPrefix, zfsNumericVersion } from '../../core/vm/manifest.js';
import { BOOT_TIMEOUT_SECONDS } from '../../core/vm/timeouts.js';
import type { GoldenRef } from '../vm/golden-ref.js';
import { withClone } from '../vm/lifecycle.js';
import { sweepOrphanClones } from '../vm/sweeper.js';
import { createStorage } from '../vm/select-storage.js';
import { hypervisorForKernel, type Hypervisor } from '../vm/hypervisor.js';
import type { ReadyVm } from '../vm/lifecycle.js';
import { readCheckpoint } from './checkpoint.js';
import { readGuestSuite, writeSuiteFiles } from './golden-suite.js';
import type { StepContext, StepData } from './step-context.js';

/**
 * Boots a throwaway overlay of the new image and reads what is really inside: the running kernel,
 * `zfs version` with the module loaded, the package list, and (ztest) the suite's runfiles; a small pool
 * proves the module works.
 * The manifest is written from these readings, not from the recipe.
 */
export async function stepVerify(ctx: StepContext): Promise<StepData> {
  const image = readCheckpoint(ctx.paths.stepsDir, 'image')?.data;
  const initramfs = readCheckpoint(ctx.paths.stepsDir, 'initramfs')?.data;
  const configure = readCheckpoint(ctx.paths.stepsDir, 'configure')?.data;
  if (!image || !initramfs || !configure) throw new Error('verify needs the image, initramfs and configure steps done');
  const golden: GoldenRef = {
    name: ctx.name,
    dir: ctx.paths.outDir,
    boot: {
      disk: String(image.disk),
      diskFormat: image.diskFormat === 'raw' ? 'raw' : 'qcow2',
      kernel: String(initramfs.kernel),
      initrd: String(initramfs.initrd),
      kernelCmdline: String(initramfs.kernelCmdline),
    },
    ssh: { user: String(configure.user), privateKeyFile: 'ssh/id_ed25519', hostPublicKey: String(configure.hostPublicKey) },
  };
  return verifyGolden(ctx, golden);
}

/** Picks KVM or TCG by booting the golden's kernel (TCG when the image boots its own bootloader). */
export function chooseHypervisor(ctx: StepContext, kernelPath: string | undefined): Promise<Hypervisor> {
  return hypervisorForKernel(kernelPath, { probeCacheFile: join(ctx.paths.buildDir, 'accel-probe.json'), log: ctx.log });
}

/** Boots an overlay of the golden-to-be and records its readings plus how it boots and is reached. */
export async function verifyGolden(ctx: StepContext, golden: GoldenRef): Promise<StepData> {
  const hypervisor = await chooseHypervisor(ctx, golden.boot.kernel ? join(golden.dir, golden.boot.kernel) : undefined);
  const cloneRoot = join(ctx.paths.buildDir, 'verify');
  // A retried verify (worker died mid-boot) first ends the VM and clone the dead attempt left.
  // Always a qcow2 overlay, whatever host.storage says: the golden-to-be is not published (nor imported into ZFS) yet.
  await sweepOrphanClones({ cloneRoot, storages: [createStorage()], hypervisor, isRunOpen: async () => false, minAgeMs: 0, log: ctx.log });
  const readings = await withClone(
    {
      runId: `golden-verify-${ctx.name}`,
      golden,
      storage: createStorage(),
      hypervisor,
      cloneRoot,
      cpus: 2,
      memoryMiB: 2048,
      vdevCount: 0,
      vdevSizeGiB: 1,
      // The longest bound whatever the accelerator: a golden refused here is built again from scratch.
      bootTimeoutMs: BOOT_TIMEOUT_SECONDS.tcg * 1000,
      artifactsDir: ctx.paths.outDir,
      signal: ctx.runOptions.signal,
      log: ctx.log,
    },
    (vm) => readGuest(vm, ctx),
  );
  return { ...readings, accel: hypervisor.accel, boot: golden.boot, ssh: golden.ssh };
}

async function mustRun(vm: ReadyVm, command: string, timeoutMs = 300_000): Promise<string> {
  const r = await vm.ssh.exec(command, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`in the new golden, \`${command}\` exited ${r.exitCode}: ${r.stderr.slice(-500)}`);
  return r.stdout;
}

async function readGuest(vm: ReadyVm, ctx: StepContext): Promise<StepData> {
  const kernelRelease = (await mustRun(vm, 'uname -r')).trim();
  // As root: bullseye keeps zfs in /sbin, which is not on the test user's PATH.
  const zfsVersion = parseZfsVersion(await mustRun(vm, "sudo -n sh -c 'modprobe zfs && zfs version'"));
  const kmod = zfsNumericVersion(zfsVersion.kmod);
  // A --zfs-source build is whatever the tree is; the catalog's expectation is for the distro package.
  if (!ctx.zfsSource && !versionMatchesPrefix(kmod, ctx.flavor.expectedZfsVersion)) {
    throw new Error(
      `${ctx.flavor.id} expects OpenZFS ${ctx.flavor.expectedZfsVersion}.x but the golden loads ${zfsVersion.kmod}; fix the catalog or the recipe`,
    );
  }
  await mustRun(
    vm,
    'sudo -n sh -ec "truncate -s 256M /var/tmp/zfslab-smoke && zpool create zfslab-smoke /var/tmp/zfslab-smoke && zfs create zfslab-smoke/fs && zpool destroy zfslab-smoke && rm /var/tmp/zfslab-smoke"',
  );
  let suite: StepData | undefined;
  if (ctx.lineage === 'ztest') {
    await mustRun(vm, 'test -x /usr/share/zfs/zfs-tests.sh && command -v ksh fio bpftrace');
    // The suite the image really holds: runs plan from these runfiles (activities/zts/resolve.ts), not from a package fetched elsewhere.
    const read = await readGuestSuite(vm.ssh, kmod, 'build');
    writeSuiteFiles(ctx.paths.outDir, read.files);
    suite = read.suite;
  }
  if (ctx.flavor.builder.kind === 'cloud-image') await mustRun(vm, `test -f ${PROVISIONED_MARKER}`);
  const packages = parsePackageList(
    await mustRun(
      vm,
      "if command -v dpkg-query >/dev/null; then dpkg-query -W -f '${Package}\\t${Version}\\n'; else rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'; fi",
    ),
  );
  const shutdown = await vm.ssh.exec('sudo -n sync');
  ctx.log.info({ kernelRelease, zfsVersion, packages: Object.keys(packages).length, bootSeconds: vm.bootSeconds, sync: shutdown.exitCode }, 'golden verified');
  return { kernelRelease, zfsVersion, packages, bootSeconds: vm.bootSeconds, ...(suite ? { suite } : {}) };
}
