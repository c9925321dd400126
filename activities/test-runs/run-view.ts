import type { FlavorMeta } from '../../core/matrix/matrix.js';
import type { ResultsStore } from '../../lib/store/store.js';
import type { StoredArtifactKey, StoredResult, StoredRun } from '../../lib/store/types.js';

/** One run as the store holds it: the run, each flavor with what it ran on, its results and artifacts. */
export interface RunView {
  run: StoredRun;
  flavors: { meta: FlavorMeta; hostId: string | undefined; golden: string | undefined; shardCount: number; results: StoredResult[] }[];
  artifacts: StoredArtifactKey[];
}

export async function loadRunView(store: ResultsStore, runId: string): Promise<RunView | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const rows = await store.db
    .selectFrom('run_flavors as rf')
    .innerJoin('flavors as f', 'f.id', 'rf.flavor_id')
    .select(['rf.flavor_id', 'rf.host_id', 'rf.kernel', 'rf.openzfs_version', 'rf.shard_count', 'rf.golden', 'f.os', 'f.release'])
    .where('rf.run_id', '=', runId)
    .orderBy('rf.flavor_id')
    .execute();
  const results = await store.getResults(runId);
  const flavors = rows.map((row) => ({
    meta: { id: row.flavor_id, os: row.os, release: row.release, kernel: row.kernel, openzfsVersion: row.openzfs_version },
    hostId: row.host_id ?? undefined,
    golden: row.golden ?? undefined,
    shardCount: row.shard_count,
    results: results.filter((r) => r.flavorId === row.flavor_id),
  }));
  return { run, flavors, artifacts: await store.getArtifactKeys(runId) };
}
