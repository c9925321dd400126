/**
 * Boot-to-SSH of clones of a golden, N times in a row, with the accelerator the probe chose (or the
 * one given): `node dist/bench/golden/boot-timing.js <goldenDir> [n] [kvm|tcg]`.
 * Prints one line per boot and the spread; each clone is destroyed after SSH answers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeAccelerator } from '../../activities/vm/accel-probe.js';
import { loadGoldenRef } from '../../activities/vm/golden-ref.js';
import { withClone } from '../../activities/vm/lifecycle.js';
import { createStorage } from '../../activities/vm/select-storage.js';
import { QemuHypervisor } from '../../activities/vm/qemu-hypervisor.js';
import { createLogger } from '../../lib/log.js';

const [goldenDir, countText = '3', forced] = process.argv.slice(2);
if (!goldenDir) {
  console.error('usage: boot-timing.js <goldenDir> [n] [kvm|tcg]');
  process.exit(2);
}
const log = createLogger('boot-timing', 'warn');
const golden = loadGoldenRef(goldenDir);
const probe = await probeAccelerator({ kernelPath: join(golden.dir, golden.boot.kernel!), log });
console.log(`probe: ${JSON.stringify(probe)}`);
const accel = forced === 'kvm' || forced === 'tcg' ? forced : probe.chosen;
const hypervisor = new QemuHypervisor({ accel, log });
const seconds: number[] = [];
for (let i = 0; i < Number(countText); i++) {
  const started = performance.now();
  const boot = await withClone(
    {
      runId: `boot-timing-${i}`,
      golden,
      storage: createStorage(),
      hypervisor,
      cloneRoot: mkdtempSync(join(tmpdir(), 'zfslab-boot-')),
      cpus: 2,
      memoryMiB: 4096,
      vdevCount: 3,
      vdevSizeGiB: 4,
      log,
    },
    async (vm) => ({ boot: vm.bootSeconds, attempts: vm.bootAttempts }),
  );
  const total = Math.round((performance.now() - started) / 100) / 10;
  seconds.push(boot.boot);
  console.log(`boot ${i + 1} (${accel}): boot-to-SSH ${boot.boot} s, attempts ${boot.attempts}, clone+boot+destroy ${total} s`);
}
seconds.sort((a, b) => a - b);
console.log(`min ${seconds[0]} s, median ${seconds[Math.floor(seconds.length / 2)]} s, max ${seconds.at(-1)} s`);
