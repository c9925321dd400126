/**
 * Balanced sharding (core/shard/balance.ts) against upstream's `zfs-tests.sh -T k/N` split, N = 2..4,
 * both costed with the same real per-test durations (test/fixtures/durations, OpenZFS CI of March 2023).
 * Runfiles: zfs-2.2.0 (closest to that master; 62 of 1,366 tests have no history and count at the mean)
 * and, for context, master at be7657e (424 tests without history).
 *
 *   npx tsc -p . && node dist/bench/sharding.js
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../lib/paths.js';
import { parseRunfile } from '../core/runfile/parse.js';
import { listTests } from '../core/runfile/select.js';
import { planShards } from '../core/shard/balance.js';
import { historyFromRows, parseDurationTable } from '../core/shard/durations.js';
import { planUpstreamSplit } from '../core/shard/upstream-split.js';

const fixtures = join(projectRoot, 'test', 'fixtures');
const tablePath = join(fixtures, 'durations', 'zts-durations-2023-03-ubuntu22.tsv');
const history = historyFromRows(parseDurationTable(readFileSync(tablePath, 'utf8'), tablePath));

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

for (const dir of ['zfs-2.2.0', 'master-be7657e']) {
  const docs = ['common', 'linux'].map((name) => parseRunfile(readFileSync(join(fixtures, 'runfiles', dir, `${name}.run`), 'utf8'), `${name}.run`));
  const testCount = listTests(docs).length;
  const started = performance.now();
  const one = planShards(docs, history, 1);
  console.log(`\n## ${dir}: common.run + linux.run, ${testCount} tests, ${one.shards[0]?.scripts} scripts with setup/cleanup`);
  console.log(`one VM: ${clock(one.total)} (tests without history, counted at the mean: ${one.unknownTests.length})\n`);
  console.log('| N | split | per-shard time | per-shard tests | makespan | lower bound | makespan / LB | extra work |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of [2, 3, 4]) {
    const ours = planShards(docs, history, n);
    const upstream = planUpstreamSplit(docs, history, n);
    console.log(
      `| ${n} | ours (LPT, groups whole) | ${ours.shards.map((s) => clock(s.cost)).join(' / ')} | ${ours.shards.map((s) => s.tests).join(' / ')} | ${clock(ours.makespan)} | ${clock(ours.lowerBound)} | ${(ours.makespan / ours.lowerBound).toFixed(3)} | none |`,
    );
    const extra = upstream.total - ours.total;
    const notes = [
      upstream.duplicatedSections.length ? `runs twice: ${upstream.duplicatedSections.join(', ')} (+${clock(extra)})` : 'none',
      upstream.unassignedSections.length ? `never runs: ${upstream.unassignedSections.join(', ')}` : '',
    ].filter(Boolean);
    console.log(
      `| ${n} | upstream -T k/${n} | ${upstream.shards.map((s) => clock(s.cost)).join(' / ')} | ${upstream.shards.map((s) => s.tests).join(' / ')} | ${clock(upstream.makespan)} | ${clock(ours.lowerBound)} | ${(upstream.makespan / ours.lowerBound).toFixed(3)} | ${notes.join('; ')} |`,
    );
  }
  console.log(`\n(planning ${dir} for N = 1..4 took ${(performance.now() - started).toFixed(0)} ms including the -T splits)`);
}
