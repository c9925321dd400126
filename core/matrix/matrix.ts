import { z } from 'zod';
import { UsageError } from '../errors.js';
import { ClassifiedResultSchema } from '../results/types.js';
import type { Classification, ClassifiedResult, ScriptKind, TestOutcome } from '../results/types.js';

/** What the diagnosis needs to know about a flavor. */
export const FlavorMetaSchema = z.strictObject({
  id: z.string().min(1),
  os: z.string().min(1),
  release: z.string().min(1),
  /** Kernel release or series, e.g. `6.12.x`, `6.12.48+deb13-amd64`, `5.14.0-570.el9`. */
  kernel: z.string().min(1),
  /** OpenZFS version as found in the golden, e.g. `2.3.2` or `2.3.2-1~bpo12+1`. */
  openzfsVersion: z.string().min(1),
});
export type FlavorMeta = z.infer<typeof FlavorMetaSchema>;

export const FlavorResultsSchema = z.strictObject({
  flavor: FlavorMetaSchema,
  results: z.array(ClassifiedResultSchema),
});
export type FlavorResults = z.infer<typeof FlavorResultsSchema>;

/** One test on one flavor. A test the flavor's suite does not have, or that never ran, is `ran: false`. */
export type MatrixCell =
  | { ran: false }
  | {
      ran: true;
      /** The worst of the runs (FAIL/KILLED over SKIP over PASS). */
      outcome: TestOutcome;
      /** The worst classification of the runs (unexpected-fail over flaky over expected-fail over skip over pass). */
      classification: Classification;
      reran: boolean;
      durationSeconds: number;
      /** How many result lines fed the cell (upstream lists a few tests in two runfile sections). */
      runs: number;
      issueUrl?: string;
      reason?: string;
    };

export interface MatrixRow {
  testId: string;
  group: string;
  kind: ScriptKind;
  /** Keyed by flavor id; every flavor of the matrix has a cell. */
  cells: Record<string, MatrixCell>;
}

export interface Matrix {
  flavors: FlavorMeta[];
  rows: MatrixRow[];
}

const CLASSIFICATION_RANK: Record<Classification, number> = {
  pass: 0,
  skip: 1,
  'expected-fail': 2,
  flaky: 3,
  'unexpected-fail': 4,
};
const OUTCOME_RANK: Record<TestOutcome, number> = { PASS: 0, SKIP: 1, FAIL: 2, KILLED: 3, CRASH: 4 };
const KIND_RANK: Record<ScriptKind, number> = { setup: 0, test: 1, failsafe: 1, cleanup: 2 };

/**
 * flavor × test from each flavor's classified results (as the results parser + baselines give them).
 * Rows: groups in order of first appearance, within a group setup first, cleanup last, tests in the
 * order they first appeared. Throws UsageError when a flavor id appears twice.
 */
export function buildMatrix(input: readonly FlavorResults[]): Matrix {
  const seen = new Set<string>();
  for (const { flavor } of input) {
    if (seen.has(flavor.id)) throw new UsageError(`flavor ${flavor.id} appears twice in the matrix input`);
    seen.add(flavor.id);
  }
  const rows = new Map<string, MatrixRow>();
  const groupOrder = new Map<string, number>();
  const rowOrder = new Map<string, number>();
  for (const { flavor, results } of input) {
    for (const result of results) {
      if (!groupOrder.has(result.group)) groupOrder.set(result.group, groupOrder.size);
      // The store keys a failsafe by the test it followed: it is a row of its own, or the first
      // of the two to arrive would name the row's kind and the test could vanish as a failsafe.
      const key = result.kind === 'failsafe' ? `${result.testId}\u0000failsafe` : result.testId;
      let row = rows.get(key);
      if (!row) {
        row = { testId: result.testId, group: result.group, kind: result.kind, cells: {} };
        rows.set(key, row);
        rowOrder.set(key, rowOrder.size);
      }
      row.cells[flavor.id] = mergeCell(row.cells[flavor.id], result);
    }
  }
  for (const row of rows.values()) for (const { flavor } of input) row.cells[flavor.id] ??= { ran: false };
  const sorted = [...rows.values()].sort(
    (a, b) =>
      (groupOrder.get(a.group) as number) - (groupOrder.get(b.group) as number) ||
      KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
      (rowOrder.get(keyOf(a)) as number) - (rowOrder.get(keyOf(b)) as number),
  );
  return { flavors: input.map((i) => i.flavor), rows: sorted };
}

function keyOf(row: MatrixRow): string {
  return row.kind === 'failsafe' ? `${row.testId}\u0000failsafe` : row.testId;
}

function mergeCell(existing: MatrixCell | undefined, result: ClassifiedResult): MatrixCell {
  const fresh: MatrixCell = {
    ran: true,
    outcome: result.outcome,
    classification: result.classification,
    reran: result.reran,
    durationSeconds: result.durationSeconds,
    runs: 1,
    ...(result.issueUrl !== undefined ? { issueUrl: result.issueUrl } : {}),
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
  };
  if (!existing?.ran) return fresh;
  const worse = CLASSIFICATION_RANK[fresh.classification] > CLASSIFICATION_RANK[existing.classification] ? fresh : existing;
  return {
    ...worse,
    outcome: OUTCOME_RANK[fresh.outcome] > OUTCOME_RANK[existing.outcome] ? fresh.outcome : existing.outcome,
    reran: existing.reran || fresh.reran,
    durationSeconds: existing.durationSeconds + fresh.durationSeconds,
    runs: existing.runs + 1,
  };
}

/** Per flavor: how many cells of each classification, and how many rows it has no result for. */
export function summarizeMatrix(matrix: Matrix): Record<string, Record<Classification | 'not-run', number>> {
  const summary: Record<string, Record<Classification | 'not-run', number>> = {};
  for (const flavor of matrix.flavors) {
    const counts = { pass: 0, skip: 0, 'expected-fail': 0, flaky: 0, 'unexpected-fail': 0, 'not-run': 0 };
    for (const row of matrix.rows) {
      const cell = row.cells[flavor.id];
      if (cell?.ran) counts[cell.classification]++;
      else counts['not-run']++;
    }
    summary[flavor.id] = counts;
  }
  return summary;
}
