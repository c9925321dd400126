import type { Kysely } from 'kysely';
import { CrashKindSchema } from '../../core/crash/mark.js';
import type { Logger } from '../log.js';
import { diffRuns, durationDrift, flakyTests, passRateTrend, testMilestones } from './history.js';
import type {
  DurationDrift,
  DurationDriftOptions,
  FlakyTest,
  FlakyTestsOptions,
  PassRatePoint,
  PassRateTrendOptions,
  RunDiff,
  TestMilestones,
} from './history.js';
import type { NewTestResultRow, RunStatus, StoreDatabase } from './schema.js';
import {
  ArtifactKeySchema,
  FlavorRecordSchema,
  RerunBatchSchema,
  HostRecordSchema,
  ResultBatchSchema,
  RunEndSchema,
  RunFlavorRecordSchema,
  RunRecordSchema,
} from './types.js';
import type {
  ArtifactKey,
  FlavorRecord,
  HostRecord,
  RerunBatch,
  ResultBatch,
  RunEnd,
  RunFlavorRecord,
  RunRecord,
  StoredArtifactKey,
  StoredResult,
  StoredRun,
} from './types.js';
import { resultClass } from '../../core/results/result-class.js';
import { TestOutcomeSchema } from '../../core/results/types.js';
import type { ScriptKind, TestOutcome } from '../../core/results/types.js';

export type StoreDialect = 'sqlite' | 'postgres';

/** Rows per INSERT: 14 columns × 250 stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const RESULT_CHUNK = 250;

/** Stored timestamps are UTC `toISOString()` text so that text order is time order on both engines. */
function utc(iso: string): string {
  return new Date(iso).toISOString();
}

/**
 * The results store: one Kysely query layer over SQLite or PostgreSQL. Every write validates its
 * input and is idempotent (an activity retried by Temporal writes the same rows again), so
 * callers never need to know whether a previous attempt got through.
 */
export class ResultsStore {
  constructor(
    readonly db: Kysely<StoreDatabase>,
    readonly dialect: StoreDialect,
    private readonly log: Logger,
  ) {}

  // ---- writes ----------------------------------------------------------------------------------

