import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storePanelQueries } from '../../../dashboards/queries/results-store.js';
import type { SqlDialect } from '../../../dashboards/queries/results-store.js';
import type { ResultsStore } from '../../../lib/store/index.js';
import { fillCapturedHistory as fill } from '../store/captured-history.js';

/**
 * A results store as a dashboard sees it: `store` is zfslab's own connection (which writes), `query`
 * runs SQL the way Grafana's datasource does (on PostgreSQL, as the read-only Grafana role).
 */
export interface DashboardStore {
  store: ResultsStore;
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** The panels' connection may only read (PostgreSQL's Grafana role). */
  readOnly?: boolean;
  close(): Promise<void>;
}

const num = (v: unknown): number => Number(v);

export function storeQueriesSuite(name: string, dialect: SqlDialect, open: () => Promise<DashboardStore>): void {
  describe(`the dashboards' SQL panels on ${name}`, () => {
    let db: DashboardStore;
    beforeAll(async () => {
      db = await open();
      await fill(db.store);
    });
    afterAll(async () => {
      await db?.close();
    });

    it.each(storePanelQueries(dialect).map((q) => [q.panel, q] as const))('%s: runs and returns exactly the columns the panel reads', async (_panel, query) => {
      const rows = await db.query(query.sql);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(Object.keys(row)).toEqual([...query.columns]);
    });

    it('reads through a connection that cannot write, where the store has one', async (context) => {
      if (db.readOnly !== true) context.skip();
      await expect(db.query("DELETE FROM runs WHERE id = 'cap-1'")).rejects.toThrow(/permission denied/);
      await expect(db.query("UPDATE test_results SET outcome = 'PASS'")).rejects.toThrow(/permission denied/);
    });

    it("the matrix shows each flavor's latest run, with the store's own counts per group and the run's log", async () => {
      const [matrix] = storePanelQueries(dialect);
      const rows = await db.query(matrix!.sql);
      const runOf = (flavor: string) => new Set(rows.filter((r) => r.flavor === flavor).map((r) => r.run));
      expect(runOf('debian-13')).toEqual(new Set(['cap-2']));
      expect(runOf('debian-12-backports')).toEqual(new Set(['cap-3']));
      expect(runOf('debian-12')).toEqual(new Set(['cap-1']));
      for (const [flavor, run] of [
        ['debian-13', 'cap-2'],
        ['debian-12-backports', 'cap-3'],
        ['debian-12', 'cap-1'],
      ] as const) {
        const results = (await db.store.getResults(run, { flavorId: flavor, kind: 'test' })).filter((r) => r.infraError === undefined);
        for (const row of rows.filter((r) => r.flavor === flavor)) {
          const inGroup = results.filter((r) => r.group === row.group);
          expect(num(row.passed), `${flavor} ${String(row.group)}`).toBe(inGroup.filter((r) => r.outcome === 'PASS').length);
          expect(num(row.failed), `${flavor} ${String(row.group)}`).toBe(inGroup.filter((r) => r.outcome === 'FAIL' || r.outcome === 'KILLED').length);
          const unexpected = inGroup.some((r) => r.classification === 'unexpected-fail');
          if (unexpected) expect(row.state).toBe('FAIL');
          else if (inGroup.every((r) => r.outcome === 'PASS')) expect(row.state).toBe('PASS');
        }
      }
      expect(rows.filter((r) => r.flavor === 'debian-13').every((r) => r.log_key === 'runs/cap-2/debian-13/shard-1/log')).toBe(true);
      expect(rows.filter((r) => r.flavor === 'debian-12').every((r) => r.log_key === null)).toBe(true);
      // The broken run failed every script: no cell of it may read PASS.
      expect(rows.filter((r) => r.flavor === 'debian-12-backports').some((r) => r.state === 'PASS')).toBe(false);
    });

    it("the trend is the store's own pass rate of every run of every flavor", async () => {
      const [, trend] = storePanelQueries(dialect);
      const rows = await db.query(trend!.sql);
      const expected = (await db.store.passRateTrend({ lastRuns: 100 })).filter((p) => p.passRate !== undefined);
      expect(rows).toHaveLength(expected.length);
      for (const point of expected) {
        const row = rows.find(
          (r) => r.flavor === point.flavorId && new Date(r.time as string | Date).toISOString() === new Date(point.startedAt).toISOString(),
        );
        expect(row, `${point.flavorId} ${point.startedAt}`).toBeDefined();
        expect(num(row!.pass_rate)).toBeCloseTo(point.passRate!, 9);
      }
    });

    it('drift compares the latest pass of a test with its earlier passes only', async () => {
      const [, , drift] = storePanelQueries(dialect);
      const rows = await db.query(drift!.sql);
      // debian-12-backports' earlier run passed nothing its latest passed; only debian-13 has a history.
      expect(new Set(rows.map((r) => r.flavor))).toEqual(new Set(['debian-13']));
      const passedLatest = (await db.store.getResults('cap-2', { flavorId: 'debian-13', kind: 'test' })).filter((r) => r.outcome === 'PASS');
      expect(rows.map((r) => r.test).sort()).toEqual(passedLatest.map((r) => r.testId).sort());
      for (const row of rows) {
        expect(num(row.latest_seconds)).toBe(3);
        expect(num(row.mean_seconds)).toBeCloseTo(0.5, 9);
        expect(num(row.ratio)).toBeCloseTo(6, 9);
        expect(num(row.runs)).toBe(2);
      }
    });
  });
}

export const silentLogger = pino({ level: 'silent' });
