import type { Kysely } from 'kysely';
import type { ScriptKind, TestOutcome } from '../../core/results/types.js';
import type { StoreDatabase } from './schema.js';
import { median } from '../../core/stats/median.js';

/**
 * History queries over the results store. SQL does the filtering and the per-run aggregation
 * (the same Kysely query on SQLite and PostgreSQL); what needs ordering within a series (flips,
 * streaks, medians) is done here on the few rows that come back, which keeps the SQL portable.
 *
 * Shared vocabulary: a result *fails* when it is FAIL or KILLED and the infrastructure is not to
 * blame (no infra error). Infra errors are counted on their own and never make a test look flaky
 * or broken.
 */

export interface RunRef {
  runId: string;
  startedAt: string;
}

type State = 'pass' | 'fail' | 'skip' | 'infra';

function stateOf(outcome: TestOutcome, infraError: string | null): State {
  if (infraError !== null) return 'infra';
  if (outcome === 'PASS') return 'pass';
  if (outcome === 'SKIP') return 'skip';
  return 'fail';
}

/** PostgreSQL returns bigint aggregates as strings; SQLite returns numbers. */
function toNumber(value: unknown): number {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n)) throw new Error(`results store: expected a number, got ${String(value)}`);
  return n;
}

/** Runs in which each flavor has results, newest first, at most `limit` per flavor. */
async function recentRunsPerFlavor(db: Kysely<StoreDatabase>, options: { limit: number; flavorId?: string; before?: string }): Promise<Map<string, RunRef[]>> {
  let query = db
    .selectFrom('test_results as r')
    .innerJoin('runs', 'runs.id', 'r.run_id')
    .select(['r.flavor_id as flavorId', 'r.run_id as runId', 'runs.started_at as startedAt'])
    .distinct();
  if (options.flavorId !== undefined) query = query.where('r.flavor_id', '=', options.flavorId);
  if (options.before !== undefined) query = query.where('runs.started_at', '<', options.before);
  const rows = await query.orderBy('runs.started_at', 'desc').orderBy('r.run_id', 'desc').execute();
  const perFlavor = new Map<string, RunRef[]>();
  for (const row of rows) {
    const list = perFlavor.get(row.flavorId) ?? [];
    if (list.length < options.limit) list.push({ runId: row.runId, startedAt: row.startedAt });
    perFlavor.set(row.flavorId, list);
  }
  return perFlavor;
}

// ---------------------------------------------------------------------------------------------
// Pass-rate trend

export interface PassRatePoint {
  runId: string;
  flavorId: string;
  startedAt: string;
  /** Every result line counted (setup/cleanup included, as the runner's own totals do). */
  total: number;
  passed: number;
  /** FAIL without an infra error. */
  failed: number;
  /** KILLED without an infra error. */
  killed: number;
  skipped: number;
  /** Results the infrastructure spoiled; in none of the other counts. */
  infraErrors: number;
  /** passed / (passed + failed + killed); undefined when nothing was executed. */
  passRate: number | undefined;
}

export interface PassRateTrendOptions {
  flavorId?: string;
  /** Runs kept per flavor, newest ones. Default 30. */
  lastRuns?: number;
  /** Which script kinds count. Default all (the runner's totals). */
  kinds?: readonly ScriptKind[];
}

