import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeStore } from '../../../lib/store/probes.js';
import { appliedMigrations, LATEST_MIGRATION, MIGRATIONS, openStore } from '../../../lib/store/index.js';
import type { StoredResultInput } from '../../../lib/store/index.js';
import { recordRecipeResult } from '../../../activities/test-runs/recipe.js';
import { loadRunView } from '../../../activities/test-runs/run-view.js';
import type { ArtifactStore } from '../../../lib/s3.js';
import type { StoreEngine } from './engines.js';

const quiet = { logger: (await import('pino')).default({ level: 'silent' }) };

const result = (testId: string, over: Partial<StoredResultInput> = {}): StoredResultInput => ({
  testId,
  group: testId.slice(0, testId.lastIndexOf('/')),
  kind: 'test',
  outcome: 'PASS',
  reran: false,
  durationSeconds: 3,
  user: 'root',
  linuxSection: false,
  classification: 'pass',
  ...over,
});

async function seedRun(store: Awaited<ReturnType<typeof openStore>>, runId = 'run-1') {
  await store.upsertFlavor({ id: 'debian-12', os: 'debian', release: '12', kernel: '6.1.0-18-amd64', openzfsVersion: '2.2.9' }, '2026-04-22T03:00:00Z');
  await store.recordRun({ id: runId, workflowId: `wf-${runId}`, selection: 'suite:quick', target: 'all', startedAt: '2026-04-22T03:30:00+02:00' });
}

