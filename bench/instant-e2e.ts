/**
 * `zfslab test debian13 --run …zpool_create_001_pos` end to end, with clones booted cold and
 * restored (host.instantClones), side by side in one invocation: the real CLI against the embedded
 * stack (`zfslab up`, restarted with ZFSLAB_HOST_INSTANT_CLONES for each mode), alternating modes.
 * Prints the CLI's wall time per run and the medians. Leaves the stack down.
 *
 *   npx tsc -p . && node dist/bench/instant-e2e.js [--rounds 2] [--test functional/cli_root/zpool_create/zpool_create_001_pos]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../lib/paths.js';
import { median } from '../core/stats/median.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, test: { type: 'string', default: 'functional/cli_root/zpool_create/zpool_create_001_pos' } },
});
const rounds = Number(values.rounds);
const cli = join(projectRoot, 'bin/zfslab.js');

function zfslab(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; seconds: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, seconds: (performance.now() - started) / 1000 };
}
/** The median of a mode's samples (each mode has at least one). */
const medianOf = (xs: number[]): number => median(xs)!;

const walls: Record<'cold' | 'instant', number[]> = { cold: [], instant: [] };
try {
  for (let round = 1; round <= rounds; round++) {
    for (const mode of round % 2 === 1 ? (['cold', 'instant'] as const) : (['instant', 'cold'] as const)) {
      zfslab(['down']);
      const up = zfslab(['up'], { ZFSLAB_HOST_INSTANT_CLONES: mode === 'instant' ? 'true' : 'false' });
      if (up.code !== 0) throw new Error(`zfslab up failed (exit ${up.code})`);
      const run = zfslab(['test', 'debian13', '--run', values.test!, '--probes', 'none', '--json']);
      const json = JSON.parse(run.stdout) as { outcome: string; totals: { counts: { PASS: number } } };
      if (run.code !== 0 || json.totals.counts.PASS !== 1) throw new Error(`round ${round} ${mode}: exit ${run.code}, ${json.outcome}`);
      walls[mode].push(Math.round(run.seconds * 10) / 10);
      process.stderr.write(`round ${round} ${mode}: zfslab test … ${run.seconds.toFixed(1)} s, PASS\n`);
    }
  }
} finally {
  zfslab(['down']);
}
process.stdout.write(
  [
    `zfslab test debian13 --run ${values.test} (--probes none), ${rounds} rounds per mode, alternating`,
    '',
    '| clones | CLI wall, s | median s |',
    '|---|---|---|',
    `| booted cold | ${walls.cold.join(', ')} | ${medianOf(walls.cold)} |`,
    `| restored (host.instantClones) | ${walls.instant.join(', ')} | ${medianOf(walls.instant)} |`,
    '',
    `cold / restored: ${(medianOf(walls.cold) / medianOf(walls.instant)).toFixed(2)}×`,
    '',
  ].join('\n'),
);
