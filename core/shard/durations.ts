import { TestOutcomeSchema } from '../results/types.js';
import type { TestOutcome, TestResult } from '../results/types.js';

/** A duration table (text) that does not have the expected shape. */
export class DurationTableError extends Error {
  override name = 'DurationTableError';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${source}:${line}: ${problem}`);
  }
}

export interface DurationRow {
  /** Test id as in core/results (`functional/acl/off/setup`). */
  testId: string;
  outcome: TestOutcome;
  seconds: number;
}

/**
 * Historical seconds per test id (setup/cleanup included: `functional/atime/setup`). A plain object so
 * it can cross a Temporal boundary. Where a script ran several times (a group split over common.run and
 * linux.run runs its setup twice), the mean.
 */
export type DurationHistory = Readonly<Record<string, number>>;

/**
 * Reads the per-test duration table format of `zts-durations-*.tsv`: `#` comment lines, a header
 * naming the columns `test_path`, `result` and `seconds` (tab-separated, any order), then one row per
 * executed script. `test_path` is the path after `functional/`, so ids get `idPrefix` in front.
 */
export function parseDurationTable(text: string, source = 'durations.tsv', idPrefix = 'functional/'): DurationRow[] {
  const rows: DurationRow[] = [];
  let columns: { path: number; result: number; seconds: number } | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '' || line.startsWith('#')) return;
    const cells = line.split('\t');
    if (!columns) {
      const find = (name: string): number => {
        const at = cells.indexOf(name);
        if (at < 0) throw new DurationTableError(source, lineNumber, `header lacks a '${name}' column: ${JSON.stringify(line)}`);
        return at;
      };
      columns = { path: find('test_path'), result: find('result'), seconds: find('seconds') };
      return;
    }
    const path = cells[columns.path]?.trim() ?? '';
    const outcome = TestOutcomeSchema.safeParse(cells[columns.result]?.trim());
    const secondsText = cells[columns.seconds]?.trim() ?? '';
    const seconds = Number(secondsText);
    if (path === '') throw new DurationTableError(source, lineNumber, 'empty test_path');
    if (!outcome.success) throw new DurationTableError(source, lineNumber, `result is not PASS/FAIL/SKIP/KILLED: ${JSON.stringify(cells[columns.result])}`);
    if (secondsText === '' || !Number.isFinite(seconds) || seconds < 0) {
      throw new DurationTableError(source, lineNumber, `seconds is not a non-negative number: ${JSON.stringify(secondsText)}`);
    }
    rows.push({ testId: idPrefix + path, outcome: outcome.data, seconds });
  });
  if (!columns) throw new DurationTableError(source, 1, 'no header line');
  return rows;
}

export function historyFromRows(rows: readonly DurationRow[]): DurationHistory {
  return meanBy(rows.map((row) => [row.testId, row.seconds]));
}

/** History from our own parsed results (e.g. the last good run of the same flavor). */
export function historyFromResults(results: readonly Pick<TestResult, 'testId' | 'durationSeconds'>[]): DurationHistory {
  return meanBy(results.map((r) => [r.testId, r.durationSeconds]));
}

function meanBy(pairs: readonly (readonly [string, number])[]): DurationHistory {
  const sums = new Map<string, { total: number; count: number }>();
  for (const [id, seconds] of pairs) {
    const entry = sums.get(id) ?? { total: 0, count: 0 };
    entry.total += seconds;
    entry.count += 1;
    sums.set(id, entry);
  }
  const history: Record<string, number> = {};
  for (const [id, { total, count }] of sums) history[id] = total / count;
  return history;
}
