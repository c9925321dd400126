import { artifactKeys } from '../artifact-keys.js';

/**
 * Where a ZTS run's artifacts go, below `runs/<runId>/<flavor>/<shard>/` (core/artifact-keys.ts).
 * A shard runs as chunks, and a chunk may take several attempts; each attempt is one test-runner
 * invocation with its own, unchanged results tree:
 *
 *   runfile.run                                 the shard's runfile, as planned
 *   results/chunk-<nnn>/attempt-<k>/chunk.run   the runfile that attempt actually ran
 *   results/chunk-<nnn>/attempt-<k>/<stamp>/…   test-runner's results tree (log, results, output/…)
 *   chunks/<nnn>/results.json                   the chunk's parsed results (all attempts, in order)
 *   chunks/<nnn>/incident-<attempt>.tar.gz      dmesg, zpool status/events, kstats, stacks, console when tests failed
 *   results.json                                the shard's classified results, as stored
 */
const pad = (n: number): string => String(n).padStart(3, '0');

export const runKeys = {
  shardRunfile: (runId: string, flavorId: string, shard: number) => `${artifactKeys.shardPrefix(runId, flavorId, shard)}/runfile.run`,
  shardResults: (runId: string, flavorId: string, shard: number) => `${artifactKeys.shardPrefix(runId, flavorId, shard)}/results.json`,
  resultsTree: (runId: string, flavorId: string, shard: number) => `${artifactKeys.shardPrefix(runId, flavorId, shard)}/results`,
  chunkAttempt: (runId: string, flavorId: string, shard: number, chunk: number, attempt: number) =>
    `${artifactKeys.shardPrefix(runId, flavorId, shard)}/results/chunk-${pad(chunk)}/attempt-${attempt}`,
  /** The console excerpt of a crash that took the guest down under a test (`<test>` = its basename). */
  chunkCrashConsole: (runId: string, flavorId: string, shard: number, chunk: number, test: string) =>
    `${artifactKeys.shardPrefix(runId, flavorId, shard)}/chunks/${pad(chunk)}/crash-${test.replace(/[^A-Za-z0-9._-]/g, '_')}.log`,
  /** An incident bundle of one attempt of a chunk (`<attempt>` = the attempt's directory name). */
  chunkIncident: (runId: string, flavorId: string, shard: number, chunk: number, attempt: string) =>
    `${artifactKeys.shardPrefix(runId, flavorId, shard)}/chunks/${pad(chunk)}/incident-${attempt.replace(/[^A-Za-z0-9._-]/g, '_')}.tar.gz`,
  /** The raw stamped output of one probe stream (`preflight`, `kstat`, `zio`) of one attempt of a chunk. */
  chunkProbes: (runId: string, flavorId: string, shard: number, chunk: number, attempt: string, stream: string) =>
    `${artifactKeys.shardPrefix(runId, flavorId, shard)}/chunks/${pad(chunk)}/probes-${attempt.replace(/[^A-Za-z0-9._-]/g, '_')}-${stream}.txt.gz`,
  chunkResults: (runId: string, flavorId: string, shard: number, chunk: number) =>
    `${artifactKeys.shardPrefix(runId, flavorId, shard)}/chunks/${pad(chunk)}/results.json`,
  runPrefix: (runId: string) => `runs/${runId}`,
};
