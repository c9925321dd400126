import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { renderRunfile } from '../../../core/runfile/render.js';
import { resolveRunfiles } from '../../../core/runfile/resolve.js';
import { listTests, selectRunfile } from '../../../core/runfile/select.js';
import { planShards, shardRunfiles } from '../../../core/shard/balance.js';
import { DurationTableError, historyFromResults, historyFromRows, parseDurationTable } from '../../../core/shard/durations.js';
import { estimateEta, speedFactorFrom } from '../../../core/shard/estimate.js';
import { planUpstreamSplit, upstreamSplitTags } from '../../../core/shard/upstream-split.js';
import { catalogOf, durationTableText, fixturePath, runfileText } from './fixtures.js';

const rows = parseDurationTable(durationTableText(), 'zts-durations-2023-03-ubuntu22.tsv');
const history = historyFromRows(rows);
/** The tag closest to the March 2023 master the table was measured on (see test/fixtures/runfiles/README.md). */
const march2023 = catalogOf('zfs-2.2.0');
const linuxSuite = selectRunfile(march2023, { suite: 'linux' });

describe('duration table', () => {
  it('reads the real table: every row, outcome and second', () => {
    expect(rows).toHaveLength(1637);
    const count = (o: string): number => rows.filter((r) => r.outcome === o).length;
    expect([count('PASS'), count('SKIP'), count('FAIL')]).toEqual([1599, 29, 9]);
    expect(rows.reduce((s, r) => s + r.seconds, 0)).toBe(13646);
    expect(rows[0]).toEqual({ testId: 'functional/acl/off/setup', outcome: 'PASS', seconds: 27 });
  });

  it('averages a script that ran more than once (setup/cleanup of a group split over two runfiles)', () => {
    expect(rows.filter((r) => r.testId === 'functional/mmap/cleanup').map((r) => r.seconds)).toEqual([3, 0]);
    expect(history['functional/mmap/cleanup']).toBe(1.5);
    expect(
      historyFromResults([
        { testId: 'functional/a/t', durationSeconds: 10 },
        { testId: 'functional/a/t', durationSeconds: 20 },
      ]),
    ).toEqual({ 'functional/a/t': 15 });
  });

  it('rejects a malformed table, naming the line', () => {
    const bad = (text: string, line: number): void => {
      let err: unknown;
      try {
        parseDurationTable(text, 'x.tsv');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(DurationTableError);
      expect((err as DurationTableError).line).toBe(line);
    };
    bad('# c\npath\tresult\tseconds\n', 2);
    bad('test_path\tresult\tseconds\na/b\tPASSED\t1\n', 2);
    bad('test_path\tresult\tseconds\na/b\tPASS\t-1\n', 2);
    bad('test_path\tresult\tseconds\na/b\tPASS\t\n', 2);
    bad('# only a comment\n', 1);
  });
});

describe('balanced shards (LPT, groups whole)', () => {
  for (const n of [2, 3, 4]) {
    it(`2.2.0 common+linux over ${n} shards reaches makespan <= 1.10 x lower bound on the real durations`, () => {
      const plan = planShards(linuxSuite, history, n);
      expect(plan.basis).toBe('history');
      expect(plan.shards).toHaveLength(n);
      expect(plan.makespan).toBeLessThanOrEqual(1.1 * plan.lowerBound);
      // Groups whole: every section in exactly one shard, and the shard runfiles run every test once.
      const all = resolveRunfiles([linuxSuite]).sections.map((s) => s.section);
      expect(plan.shards.flatMap((s) => s.sections).sort()).toEqual([...all].sort());
      const shardDocs = shardRunfiles(linuxSuite, plan);
      const fromShards = shardDocs.flatMap((doc) => listTests(parseRunfile(renderRunfile(doc))));
      expect(fromShards.map((t) => `${t.section} ${t.testId}`).sort()).toEqual(
        listTests(linuxSuite)
          .map((t) => `${t.section} ${t.testId}`)
          .sort(),
      );
      expect(plan.shards.reduce((s, shard) => s + shard.cost, 0)).toBeCloseTo(plan.total, 6);
    });
  }

  it('keeps each shard runfile group settings as in the full suite', () => {
    const plan = planShards(linuxSuite, history, 3);
    const original = new Map(resolveRunfiles([linuxSuite]).sections.map((s) => [s.section, s]));
    for (const doc of shardRunfiles(linuxSuite, plan)) {
      for (const section of resolveRunfiles([parseRunfile(renderRunfile(doc))]).sections) {
        expect(section).toEqual(original.get(section.section));
      }
    }
  });

  it('costs a group as its tests plus setup and cleanup', () => {
    const doc = selectRunfile(march2023, { groups: ['acl/off'] });
    const plan = planShards(doc, history, 1);
    // setup 27 s + dosmode 0 + posixmode 0 + cleanup 0 in the table.
    expect(plan.total).toBe(27);
    expect(plan.shards[0]?.scripts).toBe(4);
  });

  it('estimates tests without history at the mean of those with', () => {
    const fake = parseRunfile("[DEFAULT]\npre = setup\npost = cleanup\n[tests/functional/acl/off]\ntests = ['dosmode', 'brand_new']\n");
    const plan = planShards(fake, { 'functional/acl/off/setup': 4, 'functional/acl/off/dosmode': 2, 'functional/x/y': 6 }, 1);
    expect(plan.unknownTests).toEqual(['functional/acl/off/brand_new']);
    // setup 4 + dosmode 2 + brand_new (mean of tests 2 and 6 = 4) + cleanup (mean of setups/cleanups = 4).
    expect(plan.total).toBe(14);
  });

  it('falls back to test counts without history', () => {
    const plan = planShards(linuxSuite, {}, 3);
    expect(plan.basis).toBe('test-count');
    expect(plan.total).toBe(listTests(linuxSuite).length);
    expect(plan.makespan).toBeLessThanOrEqual(1.1 * plan.lowerBound);
  });

  it('improves on plain LPT where LPT is not optimal (3,3,2,2,2 over 2 shards: 7 -> 6)', () => {
    const sizes = [3, 3, 2, 2, 2];
    const text = sizes.map((n, g) => `[tests/functional/g${g}]\ntests = [${Array.from({ length: n }, (_, t) => `'t${t}'`).join(', ')}]\n`).join('\n');
    const plan = planShards(parseRunfile(text), {}, 2);
    expect(plan.makespan).toBe(6);
    expect(plan.lowerBound).toBe(6);
  });

  it('is deterministic and refuses a bad shard count', () => {
    expect(planShards(linuxSuite, history, 4)).toEqual(planShards(linuxSuite, history, 4));
    expect(() => planShards(linuxSuite, history, 0)).toThrow(RangeError);
  });
});

describe("upstream's -T k/N split", () => {
  for (const tag of ['zfs-2.2.0', 'zfs-2.4.4']) {
    it(`${tag}: the tag lists equal what the real split_tags() shell pipeline prints`, () => {
      const texts = ['common', 'linux'].map((n) => runfileText(tag, n));
      const expected = readFileSync(fixturePath('runfiles', 'reference', `${tag}.split-tags.txt`), 'utf8')
        .trim()
        .split('\n');
      expect(expected).toHaveLength(9);
      for (const line of expected) {
        const [fraction = '', list = ''] = line.split(' ');
        const [k, n] = fraction.split('/').map(Number);
        expect(upstreamSplitTags(texts, k as number, n as number).join(','), fraction).toBe(list);
      }
    });
  }

  it('master -T 1/2, 2/2 gives 735 vs 988 tests, as upstream CI splits them, running acl/posix:Linux in both', () => {
    const docs = ['common', 'linux'].map((n) => parseRunfile(runfileText('master-be7657e', n), `${n}.run`));
    const texts = ['common', 'linux'].map((n) => runfileText('master-be7657e', n));
    const expected = readFileSync(fixturePath('runfiles', 'reference', 'master-be7657e.split-tags.txt'), 'utf8')
      .trim()
      .split('\n');
    for (const line of expected) {
      const [fraction = '', list = ''] = line.split(' ');
      const [k, n] = fraction.split('/').map(Number);
      expect(upstreamSplitTags(texts, k as number, n as number).join(','), fraction).toBe(list);
    }
    const upstream = planUpstreamSplit(docs, history, 2);
    expect(upstream.shards.map((s) => s.tests)).toEqual([735, 988]);
    // acl/posix:Linux carries tags acl and posix, the last tags of two different lines.
    expect(upstream.duplicatedSections).toEqual(['tests/functional/acl/posix:Linux']);
    expect(upstream.unassignedSections).toEqual([]);
  });

  it('on the March 2023 runfiles, is slower than the balanced split for N = 2..4', () => {
    const docs = [march2023.common, march2023.linux];
    for (const n of [2, 3, 4]) {
      const upstream = planUpstreamSplit(docs, history, n);
      const ours = planShards(docs, history, n);
      expect(upstream.total).toBeGreaterThanOrEqual(ours.total);
      expect(upstream.makespan, `N=${n}`).toBeGreaterThan(ours.makespan);
    }
    expect(planUpstreamSplit(docs, history, 2).duplicatedSections).toEqual(['tests/functional/acl/posix-sa:Linux']);
  });
});

describe('ETA', () => {
  it('scales history, adds per-script and per-shard time', () => {
    const plan = planShards(linuxSuite, history, 2);
    const eta = estimateEta(plan, { speedFactor: 2, perScriptOverheadSeconds: 1, perShardFixedSeconds: 60 });
    plan.shards.forEach((shard, i) => expect(eta.perShardSeconds[i]).toBeCloseTo(shard.cost * 2 + shard.scripts + 60, 6));
    expect(eta.makespanSeconds).toBe(Math.max(...eta.perShardSeconds));
    expect(eta.sequentialSeconds).toBeCloseTo(
      eta.perShardSeconds.reduce((a, b) => a + b, 0),
      6,
    );
  });

  it('uses seconds per test without history, and a measured speed factor', () => {
    const plan = planShards(linuxSuite, {}, 2);
    expect(estimateEta(plan).perShardSeconds).toEqual(plan.shards.map((s) => s.cost * 60));
    expect(speedFactorFrom(history, [])).toBeUndefined();
    expect(
      speedFactorFrom(history, [
        { testId: 'functional/acl/off/setup', durationSeconds: 270 }, // 27 s in the table
        { testId: 'functional/acl/off/dosmode', durationSeconds: 50 }, // 0 s: ignored
      ]),
    ).toBe(10);
  });
});
