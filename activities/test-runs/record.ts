import { baselineFor, seriesOf } from '../../core/baselines/index.js';
import { classify } from '../../core/baselines/classify.js';
import { DEFAULT_EXPIRE_AFTER_RUNS, withLearned } from '../../core/baselines/learned.js';
import { emptyClassCounts, isUnexpected, rerunCandidates } from '../../core/results/result-class.js';
import type { Classification, ClassifiedResult } from '../../core/results/types.js';
import { ChunkResultsFileSchema, emptyCounts } from '../../core/test-run/chunk-results.js';
import type { OutcomeCounts } from '../../core/test-run/chunk-results.js';
import { runKeys } from '../../core/test-run/keys.js';
import type { RecordedChunk, TargetTotals } from '../../core/test-run/types.js';
import { recordResults as countResults } from '../../lib/metrics.js';
import type { CoordinatorMetrics } from '../../lib/metrics.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { LearnedBaselines } from '../../lib/store/learned-baselines.js';
import { ProbeStore } from '../../lib/store/probes.js';
import type { ResultsStore } from '../../lib/store/store.js';
import type { StoredResult } from '../../lib/store/types.js';

export interface RecordDeps {
  store: ResultsStore;
  artifacts: ArtifactStore;
  metrics?: CoordinatorMetrics;
  /** `baseline.expireAfterRuns` (default DEFAULT_EXPIRE_AFTER_RUNS). */
  expireAfterRuns?: number;
  now?: () => Date;
}

export interface RecordChunkInput {
  runId: string;
  flavorId: string;
  shard: number;
  resultsKey: string;
  /** The target's OpenZFS version, or the run's baseline override: picks the known/flaky baseline. */
  baselineVersion: string;
}

/**
 * Records one chunk's results (read from its results file in S3) in the store, classified against
 * the baseline of the target's OpenZFS version. Idempotent: the store upserts per script, so a
 * retried activity or a resumed chunk that reports again leaves one row per script.
 */
export async function recordZtsChunk(input: RecordChunkInput, deps: RecordDeps): Promise<RecordedChunk> {
  const text = await deps.artifacts.getText(input.resultsKey);
  if (text === undefined) return { tests: 0, counts: emptyCounts(), unexpected: 0, byClassification: emptyClassifications(), found: false };
  const file = ChunkResultsFileSchema.parse(JSON.parse(text));
  const classified = classify(file.results, await baselineOf(deps, input.flavorId, input.baselineVersion));
  await deps.store.recordResults({ runId: input.runId, flavorId: input.flavorId, shard: input.shard, results: classified });
  // The incident bundles of failing tests are linked from the run (`zfslab show`).
  if (file.incidents.length > 0) {
    await deps.store.recordArtifactKeys(
      file.incidents.map((incident, i) => ({
        runId: input.runId,
        flavorId: input.flavorId,
        shard: input.shard,
        name: `incident-chunk-${file.chunk}-${i + 1}`,
        s3Key: incident.key,
      })),
    );
  }
  // What the in-guest probes saw per script, and their raw streams, linked from the run.
  if (file.probes) {
    await new ProbeStore(deps.store.db).record({ runId: input.runId, flavorId: input.flavorId, shard: input.shard }, file.probes.scripts);
    await deps.store.recordArtifactKeys(
      file.probes.rawKeys.map((s3Key, i) => ({
        runId: input.runId,
        flavorId: input.flavorId,
        shard: input.shard,
        name: `probes-chunk-${file.chunk}-${i + 1}`,
        s3Key,
      })),
    );
  }
  if (deps.metrics) countResults(deps.metrics, input.flavorId, classified);
  return { ...summarize(finalResults(classified)), found: true };
}

export interface FinishTargetInput {
  runId: string;
  flavorId: string;
  shards: number[];
  /** The version whose baseline classed the results: its learned entries that are due expire at the close. */
  baselineVersion?: string;
}

/**
 * Closes a target: per shard, `results.json` (the classified results as stored) and the artifact
 * keys; returns the target's totals from the store, which is the truth whatever the workflow saw.
 */
