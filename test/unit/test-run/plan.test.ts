import { describe, expect, it } from 'vitest';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { renderRunfile } from '../../../core/runfile/render.js';
import { listTests, selectRunfile } from '../../../core/runfile/select.js';
import { historyFromRows, parseDurationTable } from '../../../core/shard/durations.js';
import { chunkRunfile, testsLeft } from '../../../core/test-run/chunk-runfile.js';
import { planTarget, runnerSectionOrder } from '../../../core/test-run/plan.js';
import { parseResultLines } from '../../../core/results/result-line.js';
import { catalogOf, durationTableText } from '../zts/fixtures.js';

const history = historyFromRows(parseDurationTable(durationTableText()));

describe('planTarget on real upstream runfiles and the real March 2023 durations', () => {
  // 2.1.11 is what this Debian 12 host's zfs-test package ships: the native target's own suite.
  const catalog = catalogOf('zfs-2.1.11');

  for (const [suite, shards] of [
    ['quick', 1],
    ['linux', 4],
    ['fault', 2],
  ] as const) {
    it(`suite ${suite} over ${shards} shard(s): every selected test in exactly one chunk, chunks <= 50 tests in run order`, () => {
      const selected = selectRunfile(catalog, { suite });
      const plan = planTarget(selected, history, { shardCount: shards, chunkSize: 50, parallel: true });
      const selectedIds = listTests(selected).map((t) => t.testId);
      const chunked = plan.shards.flatMap((s) => s.chunks.flatMap((c) => c.testIds));

      expect(plan.basis).toBe('history');
      expect(plan.selectedTests).toBe(selectedIds.length);
      expect(new Set(chunked)).toEqual(new Set(selectedIds));
      expect(chunked.length).toBe(new Set(chunked).size);
      for (const shard of plan.shards) {
        for (const chunk of shard.chunks) expect(chunk.testIds.length).toBeLessThanOrEqual(50);
        // Chunk costs add up to the shard's (each test carries its share of its group's setup/cleanup).
        expect(shard.chunks.reduce((n, c) => n + c.cost, 0)).toBeCloseTo(shard.cost, 6);
        // Chunks follow the runner's order of sections.
        const order = runnerSectionOrder(parseRunfile(shard.runfileText)).flatMap((s) => s.testIds);
        expect(shard.chunks.flatMap((c) => c.testIds)).toEqual(order.filter((id, i) => order.indexOf(id) === i));
      }
      expect(plan.makespan).toBeGreaterThanOrEqual(plan.lowerBound);
      expect(plan.makespan).toBeLessThanOrEqual(1.1 * plan.lowerBound);
      expect(plan.eta.planSeconds).toBe(plan.eta.makespanSeconds);
    });
  }

  it('packs whole groups into a chunk where they fit, so a group setup runs once', () => {
    const selected = selectRunfile(catalog, { suite: 'quick' });
    const plan = planTarget(selected, history, { shardCount: 1, chunkSize: 50, parallel: false });
    const shard = plan.shards[0]!;
    const groupOf = (id: string): string => id.slice(0, id.lastIndexOf('/'));
    const sizes = new Map<string, number>();
    for (const id of listTests(selected).map((t) => t.testId)) sizes.set(groupOf(id), (sizes.get(groupOf(id)) ?? 0) + 1);
    const chunksOfGroup = new Map<string, Set<number>>();
    for (const chunk of shard.chunks)
      for (const id of chunk.testIds) (chunksOfGroup.get(groupOf(id)) ?? chunksOfGroup.set(groupOf(id), new Set()).get(groupOf(id))!).add(chunk.index);
    for (const [group, chunks] of chunksOfGroup) if ((sizes.get(group) ?? 0) <= 50) expect(chunks.size, group).toBe(1);
    // Sequential shards: the estimate is the sum.
    expect(plan.eta.planSeconds).toBe(plan.eta.sequentialSeconds);
  });

  it('splits a group larger than a chunk, and each piece keeps the group setup/cleanup', () => {
    const selected = selectRunfile(catalog, { groups: ['zpool_create'] });
    const plan = planTarget(selected, history, { shardCount: 1, chunkSize: 10, parallel: false });
    const shard = plan.shards[0]!;
    expect(shard.chunks.length).toBeGreaterThan(1);
    const doc = parseRunfile(shard.runfileText);
    for (const chunk of shard.chunks) {
      const text = renderRunfile(chunkRunfile(doc, chunk.testIds));
      expect(text).toContain('[tests/functional/cli_root/zpool_create]');
      expect(listTests(parseRunfile(text)).map((t) => t.testId)).toEqual(chunk.testIds);
      // pre/post come from DEFAULT and are kept.
      expect(text).toMatch(/^pre = setup$/m);
    }
  });
});

describe('chunkRunfile on resume', () => {
  const runfile = parseRunfile(
    [
      '[DEFAULT]',
      'pre = setup',
      'post = cleanup',
      'outputdir = /var/tmp/x',
      '',
      '[tests/functional/a]',
      "tests = ['a1', 'a2', 'a3']",
      '',
      '[tests/functional/b]',
      "tests = ['b1', 'b2']",
      '',
    ].join('\n'),
  );
  const finished = parseResultLines(
    [
      'Test: /s/tests/functional/a/setup (run as root) [00:00] [PASS]',
      'Test: /s/tests/functional/a/a1 (run as root) [00:01] [PASS]',
      'Test: /s/tests/functional/a/a2 (run as root) [00:01] [FAIL]',
    ].join('\n'),
  );

  it('keeps only unfinished tests of the chunk, the in-flight one included, with the group setup', () => {
    const doc = chunkRunfile(
      runfile,
      ['a1', 'a2', 'a3', 'b1'].map((t) => `functional/${t[0]}/${t}`),
      finished,
    );
    expect(listTests(doc).map((t) => t.testId)).toEqual(['functional/a/a3', 'functional/b/b1']);
    expect(renderRunfile(doc)).toContain('pre = setup');
    expect(testsLeft(['functional/a/a1', 'functional/a/a3'], finished)).toEqual(['functional/a/a3']);
  });

  it('leaves nothing when every test of the chunk finished', () => {
    const doc = chunkRunfile(runfile, ['functional/a/a1', 'functional/a/a2'], finished);
    expect(listTests(doc)).toEqual([]);
  });
});
