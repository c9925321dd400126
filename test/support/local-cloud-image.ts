import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withChroot } from '../../activities/golden/chroot.js';
import { runCommand } from '../../lib/exec/run-command.js';
import type { Logger } from '../../lib/log.js';

/**
 * A "cloud image" made locally, so the cloud-image builder can be proven on a machine that reaches
 * only the Debian mirror: the debian13 golden's disk with cloud-init installed and every trace of our
 * provisioning removed (no test user, no keys, no host keys). It boots with the golden's kernel and
 * initrd (the builder's directKernel input). Cached beside the goldens.
 */
export async function makeLocalCloudImage(goldenDir: string, outDir: string, log: Logger): Promise<{ image: string; sha256: string }> {
  const image = join(outDir, 'debian13-local-cloud.qcow2');
  const sumFile = `${image}.sha256`;
  if (existsSync(image) && existsSync(sumFile)) return { image, sha256: readFileSync(sumFile, 'utf8').trim() };
  mkdirSync(outDir, { recursive: true });
  const raw = join(outDir, 'work.raw');
  const mnt = join(outDir, 'mnt');
  await runCommand('qemu-img', ['convert', '-O', 'raw', join(goldenDir, 'disk.qcow2'), raw]);
  mkdirSync(mnt, { recursive: true });
  await runCommand('mount', ['-o', 'loop', raw, mnt]);
  try {
    writeFileSync(join(mnt, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian trixie main contrib\n');
    await withChroot(mnt, log, async (run) => {
      await run('apt-get update && apt-get install -y --no-install-recommends cloud-init', { timeoutMs: 1_200_000 });
      await run(
        [
          'userdel -r zts',
          'rm -f /etc/sudoers.d/zts /root/.ssh/authorized_keys /etc/ssh/ssh_host_*',
          'rm -rf /var/lib/apt/lists/* /var/lib/cloud',
          ': > /etc/machine-id',
        ].join('\n'),
      );
    });
  } finally {
    await runCommand('umount', [mnt]);
  }
  await runCommand('qemu-img', ['convert', '-O', 'qcow2', raw, image]);
  rmSync(raw, { force: true });
  const hash = createHash('sha256');
  await pipeline(createReadStream(image), hash);
  const sha256 = hash.digest('hex');
  writeFileSync(sumFile, sha256 + '\n');
  return { image, sha256 };
}
