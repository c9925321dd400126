import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { StoreDatabase } from './schema.js';

export const SkippedTargetSchema = z.strictObject({ flavorId: z.string().min(1), reason: z.string().min(1) });
export type SkippedTarget = z.infer<typeof SkippedTargetSchema>;

/** Keeps the flavors a run left out (no host could run them) with the run; writing them again changes nothing. */
export async function recordSkippedTargets(db: Kysely<StoreDatabase>, runId: string, skipped: readonly SkippedTarget[]): Promise<void> {
  const rows = z
    .array(SkippedTargetSchema)
    .parse(skipped)
    .map((s) => ({ run_id: runId, flavor_id: s.flavorId, reason: s.reason }));
  if (rows.length === 0) return;
  await db
    .insertInto('run_skipped_targets')
    .values(rows)
    .onConflict((oc) => oc.columns(['run_id', 'flavor_id']).doUpdateSet((eb) => ({ reason: eb.ref('excluded.reason') })))
    .execute();
}

export async function skippedTargets(db: Kysely<StoreDatabase>, runId: string): Promise<SkippedTarget[]> {
  const rows = await db.selectFrom('run_skipped_targets').selectAll().where('run_id', '=', runId).orderBy('flavor_id').execute();
  return rows.map((r) => ({ flavorId: r.flavor_id, reason: r.reason }));
}
