import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectDeviations, type DetectionReport } from '../../core/fingerprint/detect.js';
import { fingerprintKeys } from '../../core/fingerprint/keys.js';
import { parseFingerprint, type Fingerprint, type SectionCoverage, type SectionName } from '../../core/fingerprint/schema.js';
import { DEFAULT_TOLERANCES, TolerancesSchema, type Tolerances } from '../../core/fingerprint/tolerances.js';
import { InfraError } from '../../lib/errors.js';
import { captureFingerprint, type CaptureOptions } from './capture.js';
import type { CaptureShell } from './shell.js';

/**
 * A test run's fingerprint (issue 6, `zfslab test … --fingerprint`): capture alongside the run in the
 * guest, store it with the run's artifacts, and compare it with the flavor's baseline for the workload.
 * The S3 client is the caller's (the worker's artifact uploader); this module only names keys.
 */
export interface FingerprintArtifactStore {
  /** Stores an object; returns its URI for people (s3://… or a console link). */
  upload(key: string, body: Buffer | string, contentType: string): Promise<string>;
  /** The object's bytes, or undefined when there is no such key. */
  download(key: string): Promise<Buffer | undefined>;
}

export interface RunFingerprintInput {
  runId: string;
  flavor: string;
  shard: number | string;
  /** The chunk of the shard, when the run is cut into chunks (keys then sit beside the chunk's results). */
  chunk?: number;
  /** Stable name of what ran, the baseline's key: `zts-sanity`, `recipe-dedup`. */
  workload: string;
  /** Follow this binary's first exec (default: zfs-tests.sh as the golden installs it). */
  followExec?: string;
  /** A file created in the guest once the tracer is attached; the workload's runner waits for it. */
  readyFile?: string;
  durationSeconds?: number;
  zfsVersion?: string;
  signal?: AbortSignal;
  onReady?: () => void;
}

export type BaselineComparison =
  | { status: 'missing'; baselineKey: string }
  | { status: 'compared'; baselineKey: string; deviationsUri: string; deviations: number; bySeverity: DetectionReport['bySeverity']; report: DetectionReport };

export interface RunFingerprintResult {
  fingerprintUri: string;
  rawUri: string;
  sections: Record<SectionName, SectionCoverage>;
  comparison: BaselineComparison;
}

export const ZTS_ENTRY = '/usr/share/zfs/zfs-tests.sh';

/** Captures in the guest (follow mode), stores fingerprint and raw capture, compares with the baseline. */
export async function captureRunFingerprint(shell: CaptureShell, input: RunFingerprintInput, store: FingerprintArtifactStore): Promise<RunFingerprintResult> {
  const dir = await mkdtemp(join(tmpdir(), 'zfslab-run-fingerprint-'));
  try {
    const rawPath = join(dir, 'raw.jsonl');
    const options: CaptureOptions = {
      followExec: input.followExec ?? ZTS_ENTRY,
      workload: input.workload,
      rawOutputPath: rawPath,
      ...(input.readyFile ? { readyFile: input.readyFile } : {}),
      ...(input.durationSeconds ? { durationSeconds: input.durationSeconds } : {}),
      ...(input.zfsVersion ? { zfsVersion: input.zfsVersion } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.onReady ? { onReady: input.onReady } : {}),
    };
    const { fingerprint } = await captureFingerprint(shell, options);
    const fingerprintUri = await store.upload(
      fingerprintKeys.run(input.runId, input.flavor, input.shard, input.chunk),
      JSON.stringify(fingerprint, null, 2) + '\n',
      'application/json',
    );
    const rawUri = await store.upload(
      fingerprintKeys.runRaw(input.runId, input.flavor, input.shard, input.chunk),
      await readFile(rawPath),
      'application/x-ndjson',
    );
    const comparison = await compareWithBaseline(fingerprint, input, store);
    return { fingerprintUri, rawUri, sections: fingerprint.capture.sections, comparison };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Compares a run's fingerprint with the flavor's baseline (and its tolerances, when verify stored some). */
export async function compareWithBaseline(
  fingerprint: Fingerprint,
  input: Pick<RunFingerprintInput, 'runId' | 'flavor' | 'shard' | 'chunk' | 'workload'>,
  store: FingerprintArtifactStore,
): Promise<BaselineComparison> {
  const baselineKey = fingerprintKeys.baseline(input.flavor, input.workload);
  const raw = await store.download(baselineKey);
  if (!raw) return { status: 'missing', baselineKey };
  const baseline = parseFingerprint(parseJson(raw, baselineKey));
  if (!baseline.ok) throw new InfraError(`baseline ${baselineKey} is not a valid fingerprint: ${baseline.issues.slice(0, 3).join('; ')}`);
  const tolerances = await loadTolerances(store, fingerprintKeys.baselineTolerances(input.flavor, input.workload));
  const report = detectDeviations(baseline.value, fingerprint, tolerances);
  const deviationsUri = await store.upload(
    fingerprintKeys.runDeviations(input.runId, input.flavor, input.shard, input.chunk),
    JSON.stringify(report, null, 2) + '\n',
    'application/json',
  );
  return { status: 'compared', baselineKey, deviationsUri, deviations: report.deviations.length, bySeverity: report.bySeverity, report };
}

/** Stores a fingerprint (and optionally tolerances) as the flavor's baseline for a workload. */
export async function storeBaseline(
  store: FingerprintArtifactStore,
  flavor: string,
  workload: string,
  fingerprint: Fingerprint,
  tolerances?: Tolerances,
): Promise<{ baselineUri: string; tolerancesUri?: string }> {
  const baselineUri = await store.upload(fingerprintKeys.baseline(flavor, workload), JSON.stringify(fingerprint, null, 2) + '\n', 'application/json');
  if (!tolerances) return { baselineUri };
  const tolerancesUri = await store.upload(
    fingerprintKeys.baselineTolerances(flavor, workload),
    JSON.stringify(tolerances, null, 2) + '\n',
    'application/json',
  );
  return { baselineUri, tolerancesUri };
}

async function loadTolerances(store: FingerprintArtifactStore, key: string): Promise<Tolerances> {
  const raw = await store.download(key);
  if (!raw) return DEFAULT_TOLERANCES;
  const parsed = TolerancesSchema.safeParse(parseJson(raw, key));
  if (!parsed.success) throw new InfraError(`tolerances ${key} are invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function parseJson(raw: Buffer, key: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new InfraError(`${key} is not JSON: ${(err as Error).message}`);
  }
}
