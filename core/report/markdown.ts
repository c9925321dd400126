import { cellState, isInteresting, issueLabel, matrixTotals } from './model.js';
import type { MatrixCell, MatrixReport, ReportTotals } from './model.js';

export interface MarkdownOptions {
  /** Matrix rows shown at most; a GitHub comment holds 65,536 characters. Default 100. */
  maxRows?: number;
}

/**
 * A Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`: verdict, totals per
 * flavor, the rows where some flavor did not pass, the diagnosis, and links. GitHub-flavoured
 * tables only; no HTML.
 */
export function renderMarkdownSummary(report: MatrixReport, options: MarkdownOptions = {}): string {
  const maxRows = options.maxRows ?? 100;
  const { all, byFlavor } = matrixTotals(report);
  const verdict = all.unexpected > 0 || all.crash > 0 ? 'failed' : all.infra > 0 ? 'incomplete (infrastructure errors)' : 'passed';
  const out: string[] = [];
  out.push(`## ${escapeInline(report.title)}: ${verdict}`, '');
  out.push(
    `${all.tests} tests on ${report.flavors.length} flavor${report.flavors.length === 1 ? '' : 's'}, ${all.results} results: ` +
      `${all.pass} passed, ${all.unexpected} failed unexpectedly, ${all.expected} expected failures, ${all.flaky} known flaky, ` +
      `${all.skip} skipped, ${all.infra} infrastructure errors${all.crash > 0 ? `, ${all.crash} crashed the guest kernel` : ''}.`,
    '',
  );

  // The crash column appears only when a guest crashed, so the common table stays as narrow as before.
  const crashColumn = all.crash > 0;
  out.push(`| flavor | results | pass | unexpected fail | expected fail | flaky | skip | infra error |${crashColumn ? ' crash |' : ''}`);
  out.push(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${crashColumn ? ' ---: |' : ''}`);
  for (const flavor of report.flavors) {
    const t = byFlavor.get(flavor) as ReportTotals;
    out.push(
      `| ${escapeCell(flavor)} | ${t.results} | ${t.pass} | ${t.unexpected} | ${t.expected} | ${t.flaky} | ${t.skip} | ${t.infra} |${crashColumn ? ` ${t.crash} |` : ''}`,
    );
  }
  out.push('');

  const interesting = report.rows.filter((row) => isInteresting(row, report.flavors));
  out.push(`### Not passing everywhere (${interesting.length} of ${report.rows.length} tests)`, '');
  if (interesting.length === 0) {
    out.push('Every test passed on every flavor.', '');
  } else {
    out.push(`| test | ${report.flavors.map(escapeCell).join(' | ')} |`);
    out.push(`| --- | ${report.flavors.map(() => '---').join(' | ')} |`);
    for (const row of interesting.slice(0, maxRows)) {
      const cells = report.flavors.map((f) => markdownCell(row.cells[f]));
      out.push(`| ${code(row.testId)} | ${cells.join(' | ')} |`);
    }
    out.push('');
    if (interesting.length > maxRows) out.push(`…and ${interesting.length - maxRows} more rows not shown.`, '');
  }

  if (report.diagnoses.length > 0) {
    out.push('### Diagnosis', '');
    for (const line of report.diagnoses) out.push(`- ${escapeInline(line)}`);
    out.push('');
  }
  if (report.links !== undefined && report.links.length > 0) {
    out.push('### Links', '');
    for (const link of report.links) out.push(`- [${escapeInline(link.label)}](${link.url.replace(/[()\s]/g, encodeURIComponent)})`);
    out.push('');
  }
  return out.join('\n');
}

function markdownCell(cell: MatrixCell | undefined): string {
  if (cell === undefined) return 'not run';
  const reran = cell.reran ? ' (reran)' : '';
  const issue = cell.issueUrl ? ` [${issueLabel(cell.issueUrl)}](${cell.issueUrl})` : '';
  switch (cellState(cell)) {
    case 'pass':
      return `PASS${reran}`;
    case 'skip':
      return 'SKIP';
    case 'infra':
      return `${cell.outcome} (infra: ${escapeCell(cell.infraError ?? '')})`;
    case 'crash':
      return `**CRASH** (${escapeCell(cell.crash ? `${cell.crash.kind} ${cell.crash.signature}` : 'guest kernel died')})`;
    case 'expected':
      return `${cell.outcome} (expected${issue})${reran}`;
    case 'flaky':
      return `${cell.outcome} (flaky${issue})${reran}`;
    case 'unexpected':
      return `**${cell.outcome}**${issue}${reran}`;
  }
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

/** Text inside a table cell: no pipes or line breaks. */
function escapeCell(value: string): string {
  return escapeInline(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Text in a sentence: Markdown's emphasis/link characters taken literally. */
function escapeInline(value: string): string {
  return value.replace(/([\\`*_[\]<>#])/g, '\\$1');
}
