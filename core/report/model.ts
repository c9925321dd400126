import type { Classification, ScriptKind, TestOutcome } from '../results/types.js';

/**
 * The small input the renderers need. The matrix and diagnosis model (core/matrix) owns the real
 * thing; an adapter from it to these shapes is all that is needed to render it. Kept apart so
 * that the renderers do not change when the model does.
 */

/** One test on one flavor. */
export interface MatrixCell {
  outcome: TestOutcome;
  classification: Classification;
  reran?: boolean;
  /** Upstream issue behind an expected or flaky failure. */
  issueUrl?: string;
  /** The baseline's reason, when it names one (e.g. `Known issue`). */
  reason?: string;
  /** Set when the infrastructure, not the test, is to blame. */
  infraError?: string;
  /** Set on a CRASH: the guest kernel died while the test ran. */
  crash?: CrashMark;
}

/** What identifies the crash behind a CRASH result: the same signature is the same crash. */
export interface CrashMark {
  kind: string;
  signature: string;
  headline?: string;
  consoleKey?: string;
}

export interface MatrixRow {
  testId: string;
  /** Flavor id → result. A flavor missing here did not run the test. */
  cells: Readonly<Record<string, MatrixCell>>;
}

export interface MatrixReport {
  /** e.g. `zfslab run 20260422-0334 (suite quick)`. */
  title: string;
  /** Column order. */
  flavors: readonly string[];
  rows: readonly MatrixRow[];
  /** Sentences from the diagnosis, e.g. `fails only on debian-13 → distro patch`. */
  diagnoses: readonly string[];
  links?: readonly { label: string; url: string }[];
}

/** One result line for the JUnit report. */
export interface JUnitResult {
  testId: string;
  group: string;
  kind: ScriptKind;
  outcome: TestOutcome;
  classification: Classification;
  durationSeconds: number;
  reran?: boolean;
  linuxSection?: boolean;
  issueUrl?: string;
  reason?: string;
  infraError?: string;
  crash?: CrashMark;
}

/** One flavor, or one shard of one flavor: a `<testsuite>`. */
export interface JUnitSuite {
  flavor: string;
  shard?: { index: number; count: number };
  /** Where it ran (a lab host id); `localhost` when unknown. */
  hostname?: string;
  /** ISO-8601 start time. */
  startedAt: string;
  /** Extra `<property>` entries, e.g. kernel and OpenZFS version. */
  properties?: Readonly<Record<string, string>>;
  results: readonly JUnitResult[];
}

export interface JUnitReport {
  runId: string;
  suites: readonly JUnitSuite[];
}

export type CellState = 'pass' | 'skip' | 'unexpected' | 'expected' | 'flaky' | 'infra' | 'crash';

/** The one judgement all renderers share: what a cell means for the person reading. */
export function cellState(cell: MatrixCell | JUnitResult): CellState {
  // A crash is neither the test's verdict nor a harness failure: the guest kernel died under the test.
  if (cell.outcome === 'CRASH') return 'crash';
  if (cell.infraError !== undefined) return 'infra';
  if (cell.outcome === 'PASS') return 'pass';
  if (cell.outcome === 'SKIP') return 'skip';
  if (cell.classification === 'expected-fail') return 'expected';
  if (cell.classification === 'flaky') return 'flaky';
  return 'unexpected';
}

/** `#1234` for a GitHub issue or pull request URL, else `issue`. */
export function issueLabel(url: string): string {
  const match = /\/(?:issues|pull)\/(\d+)(?:[/?#].*)?$/.exec(url);
  return match?.[1] !== undefined ? `#${match[1]}` : 'issue';
}

export interface ReportTotals {
  tests: number;
  results: number;
  pass: number;
  skip: number;
  unexpected: number;
  expected: number;
  flaky: number;
  infra: number;
  /** Tests in flight when the guest kernel died. */
  crash: number;
}

/** Counts per flavor (and `all`) over the matrix's cells. */
export function matrixTotals(report: MatrixReport): { all: ReportTotals; byFlavor: Map<string, ReportTotals> } {
  const empty = (): ReportTotals => ({ tests: 0, results: 0, pass: 0, skip: 0, unexpected: 0, expected: 0, flaky: 0, infra: 0, crash: 0 });
  const all = empty();
  all.tests = report.rows.length;
  const byFlavor = new Map(report.flavors.map((f) => [f, empty()]));
  for (const row of report.rows) {
    for (const flavor of report.flavors) {
      const cell = row.cells[flavor];
      if (cell === undefined) continue;
      const totals = byFlavor.get(flavor) as ReportTotals;
      const state = cellState(cell);
      for (const t of [all, totals]) {
        t.results++;
        t[state]++;
      }
      totals.tests++;
    }
  }
  return { all, byFlavor };
}

/** Rows where some flavor did not simply pass (or did not run the test). */
export function isInteresting(row: MatrixRow, flavors: readonly string[]): boolean {
  return flavors.some((f) => {
    const cell = row.cells[f];
    return cell === undefined || cellState(cell) !== 'pass';
  });
}

/** What `buildMatrixReport` reads per flavor: the shared classified result, plus an infra error when there was one. */
export interface MatrixSourceResult {
  testId: string;
  kind: ScriptKind;
  outcome: TestOutcome;
  classification: Classification;
  linuxSection: boolean;
  reran?: boolean;
  issueUrl?: string;
  reason?: string;
  infraError?: string;
}

/**
 * A plain matrix from per-flavor results, for callers that have no core/matrix model at hand (and
 * for tests): one row per script (tests, setups, cleanups; failsafe callbacks are the runner's
 * bookkeeping and left out), sorted by id. A Linux-section setup/cleanup gets its own row.
 */
export function buildMatrixReport(input: {
  title: string;
  resultsByFlavor: Readonly<Record<string, readonly MatrixSourceResult[]>>;
  flavors?: readonly string[];
  diagnoses?: readonly string[];
  links?: readonly { label: string; url: string }[];
}): MatrixReport {
  const flavors = input.flavors ?? Object.keys(input.resultsByFlavor);
  const rows = new Map<string, Record<string, MatrixCell>>();
  for (const flavor of flavors) {
    for (const r of input.resultsByFlavor[flavor] ?? []) {
      if (r.kind === 'failsafe') continue;
      const id = r.linuxSection && r.kind !== 'test' ? `${r.testId} (Linux)` : r.testId;
      const cells = rows.get(id) ?? {};
      const cell: MatrixCell = { outcome: r.outcome, classification: r.classification };
      if (r.reran) cell.reran = true;
      if (r.issueUrl !== undefined) cell.issueUrl = r.issueUrl;
      if (r.reason !== undefined) cell.reason = r.reason;
      if (r.infraError !== undefined) cell.infraError = r.infraError;
      cells[flavor] = cell;
      rows.set(id, cells);
    }
  }
  return {
    title: input.title,
    flavors,
    rows: [...rows.keys()].sort().map((testId) => ({ testId, cells: rows.get(testId) as Record<string, MatrixCell> })),
    diagnoses: input.diagnoses ?? [],
    ...(input.links === undefined ? {} : { links: input.links }),
  };
}
