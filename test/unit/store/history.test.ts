import { describe, expect, it } from 'vitest';
import { sqliteEngine } from '../../support/store/engines.js';
import { FLIPPER, GONE_TEST, INFRA_VICTIM, NEWLY_FAILING, readDurationTable, REGRESSED, SLOWER } from '../../support/store/history-data.js';
import { historyQueriesSuite } from '../../support/store/history-queries-suite.js';

const table = readDurationTable();

describe('the history fixture is the real table', () => {
  it('holds the 1,637 result lines of the March 2023 run: 1,599 PASS, 9 FAIL, 29 SKIP', () => {
    expect(table).toHaveLength(1637);
    expect(table.filter((r) => r.outcome === 'PASS')).toHaveLength(1599);
    expect(table.filter((r) => r.outcome === 'FAIL')).toHaveLength(9);
    expect(table.filter((r) => r.outcome === 'SKIP')).toHaveLength(29);
    // Setup/cleanup of 17 groups appear twice (common.run and linux.run sections); with the section
    // marked, every line has its own key, as the store needs.
    expect(new Set(table.map((r) => `${r.testId} ${r.kind}`)).size).toBe(1637 - 34);
    expect(new Set(table.map((r) => `${r.testId} ${r.kind} ${r.linuxSection}`)).size).toBe(1637);
    expect(table.filter((r) => r.linuxSection).map((r) => r.testId)).toContain('functional/atime/atime_003_pos');
    for (const id of [FLIPPER, SLOWER, NEWLY_FAILING, REGRESSED, GONE_TEST, INFRA_VICTIM]) {
      expect(table.some((r) => r.testId === id)).toBe(true);
    }
  });
});

// The same suite runs on PostgreSQL in test/integration/store/postgres-store.test.ts.
historyQueriesSuite(sqliteEngine());