/** Pass rate per flavor per run, oldest run first within each flavor. */
export async function passRateTrend(db: Kysely<StoreDatabase>, options: PassRateTrendOptions = {}): Promise<PassRatePoint[]> {
  const lastRuns = options.lastRuns ?? 30;
  let query = db
    .selectFrom('test_results as r')
    .innerJoin('runs', 'runs.id', 'r.run_id')
    .select((eb) => {
      const clean = eb('r.infra_error', 'is', null);
      const countWhen = (outcome: TestOutcome) =>
        eb.fn.sum<number | string>(
          eb
            .case()
            .when(eb.and([eb('r.outcome', '=', outcome), clean]))
            .then(1)
            .else(0)
            .end(),
        );
      return [
        'r.run_id as runId',
        'r.flavor_id as flavorId',
        'runs.started_at as startedAt',
        eb.fn.countAll<number | string>().as('total'),
        countWhen('PASS').as('passed'),
        countWhen('FAIL').as('failed'),
        countWhen('KILLED').as('killed'),
        countWhen('SKIP').as('skipped'),
        eb.fn.sum<number | string>(eb.case().when(clean).then(0).else(1).end()).as('infraErrors'),
      ];
    })
    .groupBy(['r.run_id', 'r.flavor_id', 'runs.started_at']);
  if (options.flavorId !== undefined) query = query.where('r.flavor_id', '=', options.flavorId);
  if (options.kinds !== undefined) query = query.where('r.kind', 'in', [...options.kinds]);
  const rows = await query.orderBy('runs.started_at', 'desc').orderBy('r.run_id', 'desc').execute();

  const perFlavor = new Map<string, PassRatePoint[]>();
  for (const row of rows) {
    const list = perFlavor.get(row.flavorId) ?? [];
    perFlavor.set(row.flavorId, list);
    if (list.length >= lastRuns) continue;
    const passed = toNumber(row.passed);
    const failed = toNumber(row.failed);
    const killed = toNumber(row.killed);
    const executed = passed + failed + killed;
    list.push({
      runId: row.runId,
      flavorId: row.flavorId,
      startedAt: row.startedAt,
      total: toNumber(row.total),
      passed,
      failed,
      killed,
      skipped: toNumber(row.skipped),
      infraErrors: toNumber(row.infraErrors),
      passRate: executed === 0 ? undefined : passed / executed,
    });
  }
  return [...perFlavor.keys()].sort().flatMap((flavor) => (perFlavor.get(flavor) ?? []).reverse());
}

// ---------------------------------------------------------------------------------------------
// Flaky tests

export interface FlakyTest {
  flavorId: string;
  testId: string;
  group: string;
  /** Runs in the window where the test passed or failed (skips and infra errors are not evidence). */
  observedRuns: number;
  failures: number;
  /** Changes between pass and fail from one observed run to the next. */
  flips: number;
  /** flips / (observedRuns - 1): 1 means it alternates every run. */
  flipRate: number;
  /** Results that carried the runner's RERAN flag. */
  reruns: number;
  /** Runs in the window where it failed, then passed on zfslab's re-run (class `flaky`): flakiness seen within one run. */
  passedOnRerun: number;
  lastOutcome: TestOutcome;
}

export interface FlakyTestsOptions {
  /** Window: the newest N runs of each flavor. Default 20. */
  lastRuns?: number;
  flavorId?: string;
  /** Report tests with at least this many flips. Default 2: one change of verdict is a regression or a fix, not flakiness. */
  minFlips?: number;
}

/**
 * Tests whose verdict flips between runs of the same flavor, or that passed on a re-run within a run
 * (one such run is enough: the same clone image failed and passed the same test), most erratic first.
 */
export async function flakyTests(db: Kysely<StoreDatabase>, options: FlakyTestsOptions = {}): Promise<FlakyTest[]> {
  const windows = await recentRunsPerFlavor(db, { limit: options.lastRuns ?? 20, flavorId: options.flavorId });
  const minFlips = options.minFlips ?? 2;
  const found: FlakyTest[] = [];
  for (const [flavorId, runs] of windows) {
    if (runs.length === 0) continue;
    const order = new Map(runs.map((run, index) => [run.runId, runs.length - index]));
    const rows = await db
      .selectFrom('test_results')
      .select(['run_id', 'test_id', 'group_name', 'outcome', 'reran', 'infra_error', 'result_class'])
      .where('flavor_id', '=', flavorId)
      .where('kind', '=', 'test')
      .where(
        'run_id',
        'in',
        runs.map((run) => run.runId),
      )
      .execute();
    const perTest = new Map<string, typeof rows>();
    for (const row of rows) {
      const list = perTest.get(row.test_id) ?? [];
      list.push(row);
      perTest.set(row.test_id, list);
    }
    for (const [testId, results] of perTest) {
      results.sort((a, b) => (order.get(a.run_id) ?? 0) - (order.get(b.run_id) ?? 0));
      const states = results.map((r) => stateOf(r.outcome, r.infra_error)).filter((s): s is 'pass' | 'fail' => s === 'pass' || s === 'fail');
      let flips = 0;
      for (let i = 1; i < states.length; i++) if (states[i] !== states[i - 1]) flips++;
      const passedOnRerun = results.filter((r) => r.result_class === 'flaky').length;
      if (flips < minFlips && passedOnRerun === 0) continue;
      const last = results[results.length - 1];
      found.push({
        flavorId,
        testId,
        group: last?.group_name ?? '',
        observedRuns: states.length,
        failures: states.filter((s) => s === 'fail').length,
        flips,
        flipRate: states.length > 1 ? flips / (states.length - 1) : 0,
        reruns: results.filter((r) => r.reran !== 0).length,
        passedOnRerun,
        lastOutcome: last?.outcome ?? 'PASS',
      });
    }
  }
  return found.sort(
    (a, b) =>
      b.flipRate - a.flipRate ||
      b.flips - a.flips ||
      b.passedOnRerun - a.passedOnRerun ||
      a.flavorId.localeCompare(b.flavorId) ||
      a.testId.localeCompare(b.testId),
  );
}

