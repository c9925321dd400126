/**
 * How long a clone takes to be ready for its first command: booted cold vs restored from the
 * golden's saved running machine (instant clones), side by side in one invocation, alternating so
 * the machine's load weighs on both alike. "Ready" is what a run waits for: SSH answers as the test
 * user (for a restored clone, after it was made its own: clock, hostname, hostid, RNG).
 *
 *   npx tsc -p . && node dist/bench/clone-start.js [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultGoldenCacheDir } from '../activities/golden/paths.js';
import { hypervisorResolver } from '../activities/vm/hypervisor.js';
import { findGolden, VmSizeSchema } from '../activities/vm/index.js';
import { withClone, type CloneOptions } from '../activities/vm/lifecycle.js';
import { Qcow2Storage } from '../activities/vm/qcow2-storage.js';
import { loadCatalog } from '../core/catalog/index.js';
import { createLogger } from '../lib/log.js';
import { median } from '../core/stats/median.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const log = createLogger('bench-clone-start', 'warn');
const golden = findGolden(defaultGoldenCacheDir(), loadCatalog().get('debian13'), 'ztest');
if (!golden) throw new Error('no debian13 ztest golden on this machine: zfslab golden-ztest debian13');
const hypervisor = await hypervisorResolver(defaultGoldenCacheDir(), log)(golden);
const cloneRoot = mkdtempSync(join(tmpdir(), 'zfslab-bench-clone-start-'));
const options = (instant: boolean, round: number): CloneOptions => ({
  runId: `bench-clone-start-${round}-${instant ? 'restore' : 'cold'}`,
  golden,
  storage: new Qcow2Storage(),
  hypervisor,
  cloneRoot,
  ...VmSizeSchema.parse({}),
  instant,
  log,
});
/** The median of a mode's samples (each mode has at least one). */
const medianOf = (xs: number[]): number => median(xs)!;

const seconds: Record<'cold' | 'restore', number[]> = { cold: [], restore: [] };
try {
  // A saved state that fits is made first if none exists (one cold boot, not counted).
  await withClone(options(true, 0), async () => undefined);
  for (let round = 1; round <= rounds; round++) {
    for (const mode of round % 2 === 1 ? (['cold', 'restore'] as const) : (['restore', 'cold'] as const)) {
      const started = performance.now();
      const ready = await withClone(options(mode === 'restore', round), async (vm) => {
        const r = await vm.ssh.exec('true', { timeoutMs: 60_000 });
        if (r.exitCode !== 0) throw new Error(`round ${round} ${mode}: the first command failed`);
        if ((vm.start.kind === 'restored') !== (mode === 'restore')) throw new Error(`round ${round} ${mode}: started ${JSON.stringify(vm.start)}`);
        return (performance.now() - started) / 1000;
      });
      seconds[mode].push(Math.round(ready * 10) / 10);
      process.stderr.write(`round ${round} ${mode}: ready for its first command in ${ready.toFixed(1)} s\n`);
    }
  }
} finally {
  rmSync(cloneRoot, { recursive: true, force: true });
}
const ratio = medianOf(seconds.cold) / medianOf(seconds.restore);
process.stdout.write(
  [
    `clone start: debian13 golden ${golden.name}, ${hypervisor.accel}, ${rounds} rounds, alternating`,
    '',
    '| start | ready for the first command, s | median s |',
    '|---|---|---|',
    `| cold boot | ${seconds.cold.join(', ')} | ${medianOf(seconds.cold)} |`,
    `| restore (instant) | ${seconds.restore.join(', ')} | ${medianOf(seconds.restore)} |`,
    '',
    `cold / restore: ${ratio.toFixed(1)}×`,
    '',
  ].join('\n'),
);
