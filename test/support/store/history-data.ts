import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassifiedResult, TestOutcome } from '../../../core/results/types.js';
import { projectRoot } from '../../../lib/paths.js';
import type { ResultsStore, StoredResultInput } from '../../../lib/store/index.js';

/**
 * A results history for the store tests, built from REAL data: the per-test results and
 * durations of one upstream OpenZFS CI run (test/fixtures/durations, March 2023, Ubuntu 22.04,
 * common.run + linux.run, 1,637 result lines). The captured test-runner output in
 * test/fixtures/zts-output holds only a 14-script demo suite, so a realistic history still starts
 * from this table.
 *
 * Six runs on two flavors replay that table with CONTROLLED perturbations, each one a thing a
 * history query must find (and nothing else may trip it):
 *  - ±1% deterministic jitter on every duration (so "unchanged" is not "identical");
 *  - FLIPPER (really FAIL in the table) alternates FAIL/PASS run by run on ubuntu (PASS carries RERAN);
 *  - SLOWER takes 15% longer in the last ubuntu run;
 *  - NEWLY_FAILING (really PASS) fails in the last ubuntu run;
 *  - REGRESSED (really PASS) fails from the 4th debian run on;
 *  - NEW_TEST appears and GONE_TEST disappears in the last ubuntu run;
 *  - INFRA_VICTIM is KILLED by a lost VM (an infra error) in the last debian run.
 */

export const FLIPPER = 'functional/cli_root/zpool_import/import_rewind_device_replaced';
export const SLOWER = 'functional/raidz/raidz_002_pos';
export const NEWLY_FAILING = 'functional/cli_root/zpool_create/zpool_create_001_pos';
export const REGRESSED = 'functional/cli_root/zpool_scrub/zpool_scrub_002_pos';
export const NEW_TEST = 'functional/zfslab_added/added_001_pos';
export const GONE_TEST = 'functional/cli_root/zpool_scrub/zpool_scrub_004_pos';
export const INFRA_VICTIM = 'functional/mmp/mmp_active_import';
export const FLAVORS = ['ubuntu-22.04', 'debian-12'] as const;
export const RUN_IDS = ['r01', 'r02', 'r03', 'r04', 'r05', 'r06'] as const;
export const LAST = 'r06';

export interface TableRow {
  testId: string;
  group: string;
  kind: 'test' | 'setup' | 'cleanup';
  /**
   * The table has no `(Linux)` marker, but a group whose setup appears a second time is its
   * linux.run `[...:Linux]` section (upstream sorts `functional/atime` before `functional/atime:Linux`):
   * that block, up to its cleanup, is marked Linux. Linux-only groups stay unmarked.
   */
  linuxSection: boolean;
  outcome: TestOutcome;
  seconds: number;
}

export function readDurationTable(): TableRow[] {
  const text = readFileSync(join(projectRoot, 'test/fixtures/durations/zts-durations-2023-03-ubuntu22.tsv'), 'utf8');
  const rows: TableRow[] = [];
  const setupsSeen = new Set<string>();
  let linuxGroup: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('test_path\t')) continue;
    const [path, outcome, seconds] = line.split('\t');
    if (path === undefined || outcome === undefined || seconds === undefined) throw new Error(`bad line: ${line}`);
    const testId = `functional/${path}`;
    const base = testId.slice(testId.lastIndexOf('/') + 1);
    const group = testId.slice(0, testId.lastIndexOf('/'));
    if (base === 'setup') {
      linuxGroup = setupsSeen.has(testId) ? group : undefined;
      setupsSeen.add(testId);
    }
    const linuxSection = linuxGroup === group;
    if (base === 'cleanup' && linuxSection) linuxGroup = undefined;
    rows.push({
      testId,
      group,
      linuxSection,
      kind: base === 'setup' ? 'setup' : base === 'cleanup' ? 'cleanup' : 'test',
      outcome: outcome as TestOutcome,
      seconds: Number(seconds),
    });
  }
  return rows;
}