// ---------------------------------------------------------------------------------------------
// First fail / last pass

export interface TestMilestones {
  flavorId: string;
  testId: string;
  runs: number;
  lastOutcome: TestOutcome;
  lastRun: RunRef;
  /** The newest run where it passed. */
  lastPass: RunRef | undefined;
  /** Where the current failing streak began: the first failure after the last pass; undefined unless it is failing now. */
  firstFail: RunRef | undefined;
  firstFailEver: RunRef | undefined;
  lastFail: RunRef | undefined;
}

/**
 * For one test (kind `test` unless told), per flavor: when it last passed and where the current
 * breakage began. (lastPass, firstFail] is the window a bisect has to search.
 */
export async function testMilestones(
  db: Kysely<StoreDatabase>,
  testId: string,
  options: { flavorId?: string; kind?: ScriptKind } = {},
): Promise<TestMilestones[]> {
  let query = db
    .selectFrom('test_results as r')
    .innerJoin('runs', 'runs.id', 'r.run_id')
    .select(['r.flavor_id as flavorId', 'r.run_id as runId', 'runs.started_at as startedAt', 'r.outcome', 'r.infra_error'])
    .where('r.test_id', '=', testId)
    .where('r.kind', '=', options.kind ?? 'test');
  if (options.flavorId !== undefined) query = query.where('r.flavor_id', '=', options.flavorId);
  const rows = await query.orderBy('runs.started_at', 'asc').orderBy('r.run_id', 'asc').execute();

  const perFlavor = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = perFlavor.get(row.flavorId) ?? [];
    list.push(row);
    perFlavor.set(row.flavorId, list);
  }
  const milestones: TestMilestones[] = [];
  for (const [flavorId, series] of [...perFlavor].sort(([a], [b]) => a.localeCompare(b))) {
    const last = series[series.length - 1];
    if (last === undefined) continue;
    const ref = (row: (typeof series)[number]): RunRef => ({ runId: row.runId, startedAt: row.startedAt });
    let lastPass: RunRef | undefined;
    let firstFail: RunRef | undefined;
    let firstFailEver: RunRef | undefined;
    let lastFail: RunRef | undefined;
    for (const row of series) {
      const state = stateOf(row.outcome, row.infra_error);
      if (state === 'pass') {
        lastPass = ref(row);
        firstFail = undefined;
      } else if (state === 'fail') {
        firstFail ??= ref(row);
        firstFailEver ??= ref(row);
        lastFail = ref(row);
      }
    }
    const failingNow = stateOf(last.outcome, last.infra_error) === 'fail';
    milestones.push({
      flavorId,
      testId,
      runs: series.length,
      lastOutcome: last.outcome,
      lastRun: ref(last),
      lastPass,
      firstFail: failingNow ? firstFail : undefined,
      firstFailEver,
      lastFail,
    });
  }
  return milestones;
}

// ---------------------------------------------------------------------------------------------
// Duration drift

export interface DurationDrift {
  flavorId: string;
  /** `test`: the test id; `group`: the group name. */
  subject: string;
  seconds: number;
  /** The same subject in the newest earlier run that has it. */
  lastSeconds: number | undefined;
  lastRunId: string | undefined;
  medianSeconds: number | undefined;
  /** Earlier runs that went into the median. */
  samples: number;
  /** (seconds - last) / last, e.g. 0.12 for "12% longer than the last build". */
  changeVsLast: number | undefined;
  changeVsMedian: number | undefined;
  exceedsVsLast: boolean;
  exceedsVsMedian: boolean;
}

