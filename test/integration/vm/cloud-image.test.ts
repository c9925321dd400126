import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { buildGolden } from '../../../activities/golden/build.js';
import { defaultGoldenCacheDir } from '../../../activities/golden/paths.js';
import { goldenRefFromManifest } from '../../../activities/vm/golden-ref.js';
import { withClone } from '../../../activities/vm/lifecycle.js';
import { Qcow2Storage } from '../../../activities/vm/qcow2-storage.js';
import { QemuHypervisor } from '../../../activities/vm/qemu-hypervisor.js';
import { FlavorSchema, loadCatalog } from '../../../core/catalog/index.js';
import { createLogger } from '../../../lib/log.js';
import { makeLocalCloudImage } from '../../support/local-cloud-image.js';

/**
 * The cloud-image builder on a real image: the debian13 golden's disk with cloud-init installed and
 * our provisioning removed, given as a file:// URL with its sha256. The builder must seed the user,
 * keys and host key through NoCloud, install a package from the mirror in the provisioning boot,
 * power off, and produce a golden whose clones answer on the pinned host key. ZFSLAB_SLOW=1 only.
 */
const slow = process.env.ZFSLAB_SLOW === '1';
const log = createLogger('cloud-image-test', 'warn');

describe.skipIf(!slow)('cloud-image builder with a local image', () => {
  it(
    'builds a golden from a file:// cloud image and boots a clone of it',
    async () => {
      const base = await buildGolden({ flavor: loadCatalog().get('debian13'), lineage: 'ztest' }, { log });
      const local = await makeLocalCloudImage(base.plan.goldenDir, join(defaultGoldenCacheDir(), '..', 'local-cloud-image'), log);
      const flavor = FlavorSchema.parse({
        id: 'debian13-localcloud',
        name: 'debian13 golden + cloud-init, as a local cloud image',
        os: 'debian',
        release: '13',
        kernelPackage: 'linux-image-amd64',
        expectedZfsVersion: '2.3',
        builder: {
          kind: 'cloud-image',
          imageUrl: pathToFileURL(local.image).href,
          checksum: { kind: 'sha256', value: local.sha256 },
          packageManager: 'apt',
          directKernel: {
            kernelUrl: pathToFileURL(join(base.plan.goldenDir, 'vmlinuz')).href,
            initrdUrl: pathToFileURL(join(base.plan.goldenDir, 'initrd.img')).href,
            cmdline: 'root=/dev/vda rw console=ttyS0 panic=-1',
          },
          zfsRepoCommands: ["printf 'deb http://deb.debian.org/debian trixie main contrib\\n' > /etc/apt/sources.list", 'apt-get update'],
          zfsPackages: ['zfsutils-linux'],
          diskSizeGiB: 16,
        },
        lineages: { lean: { packages: ['tree'] } },
      });
      const built = await buildGolden({ flavor, lineage: 'lean' }, { log });
      expect(built.manifest.builder).toBe('cloud-image');
      expect(built.manifest.packages.tree).toBeDefined();
      expect(built.manifest.packages['cloud-init']).toBeDefined();
      expect(built.manifest.zfsVersion.kmod).toMatch(/^zfs-kmod-2\.3\./);
      // The host key cloud-init installed is the one made on the build host and recorded.
      expect(built.manifest.ssh.hostPublicKey).toMatch(/^ssh-ed25519 /);

      const golden = goldenRefFromManifest(built.plan.goldenDir, built.manifest);
      const whoami = await withClone(
        {
          runId: 'cloud-image-test',
          golden,
          storage: new Qcow2Storage(),
          hypervisor: new QemuHypervisor({ accel: 'tcg', log }),
          cloneRoot: mkdtempSync(join(tmpdir(), 'zfslab-clones-')),
          cpus: 2,
          memoryMiB: 2048,
          vdevCount: 0,
          vdevSizeGiB: 1,
          log,
        },
        async (vm) => (await vm.ssh.exec('sudo -n id -un && test -f /etc/cloud/cloud-init.disabled && echo disabled')).stdout,
      );
      expect(whoami).toBe('root\ndisabled\n');
    },
    3 * 3600_000,
  );
});
