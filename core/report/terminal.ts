import { cellState, isInteresting, matrixTotals } from './model.js';
import type { MatrixCell, MatrixReport } from './model.js';

export interface TerminalMatrixOptions {
  /** Every row, not only those where some flavor did not pass. */
  all?: boolean;
  /** Test ids longer than this are cut from the left (`…` + the tail, which names the test). */
  maxTestWidth?: number;
}

/**
 * The matrix for a terminal: flavor columns × test rows, plain ASCII padded columns (colour is
 * the CLI's business), then the diagnosis. Deterministic for a given input, so it can be
 * snapshot-tested.
 */
export function renderTerminalMatrix(report: MatrixReport, options: TerminalMatrixOptions = {}): string {
  const rows = options.all ? report.rows : report.rows.filter((row) => isInteresting(row, report.flavors));
  const maxTest = options.maxTestWidth ?? 80;
  const header = ['TEST', ...report.flavors];
  const body = rows.map((row) => [shorten(row.testId, maxTest), ...report.flavors.map((f) => terminalCell(row.cells[f]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();

  const { all } = matrixTotals(report);
  const out: string[] = [report.title, ''];
  if (body.length === 0) {
    out.push(options.all ? 'No tests.' : `All ${report.rows.length} tests passed on every flavor.`);
  } else {
    out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line));
  }
  out.push('');
  out.push(`${rows.length} of ${report.rows.length} tests shown${options.all ? '' : ' (rows where every flavor passed are hidden; --all shows them)'}.`);
  out.push(
    `results: ${all.pass} pass, ${all.unexpected} unexpected fail, ${all.expected} expected fail, ${all.flaky} flaky, ` +
      `${all.skip} skip, ${all.infra} infra error${all.crash > 0 ? `, ${all.crash} crash` : ''}`,
  );
  out.push('legend: FAIL! unexpected  FAIL(known) expected  FAIL(flaky) known flaky  INFRA infrastructure error  CRASH guest kernel died  +R reran  - not run');
  if (report.diagnoses.length > 0) {
    out.push('', 'diagnosis:');
    for (const d of report.diagnoses) out.push(`  - ${d}`);
  }
  return `${out.join('\n')}\n`;
}

function terminalCell(cell: MatrixCell | undefined): string {
  if (cell === undefined) return '-';
  const reran = cell.reran ? '+R' : '';
  switch (cellState(cell)) {
    case 'pass':
      return `PASS${reran}`;
    case 'skip':
      return 'SKIP';
    case 'infra':
      return 'INFRA';
    case 'crash':
      return 'CRASH';
    case 'expected':
      return `${cell.outcome}(known)${reran}`;
    case 'flaky':
      return `${cell.outcome}(flaky)${reran}`;
    case 'unexpected':
      return `${cell.outcome}!${reran}`;
  }
}

function shorten(value: string, max: number): string {
  return value.length <= max ? value : `…${value.slice(value.length - max + 1)}`;
}