export interface DurationDriftOptions {
  /** The run to judge. */
  runId: string;
  flavorId?: string;
  /** `test`: each passing test's own duration; `group`: the sum over the group's scripts (its wall time). Default `test`. */
  by?: 'test' | 'group';
  testId?: string;
  group?: string;
  /** Earlier runs per flavor for the median. Default 10. */
  lastRuns?: number;
  /** Relative change that counts as drift, e.g. 0.1 for 10%. Default 0.1. */
  threshold?: number;
  /** Baselines shorter than this are too coarse (the runner prints whole seconds) to compare. Default 1. */
  minBaselineSeconds?: number;
  /** Return every compared subject, not only the drifting ones. */
  all?: boolean;
}

/**
 * How a run's durations compare with the same flavor's history: against the previous run that
 * has the subject and against the median of the last N. Tests are compared only when they
 * passed (a failure's duration says little); groups are compared as recorded.
 */
export async function durationDrift(db: Kysely<StoreDatabase>, options: DurationDriftOptions): Promise<DurationDrift[]> {
  const by = options.by ?? 'test';
  const threshold = options.threshold ?? 0.1;
  const minBaseline = options.minBaselineSeconds ?? 1;
  const run = await db.selectFrom('runs').select(['id', 'started_at']).where('id', '=', options.runId).executeTakeFirst();
  if (run === undefined) throw new Error(`results store: no run ${options.runId}`);

  const load = (runIds: readonly string[], flavorId: string | undefined) => {
    let query = db
      .selectFrom('test_results')
      .select(['run_id', 'flavor_id', 'test_id', 'group_name', 'kind', 'outcome', 'duration_seconds', 'infra_error'])
      .where('run_id', 'in', [...runIds]);
    if (flavorId !== undefined) query = query.where('flavor_id', '=', flavorId);
    if (options.testId !== undefined) query = query.where('test_id', '=', options.testId);
    if (options.group !== undefined) query = query.where('group_name', '=', options.group);
    if (by === 'test') query = query.where('kind', '=', 'test').where('outcome', '=', 'PASS').where('infra_error', 'is', null);
    return query.execute();
  };
  type Row = Awaited<ReturnType<typeof load>>[number];
  const subjectOf = (row: Row) => (by === 'test' ? row.test_id : row.group_name);
  const totals = (rows: readonly Row[]) => {
    const byKey = new Map<string, number>();
    for (const row of rows) {
      const key = `${row.flavor_id}\u0000${row.run_id}\u0000${subjectOf(row)}`;
      byKey.set(key, (byKey.get(key) ?? 0) + row.duration_seconds);
    }
    return byKey;
  };

  const current = totals(await load([run.id], options.flavorId));
  const flavors = new Set([...current.keys()].map((key) => key.split('\u0000')[0] as string));
  const drifts: DurationDrift[] = [];
  for (const flavorId of [...flavors].sort()) {
    const windows = await recentRunsPerFlavor(db, { limit: options.lastRuns ?? 10, flavorId, before: run.started_at });
    const earlier = windows.get(flavorId) ?? [];
    const history =
      earlier.length === 0
        ? new Map<string, number>()
        : totals(
            await load(
              earlier.map((r) => r.runId),
              flavorId,
            ),
          );
    for (const [key, seconds] of current) {
      const [flavor, , subject] = key.split('\u0000') as [string, string, string];
      if (flavor !== flavorId) continue;
      const past = earlier
        .map((r) => ({ runId: r.runId, seconds: history.get(`${flavorId}\u0000${r.runId}\u0000${subject}`) }))
        .filter((p): p is { runId: string; seconds: number } => p.seconds !== undefined);
      const last = past[0];
      const medianSeconds = median(past.map((p) => p.seconds));
      const change = (base: number | undefined) => (base === undefined || base < minBaseline ? undefined : (seconds - base) / base);
      const changeVsLast = change(last?.seconds);
      const changeVsMedian = change(medianSeconds);
      const exceedsVsLast = changeVsLast !== undefined && Math.abs(changeVsLast) >= threshold;
      const exceedsVsMedian = changeVsMedian !== undefined && Math.abs(changeVsMedian) >= threshold;
      if (!options.all && !exceedsVsLast && !exceedsVsMedian) continue;
      drifts.push({
        flavorId,
        subject,
        seconds,
        lastSeconds: last?.seconds,
        lastRunId: last?.runId,
        medianSeconds,
        samples: past.length,
        changeVsLast,
        changeVsMedian,
        exceedsVsLast,
        exceedsVsMedian,
      });
    }
  }
  return drifts.sort(
    (a, b) =>
      Math.abs(b.changeVsMedian ?? b.changeVsLast ?? 0) - Math.abs(a.changeVsMedian ?? a.changeVsLast ?? 0) ||
      a.flavorId.localeCompare(b.flavorId) ||
      a.subject.localeCompare(b.subject),
  );
}