export async function finishZtsTarget(input: FinishTargetInput, deps: RecordDeps): Promise<Omit<TargetTotals, 'infraErrors'>> {
  const series = input.baselineVersion !== undefined ? seriesOf(input.baselineVersion) : undefined;
  if (series !== undefined) {
    // This run's results count as history now: a learned entry whose test kept passing drops out.
    await new LearnedBaselines(deps.store.db).expireDue(
      { flavorId: input.flavorId, series },
      deps.expireAfterRuns ?? DEFAULT_EXPIRE_AFTER_RUNS,
      (deps.now?.() ?? new Date()).toISOString(),
    );
  }
  const stored = await deps.store.getResults(input.runId, { flavorId: input.flavorId });
  for (const shard of input.shards) {
    const results = stored.filter((r) => r.shard === shard);
    const resultsKey = runKeys.shardResults(input.runId, input.flavorId, shard);
    const put = await deps.artifacts.putBytes(
      resultsKey,
      JSON.stringify({ schema: 'zfslab.zts-results/v1', runId: input.runId, flavorId: input.flavorId, shard, results }, null, 2) + '\n',
    );
    await deps.store.recordArtifactKeys([
      { runId: input.runId, flavorId: input.flavorId, shard, name: 'runfile', s3Key: runKeys.shardRunfile(input.runId, input.flavorId, shard) },
      { runId: input.runId, flavorId: input.flavorId, shard, name: 'results-tree', s3Key: runKeys.resultsTree(input.runId, input.flavorId, shard) },
      { runId: input.runId, flavorId: input.flavorId, shard, name: 'results-json', s3Key: resultsKey, bytes: put.bytes },
    ]);
  }
  const summary = summarize(stored);
  const classes = emptyClassCounts();
  let unexpected = 0;
  for (const r of stored) {
    if (r.kind === 'failsafe' || r.resultClass === undefined) continue;
    classes[r.resultClass]++;
    if (isUnexpected(r.resultClass)) unexpected++;
  }
  return { tests: summary.tests, counts: summary.counts, unexpected, classes };
}

export interface RerunCandidatesInput {
  runId: string;
  flavorId: string;
  shard: number;
  /** 1-based re-run round. */
  round: number;
}

/** The shard's tests to run again in this round: still-`regression` FAIL/KILLED tests (core/results/result-class.ts). */
export async function ztsRerunCandidates(input: RerunCandidatesInput, deps: RecordDeps): Promise<string[]> {
  const stored = await deps.store.getResults(input.runId, { flavorId: input.flavorId, kind: 'test' });
  return rerunCandidates(
    stored.filter((r) => r.shard === input.shard),
    input.round,
  );
}

export interface RecordRerunInput {
  runId: string;
  flavorId: string;
  /** The re-run chunk's results file. */
  resultsKey: string;
  /** The tests that were re-run: results of any other script in the file (setup, cleanup) are not re-run outcomes. */
  testIds: string[];
}

/**
 * Appends a re-run chunk's outcomes to the tests' stored results (which keep their first attempt)
 * and re-classes them. A re-run that left no results file changes nothing: the tests stay regressions.
 */
export async function recordZtsRerun(input: RecordRerunInput, deps: RecordDeps): Promise<{ rerun: number; passed: number }> {
  const text = await deps.artifacts.getText(input.resultsKey);
  if (text === undefined) return { rerun: 0, passed: 0 };
  const file = ChunkResultsFileSchema.parse(JSON.parse(text));
  const wanted = new Set(input.testIds);
  const reruns = finalResults(file.results.filter((r) => r.kind === 'test' && wanted.has(r.testId))).map((r) => ({
    testId: r.testId,
    linuxSection: r.linuxSection,
    outcome: r.outcome,
  }));
  const rerun = await deps.store.recordReruns({ runId: input.runId, flavorId: input.flavorId, results: reruns });
  return { rerun, passed: reruns.filter((r) => r.outcome === 'PASS').length };
}

/** The seed baseline of the version's series with the flavor's active learned entries for that series. */
async function baselineOf(deps: RecordDeps, flavorId: string, version: string): Promise<ReturnType<typeof withLearned>> {
  const series = seriesOf(version);
  const learned = series !== undefined ? await new LearnedBaselines(deps.store.db).list({ flavorId, series }) : [];
  return withLearned(baselineFor(version), learned);
}

/** The last result of each script (a resumed group's setup ran twice; the store keeps the last too). */
function finalResults<R extends Pick<ClassifiedResult, 'testId' | 'kind' | 'linuxSection'>>(results: readonly R[]): R[] {
  const last = new Map<string, R>();
  for (const r of results) last.set(`${r.testId}\u0000${r.kind}\u0000${r.linuxSection}`, r);
  return [...last.values()];
}

function summarize(results: readonly (ClassifiedResult | StoredResult)[]): Omit<RecordedChunk, 'found'> {
  const counts: OutcomeCounts = emptyCounts();
  const byClassification = emptyClassifications();
  let tests = 0;
  let unexpected = 0;
  for (const r of results) {
    if (r.kind === 'failsafe') continue;
    byClassification[r.classification]++;
    if (r.classification === 'unexpected-fail') unexpected++;
    if (r.kind !== 'test') continue;
    tests++;
    counts[r.outcome]++;
  }
  return { tests, counts, unexpected, byClassification };
}

function emptyClassifications(): Record<Classification, number> {
  return { pass: 0, skip: 0, 'expected-fail': 0, flaky: 0, 'unexpected-fail': 0 };
}