  async recordRun(input: RunRecord): Promise<void> {
    const run = RunRecordSchema.parse(input);
    const row = {
      id: run.id,
      workflow_id: run.workflowId ?? null,
      selection: run.selection,
      target: run.target,
      started_at: utc(run.startedAt),
      ended_at: run.endedAt === undefined ? null : utc(run.endedAt),
      status: run.status,
    };
    await this.db
      .insertInto('runs')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          workflow_id: row.workflow_id,
          selection: row.selection,
          target: row.target,
          started_at: row.started_at,
          ended_at: row.ended_at,
          status: row.status,
        }),
      )
      .execute();
  }

  async finishRun(runId: string, input: RunEnd): Promise<void> {
    const end = RunEndSchema.parse(input);
    const { numUpdatedRows } = await this.db
      .updateTable('runs')
      .set({ status: end.status, ended_at: utc(end.endedAt) })
      .where('id', '=', runId)
      .executeTakeFirst();
    if (numUpdatedRows === 0n) throw new Error(`results store: no run ${runId} to finish`);
  }

  async upsertFlavor(input: FlavorRecord, now: string): Promise<void> {
    const flavor = FlavorRecordSchema.parse(input);
    const row = {
      id: flavor.id,
      os: flavor.os,
      release: flavor.release,
      kernel: flavor.kernel,
      openzfs_version: flavor.openzfsVersion,
      updated_at: utc(now),
    };
    await this.db
      .insertInto('flavors')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          os: row.os,
          release: row.release,
          kernel: row.kernel,
          openzfs_version: row.openzfs_version,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  async upsertHost(input: HostRecord): Promise<void> {
    const host = HostRecordSchema.parse(input);
    const row = {
      id: host.id,
      hostname: host.hostname,
      capabilities: JSON.stringify(host.capabilities),
      last_seen_at: utc(host.lastSeenAt),
    };
    await this.db
      .insertInto('hosts')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ hostname: row.hostname, capabilities: row.capabilities, last_seen_at: row.last_seen_at }))
      .execute();
  }

  async recordRunFlavor(input: RunFlavorRecord): Promise<void> {
    const rf = RunFlavorRecordSchema.parse(input);
    const row = {
      run_id: rf.runId,
      flavor_id: rf.flavorId,
      host_id: rf.hostId ?? null,
      kernel: rf.kernel,
      openzfs_version: rf.openzfsVersion,
      shard_count: rf.shardCount,
      golden: rf.golden ?? null,
    };
    await this.db
      .insertInto('run_flavors')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['run_id', 'flavor_id']).doUpdateSet({
          host_id: row.host_id,
          kernel: row.kernel,
          openzfs_version: row.openzfs_version,
          shard_count: row.shard_count,
          golden: row.golden,
        }),
      )
      .execute();
  }

  /**
   * Upserts one shard's results on (run, flavor, testId, kind, Linux section) in one transaction;
   * returns the number of rows written. Writing a result twice (a retried activity, a resumed run
   * that reports again, or twice in one batch) leaves one row holding the latest values.
   */
  async recordResults(input: ResultBatch): Promise<number> {
    const batch = ResultBatchSchema.parse(input);
    // PostgreSQL refuses an upsert that hits one key twice in a statement; SQLite would keep the
    // last. Keep the last here so both engines store the same thing.
    const latest = new Map<string, (typeof batch.results)[number]>();
    for (const r of attributeFailsafes(batch.results)) latest.set(`${r.testId}\u0000${r.kind}\u0000${r.linuxSection}`, r);
    if (latest.size < batch.results.length) {
      this.log.warn(
        { runId: batch.runId, flavorId: batch.flavorId, duplicates: batch.results.length - latest.size },
        'a batch repeated results; kept the last of each',
      );
    }
    const rows: NewTestResultRow[] = [...latest.values()].map((r) => ({
      run_id: batch.runId,
      flavor_id: batch.flavorId,
      shard: batch.shard,
      test_id: r.testId,
      group_name: r.group,
      kind: r.kind,
      linux_section: r.linuxSection ? 1 : 0,
      outcome: r.outcome,
      reran: r.reran ? 1 : 0,
      duration_seconds: r.durationSeconds,
      classification: r.classification,
      issue_url: r.issueUrl ?? null,
      reason: r.reason ?? null,
      infra_error: r.infraError ?? null,
      crash_kind: r.crash?.kind ?? null,
      crash_signature: r.crash?.signature ?? null,
      crash_console_key: r.crash?.consoleKey ?? null,
      logged_at: r.loggedAt ?? null,
      result_class: resultClass(r) ?? null,
    }));
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += RESULT_CHUNK) {
        await trx
          .insertInto('test_results')
          .values(rows.slice(i, i + RESULT_CHUNK))
          .onConflict((oc) =>
            oc.columns(['run_id', 'flavor_id', 'test_id', 'kind', 'linux_section']).doUpdateSet((eb) => ({
              shard: eb.ref('excluded.shard'),
              group_name: eb.ref('excluded.group_name'),
              outcome: eb.ref('excluded.outcome'),
              reran: eb.ref('excluded.reran'),
              duration_seconds: eb.ref('excluded.duration_seconds'),
              classification: eb.ref('excluded.classification'),
              issue_url: eb.ref('excluded.issue_url'),
              reason: eb.ref('excluded.reason'),
              infra_error: eb.ref('excluded.infra_error'),
              crash_kind: eb.ref('excluded.crash_kind'),
              crash_signature: eb.ref('excluded.crash_signature'),
              crash_console_key: eb.ref('excluded.crash_console_key'),
              logged_at: eb.ref('excluded.logged_at'),
              result_class: eb.ref('excluded.result_class'),
            })),
          )
          .execute();
      }
    });
    this.log.debug({ runId: batch.runId, flavorId: batch.flavorId, shard: batch.shard, results: rows.length }, 'results recorded');
    return rows.length;
  }

  /**
   * Appends re-run outcomes to stored test results and re-classes them (a test that passed on a
   * re-run becomes `flaky`); the row keeps the first attempt's outcome and duration. Returns the rows
   * updated; a re-run of a test with no stored result is ignored (and logged).
   */
  async recordReruns(input: RerunBatch): Promise<number> {
    const batch = RerunBatchSchema.parse(input);
    let updated = 0;
    await this.db.transaction().execute(async (trx) => {
      for (const rerun of batch.results) {
        const where = {
          run_id: batch.runId,
          flavor_id: batch.flavorId,
          test_id: rerun.testId,
          kind: 'test' as const,
          linux_section: rerun.linuxSection ? 1 : 0,
        };
        const row = await trx
          .selectFrom('test_results')
          .select(['outcome', 'classification', 'infra_error', 'reruns'])
          .where((eb) => eb.and(where))
          .executeTakeFirst();
        if (!row) {
          this.log.warn({ runId: batch.runId, flavorId: batch.flavorId, testId: rerun.testId }, 'a re-run of a test with no stored result: ignored');
          continue;
        }
        const reruns = [...parseReruns(row.reruns), rerun.outcome];
        const cls = resultClass({ kind: 'test', outcome: row.outcome, classification: row.classification, infraError: row.infra_error ?? undefined }, reruns);
        await trx
          .updateTable('test_results')
          .set({ reruns: reruns.join(','), result_class: cls ?? null })
          .where((eb) => eb.and(where))
          .execute();
        updated++;
      }
    });
    return updated;
  }

  async recordArtifactKeys(inputs: readonly ArtifactKey[]): Promise<void> {
    if (inputs.length === 0) return;
    const rows = inputs.map((input) => {
      const key = ArtifactKeySchema.parse(input);
      return {
        run_id: key.runId,
        flavor_id: key.flavorId,
        shard: key.shard,
        name: key.name,
        s3_key: key.s3Key,
        bytes: key.bytes ?? null,
      };
    });
    await this.db
      .insertInto('artifact_keys')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['run_id', 'flavor_id', 'shard', 'name']).doUpdateSet((eb) => ({ s3_key: eb.ref('excluded.s3_key'), bytes: eb.ref('excluded.bytes') })),
      )
      .execute();
  }

  // ---- reads -----------------------------------------------------------------------------------

  async getRun(runId: string): Promise<StoredRun | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    return row === undefined ? undefined : toRun(row);
  }

  /** Newest first. */
  async listRuns(options: { limit?: number; target?: string; status?: RunStatus } = {}): Promise<StoredRun[]> {
    let query = this.db.selectFrom('runs').selectAll();
    if (options.target !== undefined) query = query.where('target', '=', options.target);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    const rows = await query
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 50)
      .execute();
    return rows.map(toRun);
  }

  /** A run's results ordered by flavor, shard, group and test. */
  async getResults(runId: string, options: { flavorId?: string; kind?: ScriptKind } = {}): Promise<StoredResult[]> {
    let query = this.db.selectFrom('test_results').selectAll().where('run_id', '=', runId);
    if (options.flavorId !== undefined) query = query.where('flavor_id', '=', options.flavorId);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    const rows = await query.orderBy('flavor_id').orderBy('shard').orderBy('group_name').orderBy('test_id').orderBy('kind').orderBy('linux_section').execute();
    return rows.map((r) => ({
      runId: r.run_id,
      flavorId: r.flavor_id,
      shard: r.shard,
      testId: r.test_id,
      group: r.group_name,
      kind: r.kind,
      linuxSection: r.linux_section !== 0,
      outcome: r.outcome,
      reran: r.reran !== 0,
      durationSeconds: r.duration_seconds,
      classification: r.classification,
      issueUrl: r.issue_url ?? undefined,
      reason: r.reason ?? undefined,
      infraError: r.infra_error ?? undefined,
      crash:
        r.crash_kind && r.crash_signature
          ? { kind: CrashKindSchema.parse(r.crash_kind), signature: r.crash_signature, consoleKey: r.crash_console_key ?? undefined }
          : undefined,
      loggedAt: r.logged_at ?? undefined,
      resultClass: r.result_class ?? undefined,
      reruns: parseReruns(r.reruns),
    }));
  }

  async getArtifactKeys(runId: string): Promise<StoredArtifactKey[]> {
    const rows = await this.db
      .selectFrom('artifact_keys')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('flavor_id')
      .orderBy('shard')
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      runId: r.run_id,
      flavorId: r.flavor_id,
      shard: r.shard,
      name: r.name,
      s3Key: r.s3_key,
      bytes: r.bytes === null ? undefined : Number(r.bytes),
    }));
  }

  // ---- history ---------------------------------------------------------------------------------

  passRateTrend(options?: PassRateTrendOptions): Promise<PassRatePoint[]> {
    return passRateTrend(this.db, options);
  }

  flakyTests(options?: FlakyTestsOptions): Promise<FlakyTest[]> {
    return flakyTests(this.db, options);
  }

  testMilestones(testId: string, options?: { flavorId?: string; kind?: ScriptKind }): Promise<TestMilestones[]> {
    return testMilestones(this.db, testId, options);
  }

  durationDrift(options: DurationDriftOptions): Promise<DurationDrift[]> {
    return durationDrift(this.db, options);
  }

  diffRuns(baseRunId: string, headRunId: string, options?: { flavorId?: string }): Promise<RunDiff> {
    return diffRuns(this.db, baseRunId, headRunId, options);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The runner logs its failsafe callback (after a KILLED test) under the callback's own path, the
 * same for every killed test, right before that test's KILLED line. Keyed by its path, a second
 * killed test's failsafe would overwrite the first; keyed by the killed test (kind `failsafe`),
 * each keeps its row and says which test it cleaned up after.
 */
export function attributeFailsafes<R extends { testId: string; group: string; kind: string; outcome: string; linuxSection: boolean }>(
  results: readonly R[],
): R[] {
  return results.map((result, index) => {
    const next = results[index + 1];
    if (result.kind !== 'failsafe' || next === undefined || next.kind === 'failsafe' || next.outcome !== 'KILLED') return result;
    return { ...result, testId: next.testId, group: next.group, linuxSection: next.linuxSection };
  });
}

function toRun(row: {
  id: string;
  workflow_id: string | null;
  selection: string;
  target: string;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
}): StoredRun {
  return {
    id: row.id,
    workflowId: row.workflow_id ?? undefined,
    selection: row.selection,
    target: row.target,
    startedAt: row.started_at,
    endedAt: row.ended_at ?? undefined,
    status: row.status,
  };
}

/** The `reruns` column: outcomes, comma-separated, oldest first. */
function parseReruns(text: string): TestOutcome[] {
  return text === '' ? [] : text.split(',').map((o) => TestOutcomeSchema.parse(o));
}