// ---------------------------------------------------------------------------------------------
// Run diff

export interface RunDiffEntry {
  flavorId: string;
  testId: string;
  kind: ScriptKind;
  linuxSection: boolean;
  base: TestOutcome | undefined;
  head: TestOutcome | undefined;
}

export interface RunDiff {
  baseRunId: string;
  headRunId: string;
  /** Failing in both runs. */
  stillFailing: RunDiffEntry[];
  /** Failing in head; ran in base without failing. */
  newlyFailing: RunDiffEntry[];
  /** Failing in base, PASS in head. */
  recovered: RunDiffEntry[];
  /** Only in head. */
  new: RunDiffEntry[];
  /** Only in base. */
  gone: RunDiffEntry[];
  /** In both runs and in none of the lists above (same verdict, or a move involving SKIP or an infra error). */
  unchanged: number;
}

interface DiffRow {
  flavor_id: string;
  test_id: string;
  kind: ScriptKind;
  linux_section: number;
  outcome: TestOutcome;
  infra_error: string | null;
}

/** Compares two runs result by result, per flavor. */
export async function diffRuns(db: Kysely<StoreDatabase>, baseRunId: string, headRunId: string, options: { flavorId?: string } = {}): Promise<RunDiff> {
  const load = async (runId: string): Promise<Map<string, DiffRow>> => {
    let query = db.selectFrom('test_results').select(['flavor_id', 'test_id', 'kind', 'linux_section', 'outcome', 'infra_error']).where('run_id', '=', runId);
    if (options.flavorId !== undefined) query = query.where('flavor_id', '=', options.flavorId);
    const rows = await query.execute();
    return new Map(rows.map((row) => [`${row.flavor_id}\u0000${row.test_id}\u0000${row.kind}\u0000${row.linux_section}`, row]));
  };
  const [base, head] = await Promise.all([load(baseRunId), load(headRunId)]);
  const diff: RunDiff = {
    baseRunId,
    headRunId,
    stillFailing: [],
    newlyFailing: [],
    recovered: [],
    new: [],
    gone: [],
    unchanged: 0,
  };
  const entry = (b: DiffRow | undefined, h: DiffRow | undefined): RunDiffEntry => {
    const row = (h ?? b) as DiffRow;
    return {
      flavorId: row.flavor_id,
      testId: row.test_id,
      kind: row.kind,
      linuxSection: row.linux_section !== 0,
      base: b?.outcome,
      head: h?.outcome,
    };
  };
  for (const [key, h] of head) {
    const b = base.get(key);
    if (b === undefined) {
      diff.new.push(entry(undefined, h));
      continue;
    }
    const was = stateOf(b.outcome, b.infra_error);
    const now = stateOf(h.outcome, h.infra_error);
    if (was === 'fail' && now === 'fail') diff.stillFailing.push(entry(b, h));
    else if (now === 'fail') diff.newlyFailing.push(entry(b, h));
    else if (was === 'fail' && now === 'pass') diff.recovered.push(entry(b, h));
    else diff.unchanged++;
  }
  for (const [key, b] of base) if (!head.has(key)) diff.gone.push(entry(b, undefined));
  const byName = (a: RunDiffEntry, b: RunDiffEntry) =>
    a.flavorId.localeCompare(b.flavorId) || a.testId.localeCompare(b.testId) || a.kind.localeCompare(b.kind) || Number(a.linuxSection) - Number(b.linuxSection);
  for (const list of [diff.stillFailing, diff.newlyFailing, diff.recovered, diff.new, diff.gone]) list.sort(byName);
  return diff;
}
