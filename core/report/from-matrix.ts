import type { Diagnosis } from '../matrix/diagnose.js';
import type { Matrix } from '../matrix/matrix.js';
import type { MatrixCell, MatrixReport } from './model.js';

/**
 * The renderers' input from core/matrix's model: cells that ran keep outcome, classification,
 * reran flag, issue and reason; cells that did not run are left out (rendered "not run"); each
 * diagnosis becomes one line `<testId>: <explanation>`.
 */
export function reportFromMatrix(
  matrix: Matrix,
  diagnoses: readonly Diagnosis[],
  options: { title: string; links?: readonly { label: string; url: string }[] },
): MatrixReport {
  const flavors = matrix.flavors.map((f) => f.id);
  const rows = matrix.rows
    .filter((row) => row.kind !== 'failsafe')
    .map((row) => {
      const cells: Record<string, MatrixCell> = {};
      for (const flavor of flavors) {
        const cell = row.cells[flavor];
        if (cell === undefined || !cell.ran) continue;
        const out: MatrixCell = { outcome: cell.outcome, classification: cell.classification };
        if (cell.reran) out.reran = true;
        if (cell.issueUrl !== undefined) out.issueUrl = cell.issueUrl;
        if (cell.reason !== undefined) out.reason = cell.reason;
        cells[flavor] = out;
      }
      return { testId: row.testId, cells };
    });
  return {
    title: options.title,
    flavors,
    rows,
    diagnoses: diagnoses.map((d) => `${d.testId}: ${d.explanation}`),
    ...(options.links === undefined ? {} : { links: options.links }),
  };
}
