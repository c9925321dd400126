/**
 * Results store cost on both engines: load the 12-run history of the store tests (the real March
 * 2023 upstream run replayed 6× on 2 flavors, 19,644 result rows) and time each history query.
 * PostgreSQL is a throwaway local cluster (test/setup/postgres.ts), fsync off: this measures the
 * query layer, not disks.
 *
 *   npx vite-node bench/results-store.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openStore } from '../lib/store/index.js';
import type { ResultsStore } from '../lib/store/index.js';
import { startPostgres } from '../test/setup/postgres.js';
import { buildHistory, loadHistory, SLOWER } from '../test/support/store/history-data.js';

const history = buildHistory();
const rows = history.reduce((n, r) => n + r.results.length, 0);

async function time(fn: () => Promise<unknown>, repeat = 5): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

async function measure(engine: string, store: ResultsStore): Promise<void> {
  const start = performance.now();
  await loadHistory(store, history);
  const load = performance.now() - start;
  const again = performance.now();
  await loadHistory(store, history);
  const reload = performance.now() - again;
  const queries: [string, () => Promise<unknown>][] = [
    ['passRateTrend()', () => store.passRateTrend()],
    ['flakyTests({lastRuns: 6})', () => store.flakyTests({ lastRuns: 6 })],
    ['testMilestones(test)', () => store.testMilestones(SLOWER)],
    ["durationDrift({runId: 'r06'})", () => store.durationDrift({ runId: 'r06' })],
    ["durationDrift({by: 'group'})", () => store.durationDrift({ runId: 'r06', by: 'group' })],
    ["diffRuns('r05', 'r06')", () => store.diffRuns('r05', 'r06')],
    ["getResults('r06')", () => store.getResults('r06')],
  ];
  console.log(`| ${engine} | load ${rows} rows | ${load.toFixed(0)} ms |`);
  console.log(`| ${engine} | same again (all upserts) | ${reload.toFixed(0)} ms |`);
  for (const [name, fn] of queries) console.log(`| ${engine} | ${name} | ${(await time(fn)).toFixed(1)} ms |`);
}

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'zfslab-bench-store-'));
const pg = await startPostgres();
try {
  console.log('| engine | operation | median of 5 |\n| --- | --- | ---: |');
  const sqlite = await openStore(`sqlite:${join(dir, 'bench.db')}`, { logger });
  await measure('sqlite', sqlite).finally(() => sqlite.close());
  const postgres = await openStore(await pg.createDatabase('bench'), { logger });
  await measure('postgres 15', postgres).finally(() => postgres.close());
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
