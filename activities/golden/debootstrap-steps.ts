import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebootstrapInputs } from '../../core/catalog/schema.js';
import { runCommand } from '../../lib/exec/run-command.js';
import { CommandFailed, UsageError } from '../../lib/errors.js';
import { removeTree, withChroot, type ChrootRunner } from './chroot.js';
import type { StepContext, StepData } from './step-context.js';
import { buildZfsFromSource, exportSourceTree } from './zfs-source.js';

/**
 * The debootstrap builder, one function per step, in the order a debian13 golden was first built
 * by hand (debootstrap, kernel, DKMS for the guest kernel, payload, configure, initramfs, image).
 * Each step may be re-run from its start: it first undoes whatever a killed earlier attempt left
 * half-done.
 */

export const GUEST_USER = 'zts';
export const GUEST_HOSTNAME = 'zfslab';
export const KERNEL_CMDLINE = 'root=/dev/vda rw console=ttyS0 panic=-1 net.ifnames=1';
export const DISK_SIZE = '16G';

function inputs(ctx: StepContext): DebootstrapInputs {
  if (ctx.flavor.builder.kind !== 'debootstrap') throw new Error(`${ctx.flavor.id} is not a debootstrap flavor`);
  return ctx.flavor.builder;
}

function aptInstall(ctx: StepContext, run: ChrootRunner, packages: readonly string[], fromBackports: boolean): Promise<unknown> {
  const target = fromBackports && inputs(ctx).backports ? `-t ${inputs(ctx).backports} ` : '';
  return run(`apt-get install -y --no-install-recommends ${target}${packages.join(' ')}`, ctx.runOptions);
}

/** apt-get update, naming the way out when the mirror serves expired Release files. */
export async function aptUpdate(ctx: StepContext, run: ChrootRunner): Promise<void> {
  try {
    await run('apt-get update', ctx.runOptions);
  } catch (err) {
    const text = err instanceof CommandFailed ? `${err.stdout}\n${err.stderr}` : String(err);
    if (ctx.aptCheckValidUntil && /Release file .* is expired/.test(text)) {
      throw new UsageError(
        `${ctx.mirror} serves expired Release files for ${inputs(ctx).suite} (a frozen or snapshot mirror); ` +
          'set host.aptCheckValidUntil: false (env ZFSLAB_HOST_APT_CHECK_VALID_UNTIL=false) to build from it anyway',
        { cause: err },
      );
    }
    throw err;
  }
}

export async function stepDebootstrap(ctx: StepContext): Promise<StepData> {
  const b = inputs(ctx);
  await removeTree(ctx.paths.rootfs, ctx.log);
  mkdirSync(ctx.paths.rootfs, { recursive: true });
  await runCommand(
    'debootstrap',
    ['--arch=amd64', `--components=${b.components.join(',')}`, `--include=${b.basePackages.join(',')}`, b.suite, ctx.paths.rootfs, ctx.mirror],
    ctx.runOptions,
  );
  return { suite: b.suite, mirror: ctx.mirror };
}

export async function stepKernel(ctx: StepContext): Promise<StepData> {
  const b = inputs(ctx);
  const lines = [`deb ${ctx.mirror} ${b.suite} ${b.components.join(' ')}`];
  if (b.backports) lines.push(`deb ${ctx.mirror} ${b.backports} ${b.components.join(' ')}`);
  writeFileSync(join(ctx.paths.rootfs, 'etc/apt/sources.list'), lines.join('\n') + '\n');
  const validUntil = join(ctx.paths.rootfs, 'etc/apt/apt.conf.d/99zfslab-valid-until');
  if (ctx.aptCheckValidUntil) rmSync(validUntil, { force: true });
  else writeFileSync(validUntil, 'Acquire::Check-Valid-Until "false";\n');
  await withChroot(ctx.paths.rootfs, ctx.log, async (run) => {
    await run('dpkg --configure -a', ctx.runOptions);
    await aptUpdate(ctx, run);
    await aptInstall(ctx, run, b.kernelPackages, b.kernelFrom !== 'suite');
  });
  return { kernelRelease: guestKernelRelease(ctx.paths.rootfs) };
}

/** The guest kernel's release, from /boot of the rootfs (never the host's `uname -r`). */
export function guestKernelRelease(rootfs: string): string {
  const kernels = readdirSync(join(rootfs, 'boot'))
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const newest = kernels[kernels.length - 1];
  if (!newest) throw new Error(`no kernel in ${rootfs}/boot`);
  return newest;
}

