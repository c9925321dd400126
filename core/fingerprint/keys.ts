import { artifactKeys } from '../artifact-keys.js';

/**
 * Where fingerprints live in S3. A run's capture sits with the run's other artifacts
 * (`runs/<runId>/<flavor>/<shard>/fingerprint.json`, as docs/artifacts.md lists); a flavor's baseline
 * (and the tolerances `fingerprint verify` derived for it) under `fingerprints/baselines/<flavor>/`.
 */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** A workload name as a key part: `zfs-tests.sh -r sanity` → `zfs-tests.sh-r-sanity`. */
export function workloadSlug(workload: string): string {
  const slug = workload
    .replace(/[^A-Za-z0-9._:-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '')
    .slice(0, 120);
  if (!SAFE.test(slug)) throw new Error(`workload name ${JSON.stringify(workload)} has no usable characters`);
  return slug;
}

function part(name: string, value: string): string {
  if (!SAFE.test(value)) throw new Error(`fingerprint key part ${name} must match ${SAFE} (got ${JSON.stringify(value)})`);
  return value;
}

/**
 * A run's capture: per shard (`<shard>/fingerprint.json`), or per chunk of a shard when a ZTS run is
 * cut into chunks (`<shard>/chunks/<nnn>/fingerprint.json`, beside the chunk's results.json).
 */
function runPart(runId: string, flavor: string, shard: number | string, chunk: number | undefined): string {
  const prefix = artifactKeys.shardPrefix(runId, flavor, shard);
  return chunk === undefined ? prefix : `${prefix}/chunks/${String(chunk).padStart(3, '0')}`;
}

export const fingerprintKeys = {
  run: (runId: string, flavor: string, shard: number | string, chunk?: number) => `${runPart(runId, flavor, shard, chunk)}/fingerprint.json`,
  runRaw: (runId: string, flavor: string, shard: number | string, chunk?: number) => `${runPart(runId, flavor, shard, chunk)}/fingerprint-raw.jsonl`,
  runDeviations: (runId: string, flavor: string, shard: number | string, chunk?: number) =>
    `${runPart(runId, flavor, shard, chunk)}/fingerprint-deviations.json`,
  baseline: (flavor: string, workload: string) => `fingerprints/baselines/${part('flavor', flavor)}/${workloadSlug(workload)}.json`,
  baselineTolerances: (flavor: string, workload: string) => `fingerprints/baselines/${part('flavor', flavor)}/${workloadSlug(workload)}.tolerances.json`,
};
