import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../lib/store/index.js';
import type { ResultsStore } from '../../../lib/store/index.js';
import type { StoreEngine } from './engines.js';
import {
  buildHistory,
  FLAVORS,
  FLIPPER,
  GONE_TEST,
  INFRA_VICTIM,
  LAST,
  loadHistory,
  NEW_TEST,
  NEWLY_FAILING,
  readDurationTable,
  REGRESSED,
  RUN_IDS,
  SLOWER,
} from './history-data.js';
import type { HistoryRun } from './history-data.js';

// History from the real March 2023 upstream CI run plus controlled perturbations (see history-data.ts).
const table = readDurationTable();
const history = buildHistory(table);
const runOf = (runId: string, flavorId: string): HistoryRun => {
  const run = history.find((r) => r.runId === runId && r.flavorId === flavorId);
  if (run === undefined) throw new Error(`no ${runId}/${flavorId}`);
  return run;
};
const durationOf = (runId: string, flavorId: string, testId: string): number => {
  const found = runOf(runId, flavorId).results.find((r) => r.testId === testId && r.kind === 'test');
  if (found === undefined) throw new Error(`no ${testId} in ${runId}/${flavorId}`);
  return found.durationSeconds;
};
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export function historyQueriesSuite(engine: StoreEngine): void {
  describe(`history queries on ${engine.name}`, () => {
    let store: ResultsStore;
    beforeAll(async () => {
      await engine.start();
      store = await openStore(await engine.freshUrl(), { logger: pino({ level: 'silent' }) });
      await loadHistory(store, history);
    });
    afterAll(async () => {
      await store?.close();
      await engine.stop();
    });

    it('pass-rate trend: one point per flavor per run, counted like the runner', async () => {
      const trend = await store.passRateTrend();
      expect(trend).toHaveLength(RUN_IDS.length * FLAVORS.length);
      for (const point of trend) {
        const { results } = runOf(point.runId, point.flavorId);
        const clean = results.filter((r) => r.infraError === undefined);
        const count = (o: string) => clean.filter((r) => r.outcome === o).length;
        expect(point).toMatchObject({
          total: results.length,
          passed: count('PASS'),
          failed: count('FAIL'),
          killed: count('KILLED'),
          skipped: count('SKIP'),
          infraErrors: results.length - clean.length,
        });
        expect(point.passRate).toBeCloseTo(count('PASS') / (count('PASS') + count('FAIL') + count('KILLED')), 12);
      }
      // The untouched first run is the real upstream run: 1599 of 1608 executed passed.
      const first = trend.find((p) => p.runId === 'r01' && p.flavorId === 'ubuntu-22.04');
      expect(first).toMatchObject({ total: 1637, passed: 1599, failed: 9, skipped: 29, infraErrors: 0 });
      expect(first?.passRate).toBeCloseTo(1599 / 1608, 12);
      expect(trend.find((p) => p.runId === LAST && p.flavorId === 'debian-12')).toMatchObject({ killed: 0, infraErrors: 1 });

      const recent = await store.passRateTrend({ flavorId: 'ubuntu-22.04', lastRuns: 3 });
      expect(recent.map((p) => `${p.flavorId}/${p.runId}`)).toEqual(['ubuntu-22.04/r04', 'ubuntu-22.04/r05', 'ubuntu-22.04/r06']);
      const testsOnly = await store.passRateTrend({ kinds: ['test'], lastRuns: 1, flavorId: 'debian-12' });
      expect(testsOnly[0]?.total).toBe(runOf(LAST, 'debian-12').results.filter((r) => r.kind === 'test').length);
    });

    it('flaky tests: only the alternating test flips often; one-way changes are not flaky', async () => {
      const flaky = await store.flakyTests({ lastRuns: 6 });
      expect(flaky).toEqual([
        {
          flavorId: 'ubuntu-22.04',
          testId: FLIPPER,
          group: 'functional/cli_root/zpool_import',
          observedRuns: 6,
          failures: 3,
          flips: 5,
          flipRate: 1,
          reruns: 3,
          passedOnRerun: 0,
          lastOutcome: 'PASS',
        },
      ]);
      const oneFlip = await store.flakyTests({ lastRuns: 6, minFlips: 1 });
      expect(oneFlip.map((f) => `${f.flavorId} ${f.testId} ${f.flips}`)).toEqual([
        `ubuntu-22.04 ${FLIPPER} 5`,
        `debian-12 ${REGRESSED} 1`,
        `ubuntu-22.04 ${NEWLY_FAILING} 1`,
      ]);
      // The infra-killed test is not evidence against the test.
      expect(oneFlip.some((f) => f.testId === INFRA_VICTIM)).toBe(false);
      const window = await store.flakyTests({ lastRuns: 3, flavorId: 'ubuntu-22.04' });
      expect(window.map((f) => [f.testId, f.observedRuns, f.flips])).toEqual([[FLIPPER, 3, 2]]);
    });

    it('first fail and last pass per flavor', async () => {
      const newly = await store.testMilestones(NEWLY_FAILING);
      expect(newly.map((m) => [m.flavorId, m.lastOutcome, m.lastPass?.runId, m.firstFail?.runId])).toEqual([
        ['debian-12', 'PASS', 'r06', undefined],
        ['ubuntu-22.04', 'FAIL', 'r05', 'r06'],
      ]);
      const [regressed] = await store.testMilestones(REGRESSED, { flavorId: 'debian-12' });
      expect(regressed).toMatchObject({
        runs: 6,
        lastPass: { runId: 'r03', startedAt: '2023-03-12T02:00:00.000Z' },
        firstFail: { runId: 'r04', startedAt: '2023-03-13T02:00:00.000Z' },
        firstFailEver: { runId: 'r04' },
        lastFail: { runId: 'r06' },
      });
      const [flipper] = await store.testMilestones(FLIPPER, { flavorId: 'ubuntu-22.04' });
      expect(flipper).toMatchObject({ lastPass: { runId: 'r06' }, firstFail: undefined, firstFailEver: { runId: 'r01' }, lastFail: { runId: 'r05' } });
      const [victim] = await store.testMilestones(INFRA_VICTIM, { flavorId: 'debian-12' });
      expect(victim).toMatchObject({ lastOutcome: 'KILLED', lastPass: { runId: 'r05' }, firstFail: undefined, firstFailEver: undefined });
      expect(await store.testMilestones('functional/no/such_test')).toEqual([]);
    });

    it('duration drift per test: only the 15% slower test crosses 10%, against the last run and the median', async () => {
      const drift = await store.durationDrift({ runId: LAST, threshold: 0.1 });
      expect(drift.map((d) => `${d.flavorId} ${d.subject}`)).toEqual([`ubuntu-22.04 ${SLOWER}`]);
      const [slower] = drift;
      const now = durationOf(LAST, 'ubuntu-22.04', SLOWER);
      const previous = ['r05', 'r04', 'r03', 'r02', 'r01'].map((r) => durationOf(r, 'ubuntu-22.04', SLOWER));
      expect(slower?.seconds).toBeCloseTo(now, 9);
      expect(slower?.lastRunId).toBe('r05');
      expect(slower?.lastSeconds).toBeCloseTo(previous[0] as number, 9);
      expect(slower?.samples).toBe(5);
      expect(slower?.medianSeconds).toBeCloseTo(median(previous), 9);
      expect(slower?.changeVsLast).toBeCloseTo(now / (previous[0] as number) - 1, 9);
      expect(slower?.changeVsMedian).toBeCloseTo(now / median(previous) - 1, 9);
      expect(slower?.changeVsMedian).toBeGreaterThan(0.12);
      expect(slower?.changeVsMedian).toBeLessThan(0.18);
      expect(slower).toMatchObject({ exceedsVsLast: true, exceedsVsMedian: true });

      expect(await store.durationDrift({ runId: LAST, threshold: 0.2 })).toEqual([]);
      const both = await store.durationDrift({ runId: LAST, testId: SLOWER, all: true });
      expect(both.map((d) => [d.flavorId, d.exceedsVsMedian])).toEqual([
        ['ubuntu-22.04', true],
        ['debian-12', false],
      ]);
      expect(Math.abs(both[1]?.changeVsMedian ?? 1)).toBeLessThan(0.03);
      // A run with no earlier history has nothing to compare with.
      expect(await store.durationDrift({ runId: 'r01', all: true, testId: SLOWER })).toMatchObject([
        { samples: 0, changeVsLast: undefined, changeVsMedian: undefined, exceedsVsLast: false },
        { samples: 0, changeVsLast: undefined },
      ]);
    });

    it('duration drift per group sums the group scripts of each run', async () => {
      const groupSeconds = (runId: string, group: string) =>
        runOf(runId, 'ubuntu-22.04')
          .results.filter((r) => r.group === group)
          .reduce((sum, r) => sum + r.durationSeconds, 0);
      const [raidz] = await store.durationDrift({ runId: LAST, by: 'group', group: 'functional/raidz', flavorId: 'ubuntu-22.04', all: true });
      expect(raidz?.subject).toBe('functional/raidz');
      expect(raidz?.seconds).toBeCloseTo(groupSeconds(LAST, 'functional/raidz'), 6);
      expect(raidz?.changeVsLast).toBeCloseTo(groupSeconds(LAST, 'functional/raidz') / groupSeconds('r05', 'functional/raidz') - 1, 6);
      const flagged = await store.durationDrift({ runId: LAST, by: 'group', flavorId: 'ubuntu-22.04', threshold: 0.05 });
      expect(flagged.map((d) => d.subject)).toContain('functional/raidz');
      for (const d of flagged) {
        expect(d.changeVsLast).toBeCloseTo(groupSeconds(LAST, d.subject) / groupSeconds('r05', d.subject) - 1, 6);
      }
      // The new group has no history, so it is never reported as drift.
      expect(flagged.some((d) => d.subject === 'functional/zfslab_added')).toBe(false);
    });

    it('diff of two runs: still-failing, newly-failing, recovered, new, gone', async () => {
      const diff = await store.diffRuns('r05', LAST);
      const realFails = table.filter((r) => r.outcome === 'FAIL').map((r) => r.testId);
      const names = (list: { flavorId: string; testId: string }[]) => list.map((e) => `${e.flavorId} ${e.testId}`);
      expect(names(diff.newlyFailing)).toEqual([`ubuntu-22.04 ${NEWLY_FAILING}`]);
      expect(diff.newlyFailing[0]).toMatchObject({ base: 'PASS', head: 'FAIL', kind: 'test' });
      expect(names(diff.recovered)).toEqual([`ubuntu-22.04 ${FLIPPER}`]);
      expect(names(diff.new)).toEqual([`ubuntu-22.04 ${NEW_TEST}`]);
      expect(diff.new[0]).toMatchObject({ base: undefined, head: 'PASS' });
      expect(names(diff.gone)).toEqual([`ubuntu-22.04 ${GONE_TEST}`]);
      expect(names(diff.stillFailing).sort()).toEqual(
        [...realFails.map((t) => `debian-12 ${t}`), `debian-12 ${REGRESSED}`, ...realFails.filter((t) => t !== FLIPPER).map((t) => `ubuntu-22.04 ${t}`)].sort(),
      );
      const common = runOf('r05', 'ubuntu-22.04').results.length - 1 + runOf('r05', 'debian-12').results.length;
      expect(diff.unchanged).toBe(common - diff.stillFailing.length - diff.newlyFailing.length - diff.recovered.length);
      // The infra-killed test is not a new failure.
      expect(names(diff.newlyFailing)).not.toContain(`debian-12 ${INFRA_VICTIM}`);

      const debianOnly = await store.diffRuns('r03', 'r04', { flavorId: 'debian-12' });
      expect(names(debianOnly.newlyFailing)).toEqual([`debian-12 ${REGRESSED}`]);
      expect(debianOnly.new).toEqual([]);
    });
  });
}
