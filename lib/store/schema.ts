import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { ResultClass } from '../../core/results/result-class.js';
import type { Classification, ScriptKind, TestOutcome } from '../../core/results/types.js';

/**
 * The tables of the results store as Kysely sees them after the latest migration. One shape
 * serves SQLite and PostgreSQL, so every column uses a type both read back the same way:
 * timestamps are ISO-8601 UTC text (sorts chronologically as text, Grafana parses it), booleans
 * are 0/1 integers, durations are double precision.
 */

/** A run's state: `infra-error` (a VM, host or service broke) is kept apart from `failed` (a test failed). */
export type RunStatus = 'running' | 'passed' | 'failed' | 'infra-error' | 'cancelled';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'passed', 'failed', 'infra-error', 'cancelled'];

export interface RunsTable {
  id: string;
  /** The Temporal workflow that drove the run (absent for imported runs). */
  workflow_id: string | null;
  /** What was asked for, e.g. `suite:quick`, `group:functional/zpool_create`, `recipe:dedup.sh`. */
  selection: string;
  /** `all` or a flavor id: what the user targeted. */
  target: string;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
}

export interface FlavorsTable {
  id: string;
  os: string;
  release: string;
  kernel: string;
  openzfs_version: string;
  updated_at: string;
}

export interface HostsTable {
  id: string;
  hostname: string;
  /** JSON text: the capabilities the host's probe proved (a string array; `{}` in rows older than 0007). */
  capabilities: string;
  last_seen_at: string;
  /** JSON text: CPUs, RAM, VM slots, goldens present, tags (core/host/registry.ts HostFacts). Added by 0007. */
  facts: ColumnType<string | null, string | null | undefined, string | null>;
  probed_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** good | unknown | bad | maintenance | retired. Added by 0007. */
  health_state: ColumnType<string, string | undefined, string>;
  /** JSON text: the whole HostHealthRecord (core/host/health.ts). Added by 0007. */
  health: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A flavor a `test all` run left out because no host could run it, and why. Added by 0007. */
export interface RunSkippedTargetsTable {
  run_id: string;
  flavor_id: string;
  reason: string;
}

/** Every change of a host's health, with who, why and when. Added by 0007. */
export interface HostHealthTransitionsTable {
  host_id: string;
  at: string;
  from_state: string;
  to_state: string;
  by: string;
  why: string;
}

/** What one flavor of one run actually ran on: the versions can differ from today's catalog row. */
export interface RunFlavorsTable {
  run_id: string;
  flavor_id: string;
  host_id: string | null;
  kernel: string;
  openzfs_version: string;
  shard_count: ColumnType<number, number | undefined, number>;
  /** The golden it ran on (its suite was planned from, its clones ran the tests). Added by 0011. */
  golden: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TestResultsTable {
  run_id: string;
  flavor_id: string;
  /** 1-based shard index (`-T i/n`); 1 when the flavor ran unsharded. */
  shard: number;
  test_id: string;
  group_name: string;
  kind: ScriptKind;
  /** 1 for a line from a linux.run `[...:Linux]` section (`Test (Linux):`); part of the key. */
  linux_section: number;
  outcome: TestOutcome;
  reran: number;
  duration_seconds: number;
  classification: Classification;
  issue_url: string | null;
  /** The baseline's reason for an expected/flaky result. Added by 0003. */
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set when the result is the infrastructure's fault (VM died, ssh lost), not the test's. Added by 0002. */
  infra_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** Kind, signature and console excerpt key of the crash behind a CRASH result. Added by 0004. */
  crash_kind: ColumnType<string | null, string | null | undefined, string | null>;
  crash_signature: ColumnType<string | null, string | null | undefined, string | null>;
  crash_console_key: ColumnType<string | null, string | null | undefined, string | null>;
  logged_at: string | null;
  /** regression, flaky, known, crash, infra (core/results/result-class.ts); null for PASS/SKIP. Added by 0009. */
  result_class: ColumnType<ResultClass | null, ResultClass | null | undefined, ResultClass | null>;
  /** Outcomes of the re-runs, comma-separated, oldest first; '' when not re-run. Added by 0009. */
  reruns: ColumnType<string, string | undefined, string>;
}

/** A baseline entry learned on this lab (core/baselines/learned.ts). Added by 0010. */
/** Migration 0012: per script, probe (zio, txg, arc, spl) and series, what the in-guest probes saw. */
export interface TestProbesTable {
  run_id: string;
  flavor_id: string;
  test_id: string;
  probe: string;
  /** The zio type, the pool, or '' (arc, spl). */
  series: string;
  shard: number;
  /** zio or txg count; ARC hits + misses; SPL: memory throttles. bigint: PostgreSQL returns it as a string. */
  count: number | string;
  p50_seconds: number | null;
  p95_seconds: number | null;
  p99_seconds: number | null;
  max_seconds: number | null;
  /** JSON: the probe's summary (buckets, windows, sizes). */
  detail: string;
}

export interface LearnedBaselinesTable {
  flavor_id: string;
  /** OpenZFS release series, `major.minor`. */
  series: string;
  test_id: string;
  /** FAIL or KILLED: the outcome it excuses. */
  outcome: string;
  /** known or maybe. */
  list: string;
  reason: string;
  accepted_at: string;
  accepted_by: string;
  expired_at: string | null;
  expired_why: string | null;
}

export interface ArtifactKeysTable {
  run_id: string;
  flavor_id: string;
  shard: number;
  /** What the object is: `log`, `results`, `console`, `dmesg`, `bundle` … */
  name: string;
  s3_key: string;
  bytes: number | null;
}

export interface StoreDatabase {
  runs: RunsTable;
  flavors: FlavorsTable;
  hosts: HostsTable;
  host_health_transitions: HostHealthTransitionsTable;
  run_skipped_targets: RunSkippedTargetsTable;
  run_flavors: RunFlavorsTable;
  test_results: TestResultsTable;
  artifact_keys: ArtifactKeysTable;
  learned_baselines: LearnedBaselinesTable;
  test_probes: TestProbesTable;
}

export type RunRow = Selectable<RunsTable>;
export type TestResultRow = Selectable<TestResultsTable>;
export type NewTestResultRow = Insertable<TestResultsTable>;
