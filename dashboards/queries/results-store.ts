/**
 * The SQL behind every results-store panel, beside the schema it reads (lib/store/schema.ts). One
 * text serves SQLite and PostgreSQL except where they differ: a time column for Grafana has to be a
 * timestamp in PostgreSQL, while the SQLite datasource parses the ISO-8601 text the store keeps.
 *
 * Counting follows the store's own history queries: a result with an infrastructure error counts
 * for neither side, and a pass rate is passed / (passed + failed + killed), skips left out.
 */
export type SqlDialect = 'postgres' | 'sqlite';

export interface StorePanelQuery {
  /** Which panel runs it (the panel's title). */
  panel: string;
  sql: string;
  /** The columns the panel reads, in order: a test of the query checks exactly these come back. */
  columns: readonly string[];
}

function timeColumn(dialect: SqlDialect, column: string): string {
  return dialect === 'postgres' ? `CAST(${column} AS timestamptz)` : column;
}

/** A run of one flavor, and its rank among that flavor's runs, newest first. */
const FLAVOR_RUNS = `flavor_runs AS (
  SELECT flavor_id, run_id, started_at,
         ROW_NUMBER() OVER (PARTITION BY flavor_id ORDER BY started_at DESC, run_id DESC) AS recency
  FROM (SELECT DISTINCT t.flavor_id, t.run_id, r.started_at FROM test_results t JOIN runs r ON r.id = t.run_id) runs_of_flavor
)`;

/**
 * Flavor × group for each flavor's latest run: the cell's state is the worst that happened in the
 * group (an unexpected failure, then an infrastructure error, then an expected one), with the
 * counts and the S3 key of that run's log for the cell's link.
 */
export function matrixQuery(): StorePanelQuery {
  return {
    panel: 'Pass/fail matrix',
    columns: ['group', 'flavor', 'state', 'passed', 'failed', 'skipped', 'run', 'log_key'],
    sql: `WITH ${FLAVOR_RUNS}
SELECT t.group_name AS "group",
       t.flavor_id AS "flavor",
       CASE
         WHEN SUM(CASE WHEN t.infra_error IS NULL AND t.classification = 'unexpected-fail' THEN 1 ELSE 0 END) > 0 THEN 'FAIL'
         WHEN SUM(CASE WHEN t.infra_error IS NOT NULL THEN 1 ELSE 0 END) > 0 THEN 'INFRA'
         WHEN SUM(CASE WHEN t.classification IN ('expected-fail', 'flaky') THEN 1 ELSE 0 END) > 0 THEN 'KNOWN'
         WHEN SUM(CASE WHEN t.outcome = 'PASS' THEN 1 ELSE 0 END) > 0 THEN 'PASS'
         ELSE 'SKIP'
       END AS "state",
       SUM(CASE WHEN t.infra_error IS NULL AND t.outcome = 'PASS' THEN 1 ELSE 0 END) AS "passed",
       SUM(CASE WHEN t.infra_error IS NULL AND t.outcome IN ('FAIL', 'KILLED') THEN 1 ELSE 0 END) AS "failed",
       SUM(CASE WHEN t.infra_error IS NULL AND t.outcome = 'SKIP' THEN 1 ELSE 0 END) AS "skipped",
       t.run_id AS "run",
       (SELECT MIN(a.s3_key) FROM artifact_keys a WHERE a.run_id = t.run_id AND a.flavor_id = t.flavor_id) AS "log_key"
FROM test_results t
JOIN flavor_runs f ON f.run_id = t.run_id AND f.flavor_id = t.flavor_id AND f.recency = 1
WHERE t.kind = 'test'
GROUP BY t.group_name, t.flavor_id, t.run_id
ORDER BY t.group_name, t.flavor_id`,
  };
}

/** Pass rate of each of a flavor's last 100 runs, one series per flavor. */
export function passRateTrendQuery(dialect: SqlDialect): StorePanelQuery {
  return {
    panel: 'Pass rate, last 100 runs per flavor',
    columns: ['time', 'flavor', 'pass_rate'],
    sql: `WITH ${FLAVOR_RUNS},
counts AS (
  SELECT t.run_id, t.flavor_id,
         SUM(CASE WHEN t.infra_error IS NULL AND t.outcome = 'PASS' THEN 1 ELSE 0 END) AS passed,
         SUM(CASE WHEN t.infra_error IS NULL AND t.outcome IN ('PASS', 'FAIL', 'KILLED') THEN 1 ELSE 0 END) AS executed
  FROM test_results t
  GROUP BY t.run_id, t.flavor_id
)
SELECT ${timeColumn(dialect, 'f.started_at')} AS "time",
       f.flavor_id AS "flavor",
       1.0 * c.passed / c.executed AS "pass_rate"
FROM flavor_runs f
JOIN counts c ON c.run_id = f.run_id AND c.flavor_id = f.flavor_id
WHERE f.recency <= 100 AND c.executed > 0
ORDER BY f.started_at, f.flavor_id`,
  };
}

/**
 * Duration drift: each passing test of a flavor's latest run against the mean of its passing runs
 * among the flavor's previous 20, most slowed-down first. Tests with no earlier pass are left out;
 * the ratio is empty when the mean is 0 (the runner reports whole seconds).
 */
export function durationDriftQuery(): StorePanelQuery {
  return {
    panel: 'Duration drift, latest run against the previous 20',
    columns: ['flavor', 'test', 'latest_seconds', 'mean_seconds', 'ratio', 'runs'],
    sql: `WITH ${FLAVOR_RUNS},
passes AS (
  SELECT t.flavor_id, t.test_id, t.duration_seconds, f.recency
  FROM test_results t
  JOIN flavor_runs f ON f.run_id = t.run_id AND f.flavor_id = t.flavor_id
  WHERE t.kind = 'test' AND t.outcome = 'PASS' AND t.infra_error IS NULL AND f.recency <= 21
),
history AS (
  SELECT flavor_id, test_id, AVG(duration_seconds) AS mean_seconds, COUNT(*) AS runs
  FROM passes WHERE recency > 1 GROUP BY flavor_id, test_id
)
SELECT p.flavor_id AS "flavor",
       p.test_id AS "test",
       p.duration_seconds AS "latest_seconds",
       h.mean_seconds AS "mean_seconds",
       p.duration_seconds / NULLIF(h.mean_seconds, 0) AS "ratio",
       h.runs AS "runs"
FROM passes p
JOIN history h ON h.flavor_id = p.flavor_id AND h.test_id = p.test_id
WHERE p.recency = 1
ORDER BY p.duration_seconds - h.mean_seconds DESC, p.flavor_id, p.test_id`,
  };
}

/** Every results-store query a dashboard runs: the tests execute each one against a real store. */
export function storePanelQueries(dialect: SqlDialect): StorePanelQuery[] {
  return [matrixQuery(), passRateTrendQuery(dialect), durationDriftQuery()];
}
