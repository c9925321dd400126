import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCloneDir } from '../../../activities/golden/paths.js';
import { openStore } from '../../../activities/store/open.js';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { storeUrlOf } from '../../../lib/config.js';
import { createWorld, runCli, startWorker, testArtifacts, type RunningWorker, type TestWorld } from '../../support/stack.js';

/**
 * `zfslab test debian13 --run <one ZTS test>` end to end on real qemu: the real CLI, coordinator and
 * host workers, Temporal and MinIO; the host worker's VM target provider clones the cached debian13
 * ztest golden (build it first: `zfslab golden-ztest debian13`), boots it, runs zfs-tests.sh as the test
 * user and destroys the clone. ZFSLAB_SLOW=1 only: a TCG boot alone takes 1-3 minutes.
 */
const TEST = 'functional/cli_root/zpool_create/zpool_create_001_pos';
const GROUP = 'functional/cli_root/zpool_create';

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('zfslab test debian13 in a VM clone', () => {
  let world: TestWorld;
  const workers: RunningWorker[] = [];

  beforeAll(async () => {
    world = createWorld('vm-run');
    workers.push(await startWorker('coordinator', world.env), await startWorker('host', world.env));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    world?.cleanup();
  });

  it('runs the test for real: PASS with its group setup/cleanup, stored, artifacts uploaded, clone gone', async () => {
    const started = performance.now();
    const run = await runCli(['test', 'debian13', '--run', TEST, '--json'], world.env, { timeoutMs: 1_500_000 });
    const wallSeconds = Math.round((performance.now() - started) / 1000);
    console.log(`zfslab test debian13 --run ${TEST}: ${wallSeconds} s wall`); // eslint-disable-line no-console
    expect(run.code, `${run.stderr}\n--- host worker ---\n${workers[1]?.output().slice(-4000)}`).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    const flavorId = storeFlavorId('debian13', world.hostId);
    expect(json.outcome).toBe('passed');
    expect(json.totals.counts.PASS).toBe(1);
    expect(json.totals.tests).toBe(1);

    // The store: the test PASSed, and so did its group's setup and cleanup (they really ran in the guest).
    const store = await openStore(storeUrlOf(world.loaded));
    try {
      const results = await store.getResults(json.runId);
      const byKind = (kind: string) => results.filter((r) => r.kind === kind);
      expect(byKind('test').map((r) => [r.testId, r.outcome, r.flavorId])).toEqual([[TEST, 'PASS', flavorId]]);
      expect(byKind('setup').map((r) => [r.group, r.outcome])).toEqual([[GROUP, 'PASS']]);
      expect(byKind('cleanup').map((r) => [r.group, r.outcome])).toEqual([[GROUP, 'PASS']]);
      expect(byKind('test')[0]!.durationSeconds).toBeGreaterThan(0);
      expect((await store.getRun(json.runId))?.status).toBe('passed');
    } finally {
      await store.close();
    }

    // MinIO: the guest's results tree (copied back), the serial log of the clone, the chunk's results.
    const artifacts = testArtifacts(world);
    let cloneIds: string[];
    try {
      const keys = (await artifacts.list(`runs/${json.runId}/${flavorId}/1/`)).map((o) => o.key);
      expect(keys.some((k) => /\/attempt-1\/\d{8}T\d{6}\/log$/.test(k)), keys.join('\n')).toBe(true);
      expect(keys.some((k) => /\/attempt-1\/\d{8}T\d{6}\/results$/.test(k))).toBe(true);
      expect(keys.some((k) => k.includes('/attempt-1/') && k.endsWith('/zpool_create_001_pos/merged'))).toBe(true);
      cloneIds = keys.flatMap((k) => /\/serial-(c-[0-9a-f]+)\.log$/.exec(k)?.[1] ?? []);
      expect(cloneIds).toHaveLength(1);
      const chunk = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(runKeys.chunkResults(json.runId, flavorId, 1, 0)))!));
      expect(chunk.results.find((r) => r.kind === 'test')?.outcome).toBe('PASS');
    } finally {
      artifacts.destroy();
    }

    // Nothing of the run's clone is left: no qemu process, no clone dir, no clone labelled with the run.
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    for (const cloneId of cloneIds) {
      expect(processes).not.toContain(`zfslab-${cloneId}`);
      expect(existsSync(join(defaultCloneDir(), cloneId))).toBe(false);
    }
    const cloneRoot = defaultCloneDir();
    const labelled = existsSync(cloneRoot)
      ? readdirSync(cloneRoot).filter((d) => {
          const label = join(cloneRoot, d, 'label.json');
          return existsSync(label) && readFileSync(label, 'utf8').includes(json.runId);
        })
      : [];
    expect(labelled).toEqual([]);
  }, 1_800_000);
});
