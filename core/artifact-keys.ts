/**
 * The S3 key layout, in one place (documented in docs/artifacts.md). Keys are stable so that links
 * printed by the CLI keep working and re-uploads land on the same objects.
 *
 *   hosts/<hostId>/probe/latest.json                   the newest probe report of a host
 *   hosts/<hostId>/probe/<probedAt>.json               every probe report
 *   runs/<runId>/<flavor>/<shard>/results/…            the upstream results tree, unchanged
 *   runs/<runId>/<flavor>/<shard>/console.log          the VM's serial console
 *   runs/<runId>/<flavor>/<shard>/dmesg.txt            the guest's kernel log
 *   runs/<runId>/<flavor>/<shard>/runfile.run          the runfile actually used
 *   runs/<runId>/<flavor>/<shard>/results.json         our parsed results
 *   runs/<runId>/<flavor>/<shard>/fingerprint.json     a fingerprint captured alongside
 *   runs/<runId>/<flavor>/<shard>/probes/…             probe output
 *   goldens/<hostId>/<flavor>/<recipeHash>/manifest.json and build.log
 *   incidents/<runId or "adhoc">/<stamp>.tar.gz        incident bundles
 */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function part(name: string, value: string): string {
  if (!SAFE.test(value)) throw new Error(`artifact key part ${name} must match ${SAFE} (got ${JSON.stringify(value)})`);
  return value;
}

export const artifactKeys = {
  probeLatest: (hostId: string) => `hosts/${part('hostId', hostId)}/probe/latest.json`,
  probeAt: (hostId: string, probedAt: string) => `hosts/${part('hostId', hostId)}/probe/${part('probedAt', probedAt)}.json`,
  shardPrefix: (runId: string, flavor: string, shard: number | string) =>
    `runs/${part('runId', runId)}/${part('flavor', flavor)}/${part('shard', String(shard))}`,
  golden: (hostId: string, flavor: string, recipeHash: string) =>
    `goldens/${part('hostId', hostId)}/${part('flavor', flavor)}/${part('recipeHash', recipeHash)}`,
  incident: (runId: string | undefined, stamp: string) => `incidents/${part('runId', runId ?? 'adhoc')}/${part('stamp', stamp)}.tar.gz`,
};
