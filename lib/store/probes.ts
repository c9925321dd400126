import type { Kysely } from 'kysely';
import type { ProbeScriptSummary } from '../../core/probes/summary.js';
import type { StoreDatabase } from './schema.js';

/** One row of `test_probes` as read back. */
export interface StoredProbe {
  runId: string;
  flavorId: string;
  testId: string;
  probe: 'zio' | 'txg' | 'arc' | 'spl';
  series: string;
  shard: number;
  count: number;
  p50Seconds?: number;
  p95Seconds?: number;
  p99Seconds?: number;
  maxSeconds?: number;
  detail: unknown;
}

type Row = Omit<StoreDatabase['test_probes'], 'count'> & { count: number };

/**
 * The in-guest probes' summaries in the results store (`test_probes`, migration 0012): written per
 * chunk as its results are recorded (a retried record upserts the same rows), read for `zfslab show`,
 * the HTML report's heatmap and the dashboards.
 */
export class ProbeStore {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  async record(where: { runId: string; flavorId: string; shard: number }, scripts: readonly ProbeScriptSummary[]): Promise<number> {
    const rows = scripts.flatMap((s) => rowsOf(where, s));
    // Batches keep each statement under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 200) {
      await this.db
        .insertInto('test_probes')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) =>
          oc.columns(['run_id', 'flavor_id', 'test_id', 'probe', 'series']).doUpdateSet((eb) => ({
            shard: eb.ref('excluded.shard'),
            count: eb.ref('excluded.count'),
            p50_seconds: eb.ref('excluded.p50_seconds'),
            p95_seconds: eb.ref('excluded.p95_seconds'),
            p99_seconds: eb.ref('excluded.p99_seconds'),
            max_seconds: eb.ref('excluded.max_seconds'),
            detail: eb.ref('excluded.detail'),
          })),
        )
        .execute();
    }
    return rows.length;
  }

  async forRun(runId: string, filter: { flavorId?: string; testId?: string; probe?: StoredProbe['probe'] } = {}): Promise<StoredProbe[]> {
    let q = this.db.selectFrom('test_probes').selectAll().where('run_id', '=', runId);
    if (filter.flavorId !== undefined) q = q.where('flavor_id', '=', filter.flavorId);
    if (filter.testId !== undefined) q = q.where('test_id', '=', filter.testId);
    if (filter.probe !== undefined) q = q.where('probe', '=', filter.probe);
    const rows = await q.orderBy('flavor_id').orderBy('test_id').orderBy('probe').orderBy('series').execute();
    return rows.map(toStored);
  }
}

function rowsOf(where: { runId: string; flavorId: string; shard: number }, s: ProbeScriptSummary): Row[] {
  const base = { run_id: where.runId, flavor_id: where.flavorId, test_id: s.testId, shard: where.shard };
  const rows: Row[] = [];
  const latency = (l: { count: number; p50Seconds?: number; p95Seconds?: number; p99Seconds?: number; maxSeconds?: number }) => ({
    count: l.count,
    p50_seconds: l.p50Seconds ?? null,
    p95_seconds: l.p95Seconds ?? null,
    p99_seconds: l.p99Seconds ?? null,
    max_seconds: l.maxSeconds ?? null,
  });
  for (const [type, z] of Object.entries(s.zio))
    rows.push({
      ...base,
      probe: 'zio',
      series: type,
      ...latency(z),
      detail: JSON.stringify({ buckets: z.buckets, windows: z.windows, startMs: s.startMs, endMs: s.endMs }),
    });
  for (const [pool, t] of Object.entries(s.txg))
    rows.push({ ...base, probe: 'txg', series: pool, ...latency(t), detail: JSON.stringify({ totalSeconds: t.totalSeconds, writtenBytes: t.writtenBytes }) });
  const none = { p50_seconds: null, p95_seconds: null, p99_seconds: null, max_seconds: null };
  if (s.arc) rows.push({ ...base, probe: 'arc', series: '', count: s.arc.hits + s.arc.misses, ...none, detail: JSON.stringify(s.arc) });
  if (s.spl) rows.push({ ...base, probe: 'spl', series: '', count: s.spl.memoryThrottles, ...none, detail: JSON.stringify(s.spl) });
  return rows;
}

function toStored(row: StoreDatabase['test_probes']): StoredProbe {
  const out: StoredProbe = {
    runId: row.run_id,
    flavorId: row.flavor_id,
    testId: row.test_id,
    probe: row.probe as StoredProbe['probe'],
    series: row.series,
    shard: Number(row.shard),
    count: Number(row.count),
    detail: JSON.parse(row.detail) as unknown,
  };
  if (row.p50_seconds !== null) out.p50Seconds = Number(row.p50_seconds);
  if (row.p95_seconds !== null) out.p95Seconds = Number(row.p95_seconds);
  if (row.p99_seconds !== null) out.p99Seconds = Number(row.p99_seconds);
  if (row.max_seconds !== null) out.maxSeconds = Number(row.max_seconds);
  return out;
}
