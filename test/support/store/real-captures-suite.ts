import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributeFailsafes, openStore } from '../../../lib/store/index.js';
import type { ResultsStore } from '../../../lib/store/index.js';
import type { StoreEngine } from './engines.js';
import { readCapture } from './real-captures.js';

// Four flavors ran the demo suite with four real test-runner releases; the 2.3.2 flavor ran it a
// second time without TMPDIR, where that runner breaks every script (see the fixture README).
const FLAVOR_OF: Record<string, string> = {
  '2.1.11': 'debian-12',
  '2.3.2': 'debian-12-backports',
  '2.3.9': 'debian-13',
  '2.4.4': 'debian-13-backports',
};
const first = Object.keys(FLAVOR_OF).map((version) => readCapture(version, 'demo'));
const broken = readCapture('2.3.2', 'demo-no-tmpdir');

export function realCapturesSuite(engine: StoreEngine): void {
  describe(`real captured runs in the store on ${engine.name}`, () => {
    let store: ResultsStore;
    beforeAll(async () => {
      await engine.start();
      store = await openStore(await engine.freshUrl(), { logger: pino({ level: 'silent' }) });
      for (const [version, flavorId] of Object.entries(FLAVOR_OF)) {
        await store.upsertFlavor({ id: flavorId, os: 'debian', release: flavorId.slice(7), kernel: '6.1.0', openzfsVersion: version }, '2026-11-26T00:00:00Z');
      }
      await store.recordRun({ id: 'cap-1', selection: 'runfile:demo.run', target: 'all', startedAt: first[0]!.startedAt });
      for (const capture of first) {
        await store.recordResults({ runId: 'cap-1', flavorId: FLAVOR_OF[capture.version]!, results: capture.results });
      }
      await store.recordRun({ id: 'cap-2', selection: 'runfile:demo.run', target: 'debian-12-backports', startedAt: broken.startedAt });
      await store.recordResults({ runId: 'cap-2', flavorId: 'debian-12-backports', results: broken.results });
    });
    afterAll(async () => {
      await store?.close();
      await engine.stop();
    });

    it('stores every parsed line and reads it back unchanged (the failsafe keyed by the test it followed)', async () => {
      for (const capture of first) {
        const stored = await store.getResults('cap-1', { flavorId: FLAVOR_OF[capture.version]! });
        const expected = attributeFailsafes(capture.results).map((r) => ({
          testId: r.testId,
          group: r.group,
          kind: r.kind,
          outcome: r.outcome,
          reran: r.reran,
          durationSeconds: r.durationSeconds,
          classification: r.classification,
          linuxSection: r.linuxSection,
          loggedAt: r.loggedAt,
          issueUrl: r.issueUrl,
          reason: r.reason,
        }));
        const key = (r: { testId: string; kind: string }) => `${r.testId} ${r.kind}`;
        expect(
          stored
            .map((r) => ({
              testId: r.testId,
              group: r.group,
              kind: r.kind,
              outcome: r.outcome,
              reran: r.reran,
              durationSeconds: r.durationSeconds,
              classification: r.classification,
              linuxSection: r.linuxSection,
              loggedAt: r.loggedAt,
              issueUrl: r.issueUrl,
              reason: r.reason,
            }))
            .sort((a, b) => key(a).localeCompare(key(b))),
        ).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
        const failsafe = stored.find((r) => r.kind === 'failsafe');
        expect(failsafe).toMatchObject({ testId: 'functional/hang/hang_001_pos', group: 'functional/hang', outcome: 'PASS' });
      }
    });

    it("counts each run like the runner's own Results Summary", async () => {
      const trend = await store.passRateTrend();
      for (const capture of [...first, broken]) {
        const runId = capture === broken ? 'cap-2' : 'cap-1';
        const point = trend.find((p) => p.runId === runId && p.flavorId === FLAVOR_OF[capture.version]);
        const summary = capture.summary;
        expect(summary, `${capture.version}/${capture.case} has a summary`).toBeDefined();
        expect(point).toMatchObject({
          total: summary!.total,
          passed: summary!.counts.PASS,
          failed: summary!.counts.FAIL,
          skipped: summary!.counts.SKIP,
          killed: summary!.counts.KILLED,
          infraErrors: 0,
        });
      }
      // 2.3.2 demo: 8 PASS, 2 FAIL, 3 SKIP, 1 KILLED (the runner printed "Percent passed: 57.1%", of all 14 scripts).
      expect(trend.find((p) => p.runId === 'cap-1' && p.flavorId === 'debian-12-backports')).toMatchObject({ total: 14, passed: 8, passRate: 8 / 11 });
    });

    it('diffs the good run against the broken one and dates the breakage', async () => {
      const diff = await store.diffRuns('cap-1', 'cap-2', { flavorId: 'debian-12-backports' });
      const ids = (list: { testId: string; kind: string }[]) => list.map((e) => `${e.kind} ${e.testId}`);
      expect(ids(diff.newlyFailing)).toEqual([
        'cleanup functional/demo/cleanup',
        'setup functional/demo/setup',
        'cleanup functional/hang/cleanup',
        'setup functional/hang/setup',
        'test functional/linuxonly/linux_001_pos',
        'cleanup functional/setupfail/cleanup',
      ]);
      expect(ids(diff.stillFailing)).toEqual(['setup functional/setupfail/setup']);
      expect(diff.recovered).toEqual([]);
      expect(ids(diff.gone)).toEqual(['failsafe functional/hang/hang_001_pos']);
      expect(diff.new).toEqual([]);
      // FAIL→SKIP, KILLED→SKIP, PASS→SKIP, SKIP→SKIP: changed, but neither a new failure nor a recovery.
      expect(diff.unchanged).toBe(6);

      const [milestone] = await store.testMilestones('functional/linuxonly/linux_001_pos', { flavorId: 'debian-12-backports' });
      expect(milestone).toMatchObject({ lastPass: { runId: 'cap-1' }, firstFail: { runId: 'cap-2' }, lastOutcome: 'FAIL' });
    });
  });
}
