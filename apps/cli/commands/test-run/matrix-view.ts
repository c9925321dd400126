import { writeFileSync } from 'node:fs';
import type { RunView } from '../../../../activities/test-runs/run-view.js';
import { diagnoseMatrix } from '../../../../core/matrix/diagnose.js';
import type { Diagnosis } from '../../../../core/matrix/diagnose.js';
import { buildMatrix } from '../../../../core/matrix/matrix.js';
import { renderJUnit, renderMarkdownSummary, reportFromMatrix } from '../../../../core/report/index.js';
import type { JUnitReport, MatrixReport } from '../../../../core/report/index.js';
import type { ClassifiedResult } from '../../../../core/results/types.js';

/**
 * A stored run as the people-facing outputs need it: the flavor × test matrix with its diagnosis
 * (core/matrix), rendered by core/report; JUnit and Markdown files on request.
 */
export interface RunMatrix {
  report: MatrixReport;
  diagnoses: Diagnosis[];
}

export function runMatrix(view: RunView, links: readonly { label: string; url: string }[] = []): RunMatrix {
  const matrix = buildMatrix(
    view.flavors.map((f) => ({
      flavor: f.meta,
      results: f.results.map((r): ClassifiedResult => ({
        testId: r.testId,
        group: r.group,
        kind: r.kind,
        outcome: r.outcome,
        reran: r.reran,
        durationSeconds: r.durationSeconds,
        user: '',
        linuxSection: r.linuxSection,
        classification: r.classification,
        ...(r.issueUrl !== undefined ? { issueUrl: r.issueUrl } : {}),
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
      })),
    })),
  );
  const diagnoses = diagnoseMatrix(matrix);
  const title = `zfslab run ${view.run.id} (${view.run.selection})`;
  return { report: reportFromMatrix(matrix, diagnoses, { title, links }), diagnoses };
}

export function junitOf(view: RunView): JUnitReport {
  return {
    runId: view.run.id,
    suites: view.flavors.flatMap((f) => {
      const shards = [...new Set(f.results.map((r) => r.shard))].sort((a, b) => a - b);
      return (shards.length ? shards : [1]).map((shard) => ({
        flavor: f.meta.id,
        ...(f.shardCount > 1 ? { shard: { index: shard, count: f.shardCount } } : {}),
        hostname: f.hostId ?? 'localhost',
        startedAt: view.run.startedAt,
        properties: { kernel: f.meta.kernel, openzfs: f.meta.openzfsVersion, os: `${f.meta.os} ${f.meta.release}` },
        results: f.results.filter((r) => r.shard === shard),
      }));
    }),
  };
}

/** Writes `--junit` / `--markdown` files; returns the paths written. */
export function writeReports(view: RunView, matrix: RunMatrix, files: { junit?: string; markdown?: string }): string[] {
  const written: string[] = [];
  if (files.junit) {
    writeFileSync(files.junit, renderJUnit(junitOf(view)));
    written.push(files.junit);
  }
  if (files.markdown) {
    writeFileSync(files.markdown, renderMarkdownSummary(matrix.report));
    written.push(files.markdown);
  }
  return written;
}
