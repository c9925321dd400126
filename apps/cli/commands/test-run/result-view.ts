import type { RunView } from '../../../../activities/test-runs/run-view.js';
import { emptyClassCounts } from '../../../../core/results/result-class.js';
import type { ResultClass } from '../../../../core/results/result-class.js';
import type { StoredResult } from '../../../../lib/store/types.js';
import { renderTerminalMatrix } from '../../../../core/report/index.js';
import { addCounts, emptyCounts } from '../../../../core/test-run/chunk-results.js';
import { exitCodeOf } from '../../../../core/test-run/outcome.js';
import type { RunOutcome } from '../../../../core/test-run/outcome.js';
import type { MatrixRunResult } from '../../../../core/test-run/types.js';
import { describeChunkFingerprint } from '../../../../core/test-run/fingerprint.js';
import type { Config } from '../../../../lib/config.js';
import { temporalUiUrl } from '../../../../lib/temporal.js';
import { paint, type Output } from '../../output.js';
import { TestRunJsonSchema, type TestRunJson } from './json.js';
import { runMatrix, writeReports } from './matrix-view.js';

/**
 * The end of `zfslab test`: one document (validated by TestRunJsonSchema) from the workflow's result
 * and the store's rows, printed as JSON or as the matrix, diagnosis, totals and links.
 */
export function runResultJson(input: {
  config: Config;
  runId: string;
  workflowId: string;
  outcome: RunOutcome;
  result: MatrixRunResult | undefined;
  view: RunView | undefined;
  files: { junit?: string; markdown?: string };
}): TestRunJson {
  const { view, result } = input;
  const byFlavor = new Map(view?.flavors.map((f) => [f.meta.id, f]) ?? []);
  const targets = (result?.targets ?? []).map((t) => {
    const stored = t.flavorId ? byFlavor.get(t.flavorId) : undefined;
    return {
      classes: stored ? classCounts(stored.results) : (t.totals.classes ?? emptyClassCounts()),
      target: t.target,
      flavorId: t.flavorId ?? null,
      hostId: t.hostId,
      outcome: t.outcome,
      openzfsVersion: t.flavor?.openzfsVersion ?? stored?.meta.openzfsVersion ?? null,
      tests: t.totals.tests,
      counts: t.totals.counts,
      unexpected: t.totals.unexpected,
      infraErrors: t.totals.infraErrors,
      artifacts: t.artifactsPrefix ? `s3://${input.config.s3.bucket}/${t.artifactsPrefix}/` : null,
      error: t.error ?? null,
      fingerprints: t.fingerprints ?? [],
      hostMoves: t.hostMoves ?? [],
    };
  });
  const ui = temporalUiUrl(input.config, input.workflowId);
  const matrix = view ? runMatrix(view, [{ label: 'Temporal UI', url: ui }]) : undefined;
  const files = view && matrix ? writeReports(view, matrix, input.files) : [];
  // Totals from the store: they hold what finished even when the workflow was cancelled.
  const testsOf = (v: RunView | undefined) => (v?.flavors ?? []).flatMap((f) => f.results.filter((r) => r.kind === 'test'));
  const stored = testsOf(view);
  const counts = stored.reduce((c, r) => addCounts(c, { ...emptyCounts(), [r.outcome]: 1 }), emptyCounts());
  const everyResult = (view?.flavors ?? []).flatMap((f) => f.results);
  const classes = classCounts(everyResult);
  const unexpected = classes.regression + classes.crash;
  const json: TestRunJson = {
    runId: input.runId,
    workflowId: input.workflowId,
    dryRun: false,
    outcome: input.outcome,
    exitCode: exitCodeOf(input.outcome, unexpected),
    targets,
    totals: { tests: stored.length, counts, unexpected, classes },
    matrix: {
      flavors: matrix ? [...matrix.report.flavors] : [],
      rows: (matrix?.report.rows ?? []).map((row) => ({ testId: row.testId, cells: { ...row.cells } })),
      diagnoses: matrix ? [...matrix.report.diagnoses] : [],
    },
    links: {
      temporalUi: ui,
      artifacts: targets.map((t) => t.artifacts).filter((a): a is string => a !== null),
    },
    files,
  };
  return TestRunJsonSchema.parse(json);
}

/** Non-passing results by class (failsafe runs are the runner's, not tests). */
function classCounts(results: readonly StoredResult[]): Record<ResultClass, number> {
  const counts = emptyClassCounts();
  for (const r of results) if (r.kind !== 'failsafe' && r.resultClass) counts[r.resultClass]++;
  return counts;
}

/** `, 2 flaky (passed on a re-run), 3 known` — what does not fail the run but should be read. */
function describeClasses(classes: Record<ResultClass, number>): string {
  const parts: string[] = [];
  if (classes.regression > 0) parts.push(`${classes.regression} regression`);
  if (classes.flaky > 0) parts.push(`${classes.flaky} flaky (passed on a re-run)`);
  if (classes.known > 0) parts.push(`${classes.known} known`);
  if (classes.infra > 0) parts.push(`${classes.infra} infra`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export function printRunResult(out: Output, json: TestRunJson, view: RunView | undefined, options: { all: boolean }): void {
  if (view && view.flavors.some((f) => f.results.length > 0)) {
    const matrix = runMatrix(view, [{ label: 'Temporal UI', url: json.links.temporalUi }]);
    out.line(renderTerminalMatrix(matrix.report, { all: options.all }));
  } else {
    out.line(`zfslab run ${json.runId}: no result was recorded`);
  }
  out.line();
  for (const t of json.targets) {
    const c = t.counts;
    const verdict =
      t.outcome === 'passed' ? paint(out, 'green', t.outcome) : t.outcome === 'failed' ? paint(out, 'red', t.outcome) : paint(out, 'yellow', t.outcome);
    out.line(
      `${t.flavorId ?? t.target}: ${verdict} — ${t.tests} tests: ${c.PASS} pass, ${c.FAIL} fail, ${c.KILLED} killed, ${c.SKIP} skip${c.CRASH > 0 ? `, ${c.CRASH} crash` : ''}; ${t.unexpected} unexpected${describeClasses(t.classes)}`,
    );
    for (const m of t.hostMoves)
      out.line(
        paint(out, 'yellow', `  host lost: ${m.from} (${m.why}); shard ${m.shard} chunk ${m.chunk} moved to ${m.to}, resumed after ${m.resumedAfter} finished`),
      );
    for (const e of t.infraErrors) out.line(`  infrastructure: ${e}`);
    if (t.error && !t.infraErrors.includes(t.error)) out.line(`  error: ${t.error}`);
    for (const f of t.fingerprints) {
      const text = `  fingerprint ${f.workload}: ${describeChunkFingerprint(f)}`;
      out.line(f.status === 'compared' && f.deviations > 0 ? paint(out, 'yellow', text) : text);
    }
    if (t.artifacts) out.line(`  artifacts  ${t.artifacts}`);
  }
  for (const file of json.files) out.line(`wrote ${file}`);
  const flaky = json.totals.classes.flaky;
  out.line(`run ${json.runId}: ${json.outcome}${flaky > 0 ? paint(out, 'yellow', ` — but ${flaky} test(s) flaky: failed, then passed on a re-run`) : ''}`);
  out.line(`Temporal UI  ${json.links.temporalUi}`);
}