function findZfsModule(rootfs: string, kernelRelease: string): string | undefined {
  const base = join(rootfs, 'lib/modules', kernelRelease);
  const stack = [base];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== 'build' && entry.name !== 'source') stack.push(join(dir, entry.name));
      else if (/^zfs\.ko(\.(xz|zst|gz))?$/.test(entry.name)) return join(dir, entry.name).slice(rootfs.length);
    }
  }
  return undefined;
}

export async function stepZfs(ctx: StepContext): Promise<StepData> {
  const b = inputs(ctx);
  const kernelRelease = guestKernelRelease(ctx.paths.rootfs);
  const tree = ctx.zfsSource ? await exportSourceTree(ctx, ctx.zfsSource) : undefined;
  await withChroot(ctx.paths.rootfs, ctx.log, async (run) => {
    // A killed earlier attempt may have left dpkg half-configured (zfs-dkms postinst mid-build).
    await run('dpkg --configure -a', ctx.runOptions);
    if (tree) {
      await buildZfsFromSource(ctx, run, kernelRelease, tree);
      return;
    }
    await aptInstall(ctx, run, b.zfsPackages, true);
    if (!findZfsModule(ctx.paths.rootfs, kernelRelease)) {
      ctx.log.warn({ kernelRelease }, 'zfs-dkms postinst built no module for the guest kernel; running dkms install');
      const version = readdirSync(join(ctx.paths.rootfs, 'usr/src'))
        .filter((d) => /^zfs-\d/.test(d))
        .map((d) => d.slice('zfs-'.length))
        .pop();
      if (!version) throw new Error('zfs-dkms installed no source under /usr/src');
      await run(`dkms install zfs/${version} -k ${kernelRelease}`, ctx.runOptions);
    }
  });
  const module = findZfsModule(ctx.paths.rootfs, kernelRelease);
  if (!module) throw new Error(`no zfs.ko for guest kernel ${kernelRelease} after DKMS`);
  return { kernelRelease, zfsModule: module };
}

export async function stepPayload(ctx: StepContext): Promise<StepData> {
  // With --zfs-source, OpenZFS (and zfs-tests.sh) come from the source tree, not from packages.
  const fromSource = new Set(['zfs-test', 'zfs-zed', 'zfs-dkms', 'zfsutils-linux', 'python3-pyzfs']);
  const packages = ctx.flavor.lineages[ctx.lineage].packages.filter((p) => !ctx.zfsSource || !fromSource.has(p));
  if (packages.length > 0) {
    await withChroot(ctx.paths.rootfs, ctx.log, async (run) => {
      await run('dpkg --configure -a', ctx.runOptions);
      await aptInstall(ctx, run, packages, true);
    });
  }
  return { packages };
}

