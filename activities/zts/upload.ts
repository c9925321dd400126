import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkResultsFile } from '../../core/test-run/chunk-results.js';
import { runKeys } from '../../core/test-run/keys.js';
import type { ArtifactStore } from '../../lib/s3.js';

/** The local attempt directories of a chunk (`attempt-1`, `attempt-2` …), in attempt order. */
export function attemptDirs(chunkDir: string): { attempt: number; dir: string }[] {
  if (!existsSync(chunkDir)) return [];
  return readdirSync(chunkDir)
    .map((name) => ({ name, attempt: Number(/^attempt-(\d+)$/.exec(name)?.[1]) }))
    .filter((e) => Number.isInteger(e.attempt) && e.attempt > 0)
    .sort((a, b) => a.attempt - b.attempt)
    .map((e) => ({ attempt: e.attempt, dir: join(chunkDir, e.name) }));
}

/**
 * Uploads every attempt's results tree that is still on this host (an attempt whose worker was killed
 * never uploaded its own) and then the chunk's results file. Uploads are idempotent, so a retry that
 * uploads the same trees again changes nothing.
 */
export async function uploadChunk(
  artifacts: ArtifactStore,
  where: { runId: string; flavorId: string; shard: number; chunk: number; chunkDir: string },
  file: Omit<ChunkResultsFile, 'resultsTrees'>,
): Promise<{ resultsKey: string; trees: string[] }> {
  const trees: string[] = [];
  for (const { attempt, dir } of attemptDirs(where.chunkDir)) {
    const prefix = runKeys.chunkAttempt(where.runId, where.flavorId, where.shard, where.chunk, attempt);
    await artifacts.putTree(prefix, dir);
    trees.push(prefix);
  }
  const resultsKey = runKeys.chunkResults(where.runId, where.flavorId, where.shard, where.chunk);
  const body: ChunkResultsFile = { ...file, resultsTrees: trees };
  await artifacts.putBytes(resultsKey, JSON.stringify(body, null, 2) + '\n');
  return { resultsKey, trees };
}
