import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Classification, ScriptKind, TestOutcome } from '../core/results/types.js';
import { createProbeMetrics, type ProbeMetrics } from './probe-metrics.js';

/**
 * The workers' Prometheus metrics, named the way pdf/zfs_exporter names its own: a `zfslab_`
 * prefix, base units in the name (`_seconds`, `_bytes`), `_total` on counters. Labels hold only
 * small, bounded sets (flavor ids from the catalog, outcomes, classifications): run ids and test
 * names would make a new series per run or per test, so they live in the results store, and the
 * pass/fail matrix is drawn from there (a SQL datasource), not from Prometheus.
 *
 * Nothing here is a module-level singleton: the worker creates one set on its own registry and
 * passes it to what records into it.
 */

/** How a run ended (the results store's run status, minus `running`). */
export type RunOutcome = 'passed' | 'failed' | 'infra-error' | 'cancelled';

/**
 * ZTS scripts run from under a second (most of the suite) to the runner's timeouts: 600 s by
 * default, hours for the slowest (upstream's longest 2023 test took 303 s; soak recipes run for hours).
 */
export const TEST_DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400] as const;
/** A run: a single test (a minute) to the full suite on TCG (a night). */
export const RUN_DURATION_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400] as const;

/** What every worker serves: its process metrics and its artifact uploads to S3 (lib/s3.ts `onUpload`). */
export interface WorkerMetrics {
  readonly registry: Registry;
  readonly artifactUploads: Counter<'outcome'>;
  readonly artifactUploadRetries: Counter;
  readonly artifactUploadedBytes: Counter;
}

/** The coordinator's, in addition: runs and test results, counted as they are written to the store. */
export interface CoordinatorMetrics extends WorkerMetrics {
  readonly runs: Counter<'outcome'>;
  readonly runDuration: Histogram<'outcome'>;
  readonly testResults: Counter<'flavor' | 'outcome' | 'classification'>;
  readonly testDuration: Histogram<'flavor'>;
}

export interface MetricsOptions {
  registry?: Registry;
  /** Node's process metrics (CPU, memory, event loop), prefixed with the worker's role. */
  processMetrics?: boolean;
}

/** A host worker's: process metrics as `zfslab_host_*`, its artifact uploads, and the in-guest probes (`zfs_*`). */
export interface HostMetrics extends WorkerMetrics {
  readonly probes: ProbeMetrics;
}

export function createHostMetrics(options: MetricsOptions = {}): HostMetrics {
  const worker = createWorkerMetrics('host', options);
  return { ...worker, probes: createProbeMetrics(worker.registry) };
}

export function createCoordinatorMetrics(options: MetricsOptions = {}): CoordinatorMetrics {
  const worker = createWorkerMetrics('coordinator', options);
  const registers = [worker.registry];
  return {
    ...worker,
    runs: new Counter({ name: 'zfslab_runs_total', help: 'Runs finished, by how they ended.', labelNames: ['outcome'], registers }),
    runDuration: new Histogram({
      name: 'zfslab_run_duration_seconds',
      help: 'Wall time of finished runs.',
      labelNames: ['outcome'],
      buckets: [...RUN_DURATION_BUCKETS],
      registers,
    }),
    testResults: new Counter({
      name: 'zfslab_test_results_total',
      help: 'Script results recorded (tests, setups, cleanups, failsafes), by flavor, runner outcome and classification; classification "infra-error" when the infrastructure was to blame.',
      labelNames: ['flavor', 'outcome', 'classification'],
      registers,
    }),
    testDuration: new Histogram({
      name: 'zfslab_test_duration_seconds',
      help: 'Duration of ZTS tests (kind test; setups, cleanups and infra-spoiled results excluded), as the runner reported it.',
      labelNames: ['flavor'],
      buckets: [...TEST_DURATION_BUCKETS],
      registers,
    }),
  };
}

function createWorkerMetrics(role: 'coordinator' | 'host', options: MetricsOptions): WorkerMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? false) collectDefaultMetrics({ register: registry, prefix: `zfslab_${role}_` });
  const registers = [registry];
  return {
    registry,
    artifactUploads: new Counter({ name: 'zfslab_artifact_uploads_total', help: 'Artifact uploads to S3, by result.', labelNames: ['outcome'], registers }),
    artifactUploadRetries: new Counter({ name: 'zfslab_artifact_upload_retries_total', help: 'Artifact upload attempts that were retries.', registers }),
    artifactUploadedBytes: new Counter({
      name: 'zfslab_artifact_uploaded_bytes_total',
      help: 'Bytes of artifacts written to S3 (an identical object already there is not written again).',
      registers,
    }),
  };
}

export function recordRunOutcome(metrics: CoordinatorMetrics, outcome: RunOutcome, durationSeconds?: number): void {
  metrics.runs.inc({ outcome });
  if (durationSeconds !== undefined) metrics.runDuration.observe({ outcome }, durationSeconds);
}

/** What `recordResults` reads: the shared classified result, plus an infra error when there was one. */
export interface MetricsResult {
  kind: ScriptKind;
  outcome: TestOutcome;
  classification: Classification;
  durationSeconds: number;
  infraError?: string;
}

/** Counts one flavor's results (call once per recorded batch, as the store is written). */
export function recordResults(metrics: CoordinatorMetrics, flavor: string, results: readonly MetricsResult[]): void {
  const counts = new Map<string, { outcome: TestOutcome; classification: string; n: number }>();
  for (const r of results) {
    const classification = r.infraError === undefined ? r.classification : 'infra-error';
    const key = `${r.outcome} ${classification}`;
    const entry = counts.get(key) ?? { outcome: r.outcome, classification, n: 0 };
    entry.n++;
    counts.set(key, entry);
    if (r.kind === 'test' && r.infraError === undefined) metrics.testDuration.observe({ flavor }, r.durationSeconds);
  }
  for (const { outcome, classification, n } of counts.values()) metrics.testResults.inc({ flavor, outcome, classification }, n);
}

/** One upload as lib/s3.ts reports it (`onUpload`): `bytes` written (0 when it was already there). */
export function recordArtifactUpload(metrics: WorkerMetrics, upload: { ok: boolean; bytes: number; retries: number }): void {
  metrics.artifactUploads.inc({ outcome: upload.ok ? 'success' : 'failure' });
  if (upload.retries > 0) metrics.artifactUploadRetries.inc(upload.retries);
  if (upload.ok && upload.bytes > 0) metrics.artifactUploadedBytes.inc(upload.bytes);
}

/** A node:http request handler serving the registry at GET /metrics (404 elsewhere). */
export function metricsHandler(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${String(err)}\n`),
    );
  };
}
