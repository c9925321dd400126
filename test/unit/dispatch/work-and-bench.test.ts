import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareSplits } from '../../../core/dispatch/compare.js';
import { SPLIT_AUDIT, neverSplitSections } from '../../../core/dispatch/split-audit.js';
import { partCost, workItems } from '../../../core/dispatch/work.js';
import { resolveRunfiles } from '../../../core/runfile/resolve.js';
import { costModel } from '../../../core/shard/cost.js';
import { historyFromRows, parseDurationTable } from '../../../core/shard/durations.js';
import { fixturePath, runfileDoc } from '../zts/fixtures.js';

// Two real runs of one OpenZFS CI workflow (March 2023): its Ubuntu 22.04 and Ubuntu 20.04 jobs.
const table = (name: string) => historyFromRows(parseDurationTable(readFileSync(fixturePath('durations', name), 'utf8'), name));
const ubuntu22 = table('zts-durations-2023-03-ubuntu22.tsv');
const ubuntu20 = table('zts-durations-2023-03-ubuntu20.tsv');
const docs = [runfileDoc('zfs-2.2.0', 'common'), runfileDoc('zfs-2.2.0', 'linux')];
const sections = resolveRunfiles(docs).sections;

describe('workItems', () => {
  const model = costModel(ubuntu22);
  const total = sections.reduce((n, s) => n + model.sectionCost(s).cost, 0);

  it('whole groups: one item per section, every test once', () => {
    const items = workItems('debian13', sections, model);
    expect(items.length).toBe(sections.filter((s) => s.testIds.length > 0).length);
    expect(items.flatMap((i) => i.testIds)).toEqual(sections.flatMap((s) => s.testIds));
  });

  it('split at the fair share of 32 slots: only groups above it, in contiguous parts that keep test order, each paying setup and cleanup', () => {
    const fair = total / 32;
    const items = workItems('debian13', sections, model, { splitAbove: fair, partCost: fair / 2, neverSplit: ['tests/functional/removal'] });
    expect(items.flatMap((i) => i.testIds)).toEqual(sections.flatMap((s) => s.testIds));
    const split = new Set(items.filter((i) => i.part).map((i) => i.section));
    expect(split.size).toBeGreaterThan(0);
    expect(split.has('tests/functional/removal')).toBe(false);
    let auxPaid = 0;
    for (const section of sections) {
      const whole = model.sectionCost(section).cost;
      expect(split.has(section.section)).toBe(whole > fair && section.section !== 'tests/functional/removal' && section.kind === 'group');
      const parts = items.filter((i) => i.section === section.section);
      if (parts.length < 2) continue;
      const aux = partCost(section, [], model);
      auxPaid += aux * (parts.length - 1);
      for (const part of parts) expect(part.cost).toBeCloseTo(partCost(section, part.testIds, model));
      expect(parts.reduce((n, p) => n + p.cost, 0)).toBeCloseTo(whole + aux * (parts.length - 1));
    }
    // Splitting is not free: the parts' extra setups and cleanups cost real seconds.
    expect(auxPaid).toBeGreaterThan(0);
  });
});

describe('compareSplits on two real runs, out of sample', () => {
  for (const [historyName, history, actualName, actual] of [
    ['ubuntu22', ubuntu22, 'ubuntu20', ubuntu20],
    ['ubuntu20', ubuntu20, 'ubuntu22', ubuntu22],
  ] as const) {
    it(`planned from ${historyName}, run with ${actualName}: dynamic <= 1.02 x lower bound at 2-8 slots, never worse than static shards`, () => {
      const rows = compareSplits(docs, history, actual, [2, 4, 8]);
      for (const n of [2, 4, 8]) {
        const dynamic = rows.find((r) => r.slots === n && r.split === 'dynamic')!;
        const staticShards = rows.find((r) => r.slots === n && r.split === 'static')!;
        const upstream = rows.find((r) => r.slots === n && r.split === 'upstream')!;
        expect(dynamic.makespanSeconds / dynamic.lowerBoundSeconds).toBeLessThanOrEqual(1.02);
        expect(dynamic.makespanSeconds).toBeLessThanOrEqual(staticShards.makespanSeconds);
        expect(dynamic.makespanSeconds).toBeLessThan(upstream.makespanSeconds);
        expect(dynamic.makespanSeconds).toBeGreaterThanOrEqual(dynamic.lowerBoundSeconds - 1e-6);
      }
    });
  }

  it('a mixed fleet (2 of 8 slots on a host 14x slower): dynamic stays within 3 % of the bound, static shards wait hours for the slow shards', () => {
    const rows = compareSplits(docs, ubuntu22, ubuntu20, [8], { slowSlots: 2, slowSpeed: 0.07 });
    const dynamic = rows.find((r) => r.split === 'dynamic')!;
    const staticShards = rows.find((r) => r.split === 'static')!;
    expect(dynamic.makespanSeconds / dynamic.lowerBoundSeconds).toBeLessThanOrEqual(1.03);
    expect(staticShards.makespanSeconds / staticShards.lowerBoundSeconds).toBeGreaterThan(5);
  });

  it('at 32 slots the longest group is the bound; --split-groups gets under it', () => {
    const rows = compareSplits(docs, ubuntu22, ubuntu20, [32], { splitGroups: true, neverSplit: neverSplitSections() });
    const whole = rows.find((r) => r.split === 'dynamic' && !r.splitGroups)!;
    const split = rows.find((r) => r.split === 'dynamic' && r.splitGroups)!;
    expect(split.makespanSeconds).toBeLessThan(whole.makespanSeconds);
    expect(split.lowerBoundSeconds).toBeLessThan(whole.lowerBoundSeconds);
    expect(split.makespanSeconds).toBeGreaterThanOrEqual(split.lowerBoundSeconds);
  });
});

describe('the split audit covers what --split-groups really splits', () => {
  const audited = new Set(SPLIT_AUDIT.map((a) => a.section));
  for (const tag of ['zfs-2.2.0', 'master-be7657e']) {
    for (const [name, history] of [
      ['ubuntu22', ubuntu22],
      ['ubuntu20', ubuntu20],
    ] as const) {
      it(`${tag}, history ${name}: every group over the fair share at 16 and 32 slots was read upstream`, () => {
        const tagSections = resolveRunfiles([runfileDoc(tag, 'common'), runfileDoc(tag, 'linux')]).sections;
        const model = costModel(history);
        const total = tagSections.reduce((n, s) => n + model.sectionCost(s).cost, 0);
        for (const slots of [16, 32]) {
          const split = workItems('t', tagSections, model, { splitAbove: total / slots, partCost: total / slots / 2, neverSplit: neverSplitSections() }).filter(
            (i) => i.part,
          );
          for (const part of split) expect(audited.has(part.section), `${part.section} is split at ${slots} slots but not audited`).toBe(true);
        }
      });
    }
  }
});
