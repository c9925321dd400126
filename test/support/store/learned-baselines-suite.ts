import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishZtsTarget, recordZtsChunk } from '../../../activities/test-runs/record.js';
import type { TestResult } from '../../../core/results/types.js';
import type { ArtifactStore } from '../../../lib/s3.js';
import { LearnedBaselines } from '../../../lib/store/learned-baselines.js';
import { openStore } from '../../../lib/store/index.js';
import type { StoredResultInput } from '../../../lib/store/index.js';
import type { StoreEngine } from './engines.js';
import { testResult } from '../results.js';

const quiet = { logger: (await import('pino')).default({ level: 'silent' }) };
type Store = Awaited<ReturnType<typeof openStore>>;

const FLAVOR = 'debian-12';
const scope = { flavorId: FLAVOR, series: '2.2' };

function result(testId: string, outcome: TestResult['outcome']): StoredResultInput {
  return { ...testResult(testId, outcome, { durationSeconds: 3 }), classification: outcome === 'PASS' ? 'pass' : 'unexpected-fail' };
}

/** One run of the flavor on `version`, at `day` (2026-05-<day>), with these outcomes. */
async function run(store: Store, id: string, day: number, version: string, outcomes: Record<string, TestResult['outcome']>): Promise<void> {
  const startedAt = `2026-05-${String(day).padStart(2, '0')}T03:00:00Z`;
  await store.recordRun({ id, workflowId: `wf-${id}`, selection: 'suite:quick', target: FLAVOR, startedAt });
  await store.recordRunFlavor({ runId: id, flavorId: FLAVOR, kernel: '6.1.0-18-amd64', openzfsVersion: version, shardCount: 1 });
  await store.recordResults({ runId: id, flavorId: FLAVOR, results: Object.entries(outcomes).map(([t, o]) => result(`functional/a/${t}`, o)) });
}

/** The chunk results file recordZtsChunk reads, from an in-memory object store. */
function artifactsHolding(key: string, runId: string, results: TestResult[]): ArtifactStore {
  const file = {
    schema: 'zfslab.zts-chunk/v1',
    runId,
    flavorId: FLAVOR,
    shard: 1,
    chunk: 0,
    attempt: 1,
    results,
    testsLeft: [],
    cancelled: false,
    resultsTrees: [],
  };
  return {
    getText: async (k: string) => (k === key ? JSON.stringify(file) : undefined),
    putBytes: async () => ({ bytes: 0 }),
  } as unknown as ArtifactStore;
}

