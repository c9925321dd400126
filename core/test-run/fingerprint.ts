import { z } from 'zod';
import { SEVERITIES } from '../fingerprint/detect.js';

/**
 * A chunk's fingerprint as a run reports it (`zfslab test … --fingerprint`): the fingerprint, its raw
 * capture and the deviations are in S3; this is what the workflow result and `--json` carry. A capture
 * that could not be made does not fail the tests: it says why.
 */
const base = { shard: z.number().int().nonnegative(), chunk: z.number().int().nonnegative(), workload: z.string() };

export const ChunkFingerprintSchema = z.discriminatedUnion('status', [
  z.strictObject({
    ...base,
    status: z.literal('compared'),
    fingerprintKey: z.string(),
    baselineKey: z.string(),
    deviations: z.number().int().nonnegative(),
    bySeverity: z.record(z.enum(SEVERITIES), z.number().int().nonnegative()),
  }),
  z.strictObject({ ...base, status: z.literal('no-baseline'), fingerprintKey: z.string(), baselineKey: z.string() }),
  z.strictObject({ ...base, status: z.literal('not-captured'), reason: z.string() }),
]);
export type ChunkFingerprint = z.infer<typeof ChunkFingerprintSchema>;

/** One line for people: `compared with <baseline>: 2 deviations (1 critical)`. */
export function describeChunkFingerprint(f: ChunkFingerprint): string {
  if (f.status === 'not-captured') return `not captured: ${f.reason}`;
  if (f.status === 'no-baseline') return `captured; no baseline yet (store one with \`zfslab fingerprint baseline set\` under ${f.baselineKey})`;
  if (f.deviations === 0) return 'no drift from the baseline';
  const worst = SEVERITIES.filter((s) => (f.bySeverity[s] ?? 0) > 0)
    .reverse()
    .map((s) => `${f.bySeverity[s]} ${s}`);
  return `${f.deviations} deviation(s) from the baseline (${worst.join(', ')})`;
}
