import { join } from 'node:path';
import { buildGolden } from '../../activities/golden/build.js';
import { probeAccelerator } from '../../activities/vm/accel-probe.js';
import { goldenRefFromManifest, type GoldenRef } from '../../activities/vm/golden-ref.js';
import type { Hypervisor } from '../../activities/vm/hypervisor.js';
import { QemuHypervisor } from '../../activities/vm/qemu-hypervisor.js';
import { loadCatalog } from '../../core/catalog/index.js';
import type { GoldenManifest } from '../../core/vm/manifest.js';
import type { Logger } from '../../lib/log.js';

/**
 * The slow tier's debian13 ztest golden: built once per machine (cached by recipe hash under
 * /var/cache/zfslab/goldens, outside any clone of the repo), reused afterwards; and the hypervisor
 * with the accelerator that really boots here (found by booting, see docs/vm-timings.md).
 */
export async function debian13Golden(log: Logger): Promise<{ manifest: GoldenManifest; golden: GoldenRef; hypervisor: Hypervisor }> {
  const built = await buildGolden({ flavor: loadCatalog().get('debian13'), lineage: 'ztest' }, { log });
  const golden = goldenRefFromManifest(built.plan.goldenDir, built.manifest);
  const probe = await probeAccelerator({ kernelPath: join(golden.dir, golden.boot.kernel!), log });
  return { manifest: built.manifest, golden, hypervisor: new QemuHypervisor({ accel: probe.chosen, log }) };
}