/** mulberry32: a tiny seeded PRNG, so the jitter is the same on every run of the tests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryRun {
  runId: string;
  flavorId: string;
  startedAt: string;
  results: StoredResultInput[];
}

/** The runs as plain data, so tests can compute expectations independently of the store. */
export function buildHistory(table: readonly TableRow[] = readDurationTable()): HistoryRun[] {
  const runs: HistoryRun[] = [];
  RUN_IDS.forEach((runId, runIndex) => {
    FLAVORS.forEach((flavorId, flavorIndex) => {
      const random = prng(1000 * runIndex + flavorIndex + 1);
      const isLast = runId === LAST;
      const ubuntu = flavorId === 'ubuntu-22.04';
      const results: StoredResultInput[] = [];
      for (const row of table) {
        if (isLast && ubuntu && row.testId === GONE_TEST) continue;
        let outcome = row.outcome;
        let reran = false;
        let seconds = row.seconds * (1 + (random() - 0.5) * 0.02);
        let infraError: string | undefined;
        if (row.testId === FLIPPER && ubuntu) {
          outcome = runIndex % 2 === 0 ? 'FAIL' : 'PASS';
          reran = outcome === 'PASS';
        }
        if (row.testId === SLOWER && ubuntu && isLast) seconds = row.seconds * 1.15;
        if (row.testId === NEWLY_FAILING && ubuntu && isLast) outcome = 'FAIL';
        if (row.testId === REGRESSED && !ubuntu && runIndex >= 3) outcome = 'FAIL';
        if (row.testId === INFRA_VICTIM && !ubuntu && isLast) {
          outcome = 'KILLED';
          infraError = 'VM lost: ssh connection timed out';
        }
        results.push(toResult(row, outcome, reran, seconds, infraError));
      }
      if (isLast && ubuntu) {
        results.push(
          toResult(
            { testId: NEW_TEST, group: 'functional/zfslab_added', kind: 'test', linuxSection: false, outcome: 'PASS', seconds: 4 },
            'PASS',
            false,
            4,
            undefined,
          ),
        );
      }
      runs.push({ runId, flavorId, startedAt: `2023-03-${String(10 + runIndex).padStart(2, '0')}T02:00:00.000Z`, results });
    });
  });
  return runs;
}

function toResult(row: TableRow, outcome: TestOutcome, reran: boolean, seconds: number, infraError: string | undefined): StoredResultInput {
  const failed = outcome === 'FAIL' || outcome === 'KILLED';
  const result: ClassifiedResult = {
    testId: row.testId,
    group: row.group,
    kind: row.kind,
    outcome,
    reran,
    durationSeconds: Math.round(seconds * 1000) / 1000,
    user: 'root',
    linuxSection: row.linuxSection,
    classification: outcome === 'PASS' ? 'pass' : outcome === 'SKIP' ? 'skip' : failed ? 'unexpected-fail' : 'pass',
  };
  return infraError === undefined ? result : { ...result, infraError };
}

/** Writes the history into a store: runs, flavors, hosts, and each flavor's results split over 2 shards. */
export async function loadHistory(store: ResultsStore, runs: readonly HistoryRun[] = buildHistory()): Promise<void> {
  for (const flavorId of FLAVORS) {
    await store.upsertFlavor(
      { id: flavorId, os: flavorId.split('-')[0] ?? flavorId, release: flavorId.split('-')[1] ?? '', kernel: '6.1.0', openzfsVersion: '2.1.99' },
      '2023-03-01T00:00:00Z',
    );
  }
  await store.upsertHost({ id: 'lab1', hostname: 'lab1.example', capabilities: { kvm: true }, lastSeenAt: '2023-03-01T00:00:00Z' });
  for (const run of runs) {
    if ((await store.getRun(run.runId)) === undefined) {
      await store.recordRun({ id: run.runId, selection: 'suite:linux', target: 'all', startedAt: run.startedAt });
    }
    await store.recordRunFlavor({ runId: run.runId, flavorId: run.flavorId, hostId: 'lab1', kernel: '6.1.0', openzfsVersion: '2.1.99', shardCount: 2 });
    const groups = [...new Set(run.results.map((r) => r.group))];
    for (const shard of [1, 2]) {
      const mine = new Set(groups.filter((_, i) => i % 2 === shard - 1));
      await store.recordResults({ runId: run.runId, flavorId: run.flavorId, shard, results: run.results.filter((r) => mine.has(r.group)) });
    }
  }
  for (const runId of RUN_IDS) {
    const failed = runs.some((r) => r.runId === runId && r.results.some((x) => x.outcome === 'FAIL'));
    await store.finishRun(runId, {
      status: failed ? 'failed' : 'passed',
      endedAt: `2023-03-${String(10 + RUN_IDS.indexOf(runId)).padStart(2, '0')}T07:00:00Z`,
    });
  }
}