export function resultsStoreSuite(engine: StoreEngine): void {
  describe(`results store on ${engine.name}`, () => {
    beforeAll(() => engine.start());
    afterAll(() => engine.stop());

    it('applies every migration to an empty database, and none the second time', async () => {
      const url = await engine.freshUrl();
      const store = await openStore(url, quiet);
      try {
        expect(store.dialect).toBe(engine.name);
        expect(await appliedMigrations(store.db)).toEqual(Object.keys(MIGRATIONS));
        expect(Object.keys(MIGRATIONS).at(-1)).toBe(LATEST_MIGRATION);
      } finally {
        await store.close();
      }
      const again = await openStore(url, quiet);
      try {
        expect(await appliedMigrations(again.db)).toEqual(Object.keys(MIGRATIONS));
      } finally {
        await again.close();
      }
    });

    it('upgrades a database at migration 0001 that holds data, keeping the data', async () => {
      const url = await engine.freshUrl();
      const old = await openStore(url, { ...quiet, migrateTo: '0001_init' });
      try {
        expect(await appliedMigrations(old.db)).toEqual(['0001_init']);
        await seedRun(old);
        // At 0001 there is no infra_error column: write the row the way 0001-era code did.
        await old.db
          .insertInto('test_results')
          .values({
            run_id: 'run-1',
            flavor_id: 'debian-12',
            shard: 1,
            test_id: 'functional/acl/off/dosmode',
            group_name: 'functional/acl/off',
            kind: 'test',
            linux_section: 0,
            outcome: 'FAIL',
            reran: 1,
            duration_seconds: 12.5,
            classification: 'expected-fail',
            issue_url: 'https://github.com/openzfs/zfs/issues/1',
            logged_at: null,
          })
          .execute();
        await expect(old.recordArtifactKeys([{ runId: 'run-1', flavorId: 'debian-12', name: 'log', s3Key: 'runs/run-1/debian-12/1/log' }])).rejects.toThrow();
      } finally {
        await old.close();
      }

      const store = await openStore(url, quiet);
      try {
        expect(await appliedMigrations(store.db)).toEqual([
          '0001_init',
          '0002_infra_errors_and_artifacts',
          '0003_result_reason',
          '0007_host_registry',
          '0008_crash_results',
          '0009_result_classes',
          '0010_learned_baselines',
          '0011_run_golden',
          '0012_test_probes',
        ]);
        const [kept] = await store.getResults('run-1');
        expect(kept).toMatchObject({
          testId: 'functional/acl/off/dosmode',
          outcome: 'FAIL',
          reran: true,
          durationSeconds: 12.5,
          classification: 'expected-fail',
          infraError: undefined,
          reason: undefined,
          shard: 1,
          // 0009 classes the rows it finds: an expected failure is `known`.
          resultClass: 'known',
          reruns: [],
        });
        expect((await store.getRun('run-1'))?.workflowId).toBe('wf-run-1');
        await store.recordArtifactKeys([{ runId: 'run-1', flavorId: 'debian-12', name: 'log', s3Key: 'runs/run-1/debian-12/1/log', bytes: 5_000_000_000 }]);
        expect(await store.getArtifactKeys('run-1')).toEqual([
          { runId: 'run-1', flavorId: 'debian-12', shard: 1, name: 'log', s3Key: 'runs/run-1/debian-12/1/log', bytes: 5_000_000_000 },
        ]);
      } finally {
        await store.close();
      }
    });

    it('writes each result once per (run, flavor, testId, kind), the latest attempt winning', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        const first = [
          result('functional/zpool_create/setup', { kind: 'setup' }),
          result('functional/zpool_create/zpool_create_001_pos'),
          result('functional/zpool_create/zpool_create_002_pos', { outcome: 'KILLED', classification: 'unexpected-fail' }),
          result('functional/zpool_create/cleanup', { kind: 'cleanup' }),
        ];
        expect(await store.recordResults({ runId: 'run-1', flavorId: 'debian-12', results: first })).toBe(4);
        // A retried activity reports the same batch, and a later attempt knows the KILLED one was the VM's fault.
        await store.recordResults({ runId: 'run-1', flavorId: 'debian-12', results: first });
        await store.recordResults({
          runId: 'run-1',
          flavorId: 'debian-12',
          shard: 2,
          results: [
            result('functional/zpool_create/zpool_create_002_pos', {
              outcome: 'KILLED',
              classification: 'unexpected-fail',
              infraError: 'VM lost',
              durationSeconds: 600,
            }),
          ],
        });
        const stored = await store.getResults('run-1');
        expect(stored).toHaveLength(4);
        expect(stored.find((r) => r.testId.endsWith('002_pos'))).toMatchObject({ shard: 2, infraError: 'VM lost', durationSeconds: 600, outcome: 'KILLED' });
        // A setup and a test may share an id prefix but never a row: kind is part of the key.
        expect(stored.map((r) => r.kind).sort()).toEqual(['cleanup', 'setup', 'test', 'test']);
        expect(await store.getResults('run-1', { kind: 'test' })).toHaveLength(2);
      } finally {
        await store.close();
      }
    });

    it('classes each failure, and re-runs turn a regression into a flaky test while keeping its first attempt', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        const unexpected = { outcome: 'FAIL', classification: 'unexpected-fail' } as const;
        await store.recordResults({
          runId: 'run-1',
          flavorId: 'debian-12',
          results: [
            result('functional/a/passes'),
            result('functional/a/flaky', { ...unexpected, durationSeconds: 40 }),
            result('functional/a/broken', unexpected),
            result('functional/a/known', { outcome: 'FAIL', classification: 'expected-fail' }),
            result('functional/a/panics', { outcome: 'CRASH', classification: 'unexpected-fail' }),
          ],
        });
        const classOf = async () =>
          Object.fromEntries((await store.getResults('run-1')).map((r) => [r.testId.split('/').at(-1), [r.resultClass, r.reruns.join(',')]]));
        expect(await classOf()).toEqual({
          passes: [undefined, ''],
          flaky: ['regression', ''],
          broken: ['regression', ''],
          known: ['known', ''],
          panics: ['crash', ''],
        });
        const rerun = (testId: string, outcome: 'PASS' | 'FAIL') => ({ testId: `functional/a/${testId}`, linuxSection: false, outcome });
        expect(await store.recordReruns({ runId: 'run-1', flavorId: 'debian-12', results: [rerun('flaky', 'FAIL'), rerun('broken', 'FAIL')] })).toBe(2);
        expect(
          await store.recordReruns({
            runId: 'run-1',
            flavorId: 'debian-12',
            results: [rerun('flaky', 'PASS'), rerun('broken', 'FAIL'), rerun('nowhere', 'PASS')],
          }),
        ).toBe(2);
        expect(await classOf()).toMatchObject({ flaky: ['flaky', 'FAIL,PASS'], broken: ['regression', 'FAIL,FAIL'] });
        // The row is the first attempt's: outcome and duration are not the re-run's.
        expect((await store.getResults('run-1')).find((r) => r.testId.endsWith('/flaky'))).toMatchObject({ outcome: 'FAIL', durationSeconds: 40 });
        // One run is evidence enough for the flaky list: the test failed and passed on the same image.
        expect((await store.flakyTests()).map((f) => [f.testId, f.passedOnRerun, f.flips])).toEqual([['functional/a/flaky', 1, 0]]);
      } finally {
        await store.close();
      }
    });

    it('keeps a group setup of the common.run section and of its linux.run section apart', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        // Upstream's full run has functional/atime/setup twice: `Test:` and `Test (Linux):`.
        const common = result('functional/atime/setup', { kind: 'setup', durationSeconds: 1 });
        const linux = result('functional/atime/setup', { kind: 'setup', linuxSection: true, durationSeconds: 2 });
        await store.recordResults({
          runId: 'run-1',
          flavorId: 'debian-12',
          results: [common, linux, { ...linux, outcome: 'FAIL', classification: 'unexpected-fail' }],
        });
        const stored = await store.getResults('run-1');
        expect(stored.map((r) => [r.linuxSection, r.durationSeconds, r.outcome])).toEqual([
          [false, 1, 'PASS'],
          [true, 2, 'FAIL'],
        ]);
      } finally {
        await store.close();
      }
    });

    it('keeps infra errors apart from test failures in a run, and records run status, hosts and artifact keys idempotently', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        await store.upsertHost({ id: 'lab1', hostname: 'lab1.lan', capabilities: { kvm: true }, lastSeenAt: '2026-04-22T03:00:00Z' });
        await store.recordRunFlavor({ runId: 'run-1', flavorId: 'debian-12', hostId: 'lab1', kernel: '6.1.0-18-amd64', openzfsVersion: '2.2.9' });
        await store.recordRunFlavor({
          runId: 'run-1',
          flavorId: 'debian-12',
          hostId: 'lab1',
          kernel: '6.1.0-18-amd64',
          openzfsVersion: '2.2.9',
          shardCount: 2,
          golden: 'debian-12-ztest-0123456789abcdef',
        });
        // The golden a flavor ran on is kept with what it ran (the second write of the key wins).
        expect(await store.db.selectFrom('run_flavors').select(['shard_count', 'golden']).where('run_id', '=', 'run-1').execute()).toEqual([
          { shard_count: 2, golden: 'debian-12-ztest-0123456789abcdef' },
        ]);
        await store.recordResults({
          runId: 'run-1',
          flavorId: 'debian-12',
          results: [
            result('functional/a/a_001_pos'),
            result('functional/a/a_002_neg', { outcome: 'FAIL', classification: 'unexpected-fail' }),
            result('functional/a/a_003_pos', { outcome: 'KILLED', classification: 'unexpected-fail', infraError: 'qemu exited' }),
          ],
        });
        await store.finishRun('run-1', { status: 'infra-error', endedAt: '2026-04-22T05:00:00Z' });
        const run = await store.getRun('run-1');
        // Stored as UTC text whatever offset the caller used.
        expect(run).toMatchObject({ status: 'infra-error', startedAt: '2026-04-22T01:30:00.000Z', endedAt: '2026-04-22T05:00:00.000Z' });
        const [point] = await store.passRateTrend();
        expect(point).toMatchObject({ total: 3, passed: 1, failed: 1, killed: 0, infraErrors: 1, passRate: 0.5 });
        const keys = [
          { runId: 'run-1', flavorId: 'debian-12', shard: 1, name: 'console', s3Key: 'runs/run-1/debian-12/1/console.log', bytes: 10 },
          { runId: 'run-1', flavorId: 'debian-12', shard: 1, name: 'console', s3Key: 'runs/run-1/debian-12/1/console.log', bytes: 20 },
        ];
        await store.recordArtifactKeys(keys.slice(0, 1));
        await store.recordArtifactKeys(keys.slice(1));
        expect(await store.getArtifactKeys('run-1')).toEqual([keys[1]]);
        expect((await store.listRuns({ status: 'infra-error' })).map((r) => r.id)).toEqual(['run-1']);
        await expect(store.finishRun('nope', { status: 'passed', endedAt: '2026-04-22T05:00:00Z' })).rejects.toThrow(/no run nope/);
      } finally {
        await store.close();
      }
    });

    it("records a recipe's verdict like a test's: what it ran on, one recipe/<name> row with its crash, its artifacts", async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await store.recordRun({ id: 'rec-1', workflowId: 'wf-rec-1', selection: 'recipe:panic', target: 'all', startedAt: '2026-05-01T03:00:00Z' });
        const puts: string[] = [];
        const artifacts = {
          putBytes: async (key: string) => (puts.push(key), { key, uri: `s3://b/${key}`, bytes: 42 }),
          uri: (key: string) => `s3://b/${key}`,
        } as unknown as ArtifactStore;
        const crash = {
          kind: 'panic' as const,
          headline: 'Kernel panic - not syncing: sysrq triggered crash',
          signature: 'ffa0d05bddd04652',
          consoleKey: 'runs/rec-1/debian13/recipe/console.log',
        };
        const input = {
          runId: 'rec-1',
          flavor: { id: 'debian13', os: 'debian', release: '13' },
          hostId: 'lab1',
          recipe: 'panic.sh',
          outcome: 'CRASH' as const,
          exitCode: null,
          durationSeconds: 4.5,
          bootSeconds: 66,
          crash,
          outputKey: 'runs/rec-1/debian13/recipe/output.log',
          outputBytes: 120,
          golden: { name: 'debian13-ztest-d7e26597236798bc', kernelRelease: '6.12.48+deb13-amd64', openzfsVersion: '2.3.9' },
        };
        const out = await recordRecipeResult(input, { store, artifacts, now: () => new Date('2026-05-01T03:05:00Z') });
        // Twice (a retried activity): still one row.
        await recordRecipeResult(input, { store, artifacts, now: () => new Date('2026-05-01T03:05:00Z') });
        expect(out).toEqual({
          testId: 'recipe/panic',
          outputUri: 's3://b/runs/rec-1/debian13/recipe/output.log',
          resultUri: 's3://b/runs/rec-1/debian13/recipe/result.json',
          consoleUri: 's3://b/runs/rec-1/debian13/recipe/console.log',
        });
        expect(puts).toContain('runs/rec-1/debian13/recipe/result.json');
        const results = await store.getResults('rec-1');
        expect(results).toHaveLength(1);
        expect(results[0]).toMatchObject({
          testId: 'recipe/panic',
          group: 'recipe',
          outcome: 'CRASH',
          resultClass: 'crash',
          crash: { kind: 'panic', signature: crash.signature },
        });
        const view = (await loadRunView(store, 'rec-1'))!;
        expect(view.flavors.map((f) => [f.meta.id, f.meta.kernel, f.meta.openzfsVersion, f.golden, f.hostId])).toEqual([
          ['debian13', '6.12.48+deb13-amd64', '2.3.9', 'debian13-ztest-d7e26597236798bc', 'lab1'],
        ]);
        expect(view.artifacts.map((a) => a.name).sort()).toEqual(['recipe-console', 'recipe-output', 'recipe-result']);
        // The history of a recipe is a test's history.
        expect((await store.testMilestones('recipe/panic')).map((m) => [m.flavorId, m.lastOutcome])).toEqual([['debian13', 'CRASH']]);
      } finally {
        await store.close();
      }
    });

    it('keeps what the probes saw per script: zio per type, txg per pool, ARC and SPL; a re-record upserts', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        const probes = new ProbeStore(store.db);
        const script = {
          testId: 'functional/scrub_mirror/scrub_mirror_001_pos',
          startMs: 1000,
          endMs: 9000,
          zio: {
            write: {
              count: 4,
              p50Seconds: 2e-6,
              p95Seconds: 3e-3,
              p99Seconds: 4e-3,
              maxSeconds: 4.2e-3,
              buckets: [{ min: 4096, max: 8191, count: 4 }],
              windows: [{ atMs: 3000, buckets: [{ min: 4096, max: 8191, count: 4 }] }],
            },
            scrub: { count: 5_000_000_000, buckets: [], windows: [] },
          },
          txg: { testpool: { count: 2, p50Seconds: 0.02, p95Seconds: 0.2, p99Seconds: 0.2, maxSeconds: 0.2, totalSeconds: 0.22, writtenBytes: 110 } },
          arc: { hits: 7, misses: 4, hitRatio: 7 / 11, evictedBytes: 512, sizes: { mru: 110 } },
          spl: { memoryThrottles: 0, directReclaims: 0, indirectReclaims: 0, slabAllocBytesMax: 200 },
        };
        expect(await probes.record({ runId: 'run-1', flavorId: 'debian-12', shard: 1 }, [script])).toBe(5);
        expect(await probes.record({ runId: 'run-1', flavorId: 'debian-12', shard: 1 }, [{ ...script, arc: { ...script.arc, hits: 8 } }])).toBe(5);
        const rows = await probes.forRun('run-1');
        expect(rows.map((r) => [r.probe, r.series, r.count])).toEqual([
          ['arc', '', 12],
          ['spl', '', 0],
          ['txg', 'testpool', 2],
          ['zio', 'scrub', 5_000_000_000],
          ['zio', 'write', 4],
        ]);
        const write = rows.find((r) => r.series === 'write')!;
        expect(write).toMatchObject({ p50Seconds: 2e-6, p99Seconds: 4e-3, maxSeconds: 4.2e-3, shard: 1 });
        expect(write.detail).toMatchObject({ startMs: 1000, windows: [{ atMs: 3000 }] });
        expect(rows.find((r) => r.series === 'scrub')!.p50Seconds).toBeUndefined();
        expect(await probes.forRun('run-1', { probe: 'txg' })).toHaveLength(1);
        expect(await probes.forRun('other-run')).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('rejects invalid input at the boundary', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await seedRun(store);
        await expect(store.recordResults({ runId: 'run-1', flavorId: 'debian-12', results: [result('x/y', { outcome: 'RERAN' as never })] })).rejects.toThrow();
        await expect(store.recordRun({ id: 'r', selection: 's', target: 't', startedAt: 'yesterday' })).rejects.toThrow();
        // A result for a run that was never recorded violates the foreign key on both engines.
        await expect(store.recordResults({ runId: 'ghost', flavorId: 'debian-12', results: [result('functional/a/a_001_pos')] })).rejects.toThrow();
        expect(await store.getResults('run-1')).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });
}