export function learnedBaselinesSuite(engine: StoreEngine): void {
  describe(`learned baselines on ${engine.name}`, () => {
    beforeAll(() => engine.start());
    afterAll(() => engine.stop());

    it('learns per flavor and series from history, classes accepted failures known, and expires them once they stop failing', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        const learned = new LearnedBaselines(store.db);
        await store.upsertFlavor({ id: FLAVOR, os: 'debian', release: '12', kernel: '6.1.0-18-amd64', openzfsVersion: '2.2.9' }, '2026-05-01T00:00:00Z');
        for (let day = 1; day <= 5; day++) {
          await run(store, `r${day}`, day, '2.2.9-1', {
            always: 'FAIL',
            sometimes: day % 2 === 1 ? 'FAIL' : 'PASS',
            hangs: 'KILLED',
            fine: 'PASS',
          });
        }
        // Another series on the same flavor is another baseline: its failure is not this one's evidence.
        await run(store, 'r6-2.3', 6, '2.3.2-1~bpo12+1', { always: 'PASS', fine: 'FAIL' });

        const history = await learned.history(scope);
        expect([...history.keys()].sort()).toEqual(['functional/a/always', 'functional/a/hangs', 'functional/a/sometimes']);
        expect(history.get('functional/a/always')!.stats).toMatchObject({ observedRuns: 5, failures: 5, runsSinceLastFail: 0, lastPass: undefined });
        expect(history.get('functional/a/always')!.stats.firstFail?.runId).toBe('r1');
        expect(history.get('functional/a/sometimes')!.stats).toMatchObject({ failures: 3, observedRuns: 5, runsSinceLastFail: 0 });
        expect(history.get('functional/a/sometimes')!.stats.lastPass?.runId).toBe('r4');
        expect(history.get('functional/a/hangs')!.stats.usualFailure).toBe('KILLED');
        expect((await learned.history({ flavorId: FLAVOR, series: '2.3' })).has('functional/a/fine')).toBe(true);
        expect(await learned.newestSeries(FLAVOR)).toBe('2.3');

        const acceptedAt = '2026-05-05T12:00:00.000Z';
        const base = { ...scope, reason: 'https://github.com/openzfs/zfs/issues/1', acceptedAt, acceptedBy: 'operator:test' };
        await learned.accept([
          { ...base, testId: 'functional/a/always', outcome: 'FAIL', list: 'known' },
          { ...base, testId: 'functional/a/hangs', outcome: 'KILLED', list: 'known' },
        ]);
        expect((await learned.list(scope)).map((e) => e.testId)).toEqual(['functional/a/always', 'functional/a/hangs']);
        expect(await learned.list({ flavorId: FLAVOR, series: '2.3' })).toEqual([]);

        // The next run's chunk: the accepted failures are known (never re-run), the others still regressions.
        await store.recordRun({ id: 'r7', workflowId: 'wf-r7', selection: 'suite:quick', target: FLAVOR, startedAt: '2026-05-07T03:00:00Z' });
        await store.recordRunFlavor({ runId: 'r7', flavorId: FLAVOR, kernel: '6.1.0-18-amd64', openzfsVersion: '2.2.9-1', shardCount: 1 });
        const chunk = ['always', 'hangs', 'sometimes'].map((t) => {
          const { classification: _c, ...r } = result(`functional/a/${t}`, t === 'hangs' ? 'KILLED' : 'FAIL');
          return r;
        });
        const deps = { store, artifacts: artifactsHolding('chunk-key', 'r7', chunk) };
        await recordZtsChunk({ runId: 'r7', flavorId: FLAVOR, shard: 1, resultsKey: 'chunk-key', baselineVersion: '2.2.9-1' }, deps);
        const classes = Object.fromEntries(
          (await store.getResults('r7')).map((r) => [r.testId.split('/').at(-1), [r.classification, r.resultClass, r.reason]]),
        );
        expect(classes).toEqual({
          always: ['expected-fail', 'known', 'accepted on debian-12 (2026-05-05): https://github.com/openzfs/zfs/issues/1'],
          hangs: ['expected-fail', 'known', 'accepted on debian-12 (2026-05-05): https://github.com/openzfs/zfs/issues/1'],
          sometimes: ['unexpected-fail', 'regression', undefined],
        });

        // An entry excuses the outcome it names: `always` accepted as FAIL does not excuse a KILLED `always`.
        const { classification: _unclassified, ...killed } = result('functional/a/always', 'KILLED');
        await store.recordRun({ id: 'r8', workflowId: 'wf-r8', selection: 'suite:quick', target: FLAVOR, startedAt: '2026-05-08T03:00:00Z' });
        await recordZtsChunk(
          { runId: 'r8', flavorId: FLAVOR, shard: 1, resultsKey: 'k8', baselineVersion: '2.2.9-1' },
          { store, artifacts: artifactsHolding('k8', 'r8', [killed]) },
        );
        expect((await store.getResults('r8'))[0]?.resultClass).toBe('regression');

        // Two runs in a row without the failure after acceptance: with K = 2, `always` drops out at the close.
        await run(store, 'r9', 9, '2.2.9-1', { always: 'PASS', hangs: 'KILLED' });
        const finish = (runId: string) =>
          finishZtsTarget(
            { runId, flavorId: FLAVOR, shards: [1], baselineVersion: '2.2.9-1' },
            { store, artifacts: artifactsHolding('-', runId, []), expireAfterRuns: 2, now: () => new Date('2026-05-10T00:00:00Z') },
          );
        await finish('r9');
        expect((await learned.list(scope)).map((e) => e.testId)).toEqual(['functional/a/always', 'functional/a/hangs']);
        await run(store, 'r10', 10, '2.2.9-1', { always: 'PASS', hangs: 'KILLED' });
        await finish('r10');
        expect((await learned.list(scope)).map((e) => e.testId)).toEqual(['functional/a/hangs']);
        const all = await learned.list({ ...scope, includeExpired: true });
        expect(all.map((e) => [e.testId, e.expiredAt, e.expiredWhy])).toEqual([
          ['functional/a/hangs', undefined, undefined],
          ['functional/a/always', '2026-05-10T00:00:00.000Z', 'not seen failing in 2 run(s) since it was accepted (expiry after 2)'],
        ]);

        // Named expiry; accepting again revives an expired entry.
        expect(await learned.expire([{ ...scope, testId: 'functional/a/hangs' }], '2026-05-11T00:00:00.000Z', 'fixed upstream')).toBe(1);
        expect(await learned.expire([{ ...scope, testId: 'functional/a/hangs' }], '2026-05-11T00:00:00.000Z', 'again')).toBe(0);
        expect(await learned.list(scope)).toEqual([]);
        await learned.accept([{ ...base, testId: 'functional/a/always', outcome: 'FAIL', list: 'maybe', acceptedAt: '2026-05-12T00:00:00.000Z' }]);
        expect(await learned.list(scope)).toMatchObject([{ testId: 'functional/a/always', list: 'maybe' }]);
        expect((await learned.list(scope))[0]?.expiredAt).toBeUndefined();

        await expect(learned.accept([{ ...base, testId: 'always', outcome: 'FAIL', list: 'known' }])).rejects.toThrow(/test id/);
        await expect(learned.accept([{ ...base, testId: 'functional/a/x', outcome: 'FAIL', list: 'known', reason: ' ' }])).rejects.toThrow(/reason/);
      } finally {
        await store.close();
      }
    });
  });
}