/** Host keys and the client key are made here, on the build host, and recorded in the manifest. */
export async function stepConfigure(ctx: StepContext): Promise<StepData> {
  const root = ctx.paths.rootfs;
  const write = (path: string, text: string, mode = 0o644): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text, { mode });
    chmodSync(join(root, path), mode);
  };
  write('etc/hostname', `${GUEST_HOSTNAME}\n`);
  write('etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${GUEST_HOSTNAME}\n::1 localhost ip6-localhost ip6-loopback\n`);
  write('etc/fstab', 'LABEL=rootfs / ext4 defaults,errors=remount-ro 0 1\n');
  write('etc/systemd/network/20-wired.network', '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n');
  // slirp's resolver; no resolved in the image
  rmSync(join(root, 'etc/resolv.conf'), { force: true });
  write('etc/resolv.conf', 'nameserver 10.0.2.3\n');
  write(
    'etc/ssh/sshd_config.d/zfslab.conf',
    'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\nHostKey /etc/ssh/ssh_host_ed25519_key\n',
  );
  write(`etc/sudoers.d/${GUEST_USER}`, `${GUEST_USER} ALL=(ALL) NOPASSWD: ALL\nDefaults:${GUEST_USER} !requiretty\n`, 0o440);

  // Host key: made now, recorded, the only one sshd offers. Clones are reached with it pinned.
  for (const f of readdirSync(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${GUEST_HOSTNAME}`, '-f', join(root, 'etc/ssh/ssh_host_ed25519_key')]);
  rmSync(ctx.paths.sshDir, { recursive: true, force: true });
  mkdirSync(ctx.paths.sshDir, { recursive: true, mode: 0o700 });
  copyFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), join(ctx.paths.sshDir, 'host_ed25519_key.pub'));
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `zfslab@${ctx.name}`, '-f', join(ctx.paths.sshDir, 'id_ed25519')]);
  const clientKey = readFileSync(join(ctx.paths.sshDir, 'id_ed25519.pub'), 'utf8');

  await withChroot(root, ctx.log, async (run) => {
    await run(
      [
        `id ${GUEST_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${GUEST_USER}`,
        `install -d -m 700 -o ${GUEST_USER} -g ${GUEST_USER} /home/${GUEST_USER}/.ssh`,
        'install -d -m 700 /root/.ssh',
        'passwd -l root >/dev/null',
        'systemctl enable systemd-networkd ssh',
        'systemctl mask systemd-networkd-wait-online.service',
        // Timers that cost minutes of emulated CPU in a short-lived clone
        'for t in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer; do systemctl disable $t 2>/dev/null || true; done',
      ].join('\n'),
      ctx.runOptions,
    );
  });
  writeFileSync(join(root, `home/${GUEST_USER}/.ssh/authorized_keys`), clientKey, { mode: 0o600 });
  writeFileSync(join(root, 'root/.ssh/authorized_keys'), clientKey, { mode: 0o600 });
  await runCommand('chroot', [root, 'chown', '-R', `${GUEST_USER}:${GUEST_USER}`, `/home/${GUEST_USER}/.ssh`]);
  const hostPublicKey = readFileSync(join(ctx.paths.sshDir, 'host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return { user: GUEST_USER, hostPublicKey };
}

/** What a golden's initramfs needs under qemu, whatever machine builds it. */
const DRACUT_VM_CONF = 'hostonly="no"\nadd_drivers+=" virtio_pci virtio_blk virtio_scsi virtio_net ext4 "\n';

export async function stepInitramfs(ctx: StepContext): Promise<StepData> {
  const kernelRelease = guestKernelRelease(ctx.paths.rootfs);
  if (existsSync(join(ctx.paths.rootfs, 'usr/bin/dracut'))) {
    // Debian from forky on makes initramfs with dracut, host-only by default: built in a chroot it
    // would hold the build machine's drivers, and the golden's root (ext4 on virtio) would not mount.
    writeFileSync(join(ctx.paths.rootfs, 'etc/dracut.conf.d/90-zfslab-vm.conf'), DRACUT_VM_CONF);
  }
  await withChroot(ctx.paths.rootfs, ctx.log, async (run) => {
    await run(
      `if [ -e /boot/initrd.img-${kernelRelease} ]; then update-initramfs -u -k ${kernelRelease}; else update-initramfs -c -k ${kernelRelease}; fi`,
      ctx.runOptions,
    );
  });
  mkdirSync(ctx.paths.outDir, { recursive: true });
  copyFileSync(join(ctx.paths.rootfs, `boot/vmlinuz-${kernelRelease}`), join(ctx.paths.outDir, 'vmlinuz'));
  copyFileSync(join(ctx.paths.rootfs, `boot/initrd.img-${kernelRelease}`), join(ctx.paths.outDir, 'initrd.img'));
  return { kernelRelease, kernel: 'vmlinuz', initrd: 'initrd.img', kernelCmdline: KERNEL_CMDLINE };
}

export async function stepImage(ctx: StepContext): Promise<StepData> {
  const root = ctx.paths.rootfs;
  await withChroot(root, ctx.log, async (run) => {
    await run('apt-get clean; rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*', ctx.runOptions);
  });
  // Each clone makes its own machine-id at first boot.
  writeFileSync(join(root, 'etc/machine-id'), '');
  const raw = join(ctx.paths.outDir, 'disk.raw');
  const qcow2 = join(ctx.paths.outDir, 'disk.qcow2');
  rmSync(raw, { force: true });
  rmSync(qcow2, { force: true });
  await runCommand('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', root, raw, DISK_SIZE], ctx.runOptions);
  await runCommand('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2], ctx.runOptions);
  rmSync(raw, { force: true });
  return { disk: 'disk.qcow2', diskFormat: 'qcow2', virtualSize: DISK_SIZE };
}
