import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  applyHealthEvent,
  HostHealthRecordSchema,
  newHealthRecord,
  type HealthEvent,
  type HealthTransition,
  type HostHealthRecord,
} from '../../core/host/health.js';
import { HostFactsSchema, type HostEntry, type HostFacts } from '../../core/host/registry.js';
import { UsageError } from '../errors.js';
import type { StoreDatabase } from './schema.js';

const isoTimestamp = z.iso.datetime({ offset: true });

export const HostRegistrationSchema = z.strictObject({
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)'),
  capabilities: z.array(z.string().min(1)),
  facts: HostFactsSchema,
  probedAt: isoTimestamp,
});
export type HostRegistration = z.input<typeof HostRegistrationSchema>;

/** An unknown host id: the CLI names it and the hosts it does know. */
export class UnknownHostError extends UsageError {
  override name = 'UnknownHostError';
}

/**
 * The fleet's host registry, in the results store's `hosts` table (shared by every host once the
 * store is PostgreSQL). A probe registers what it proved; health changes go through
 * core/host/health.ts and each one is kept in `host_health_transitions` with who, why and when.
 */
export class HostRegistry {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /** Records a probe: capabilities and facts replace the old ones; a host seen for the first time is `unknown`. */
  async register(input: HostRegistration, now: string): Promise<HostEntry> {
    const reg = HostRegistrationSchema.parse(input);
    const at = new Date(now).toISOString();
    const fresh = newHealthRecord(reg.hostId, at);
    const row = {
      id: reg.hostId,
      hostname: reg.facts.hostname,
      capabilities: JSON.stringify(reg.capabilities),
      facts: JSON.stringify(reg.facts),
      probed_at: new Date(reg.probedAt).toISOString(),
      last_seen_at: at,
      health_state: fresh.state,
      health: JSON.stringify(fresh),
    };
    await this.db
      .insertInto('hosts')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          hostname: row.hostname,
          capabilities: row.capabilities,
          facts: row.facts,
          probed_at: row.probed_at,
          last_seen_at: row.last_seen_at,
        }),
      )
      .execute();
    return (await this.get(reg.hostId)) as HostEntry;
  }

  /** Makes sure a row exists for a host a run names (results reference it), without touching one that does. */
  async ensure(hostId: string, now: string): Promise<void> {
    const at = new Date(now).toISOString();
    const fresh = newHealthRecord(hostId, at);
    await this.db
      .insertInto('hosts')
      .values({ id: hostId, hostname: hostId, capabilities: '[]', last_seen_at: at, health_state: fresh.state, health: JSON.stringify(fresh) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async get(hostId: string): Promise<HostEntry | undefined> {
    const row = await this.db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
    return row ? entryOf(row) : undefined;
  }

  async list(): Promise<HostEntry[]> {
    const rows = await this.db.selectFrom('hosts').selectAll().orderBy('id').execute();
    return rows.map(entryOf);
  }

  /** Applies a health event; returns the new record and the transition when the state changed. */
  async applyHealth(hostId: string, event: HealthEvent): Promise<{ record: HostHealthRecord; transition?: HealthTransition }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
      if (!row) {
        const known = (await trx.selectFrom('hosts').select('id').orderBy('id').execute()).map((r) => r.id);
        throw new UnknownHostError(
          `no host ${hostId} in the registry (known: ${known.join(', ') || 'none'}); \`zfslab host probe --host ${hostId}\` registers it`,
        );
      }
      const result = applyHealthEvent(entryOf(row).health, event);
      await trx
        .updateTable('hosts')
        .set({ health_state: result.record.state, health: JSON.stringify(result.record) })
        .where('id', '=', hostId)
        .execute();
      if (result.transition) {
        const t = result.transition;
        await trx
          .insertInto('host_health_transitions')
          .values({ host_id: hostId, at: new Date(t.at).toISOString(), from_state: t.from, to_state: t.to, by: t.by, why: t.why })
          .execute();
      }
      return result;
    });
  }

  /** A host's health changes, newest first. */
  async transitions(hostId: string, limit = 20): Promise<HealthTransition[]> {
    const rows = await this.db.selectFrom('host_health_transitions').selectAll().where('host_id', '=', hostId).orderBy('at', 'desc').limit(limit).execute();
    return rows.map((r) => ({ from: r.from_state as HealthTransition['from'], to: r.to_state as HealthTransition['to'], at: r.at, by: r.by, why: r.why }));
  }
}

function entryOf(row: {
  id: string;
  capabilities: string;
  facts: string | null;
  probed_at: string | null;
  last_seen_at: string;
  health: string | null;
}): HostEntry {
  const caps: unknown = JSON.parse(row.capabilities);
  const facts = row.facts ? HostFactsSchema.safeParse(JSON.parse(row.facts)) : undefined;
  const health = row.health ? HostHealthRecordSchema.safeParse(JSON.parse(row.health)) : undefined;
  return {
    hostId: row.id,
    // Rows written before the registry hold `{}`: no proven capability.
    capabilities: Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : [],
    ...(facts?.success ? { facts: facts.data as HostFacts } : {}),
    ...(row.probed_at ? { probedAt: row.probed_at } : {}),
    lastSeenAt: row.last_seen_at,
    health: health?.success ? health.data : newHealthRecord(row.id, row.last_seen_at),
  };
}
