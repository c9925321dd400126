import type { ResolvedSection } from '../runfile/resolve.js';
import type { CostModel } from '../shard/cost.js';

/**
 * The unit the dispatcher hands out: one group of a target (a runfile section; its setup and cleanup
 * run in the same clone before and after its tests) or, with `--split-groups`, one part of a group
 * that runs a contiguous share of its tests between its own setup and cleanup.
 */
export interface WorkItem {
  /** Unique in a dispatch: `target:section`, a part suffixed `#k/n`. */
  id: string;
  target: string;
  section: string;
  /** The tests this item runs, in the group's order. */
  testIds: string[];
  part?: { index: number; of: number };
  /** Estimated cost from history (seconds, or tests on the test-count basis): what orders the queue. */
  cost: number;
}

export interface WorkOptions {
  /**
   * Split a group whose cost exceeds this (`--split-groups` passes the fair share, total / slots) into
   * ceil(cost / partCost) parts. Groups named in `neverSplit` stay whole.
   */
  splitAbove?: number;
  /**
   * What a part should cost at most; default `splitAbove`. Half the fair share does better: parts about
   * as long as a slot's whole share leave the last slots to finish late.
   */
  partCost?: number;
  neverSplit?: ReadonlySet<string> | readonly string[];
}

/** The work of one target: one item per section with tests, groups over `splitAbove` split in parts. */
export function workItems(target: string, sections: readonly ResolvedSection[], model: CostModel, options: WorkOptions = {}): WorkItem[] {
  const neverSplit = new Set(options.neverSplit ?? []);
  const items: WorkItem[] = [];
  for (const section of sections) {
    if (section.testIds.length === 0) continue;
    const whole = model.sectionCost(section).cost;
    const limit = options.splitAbove;
    const splittable = limit !== undefined && limit > 0 && whole > limit && section.kind === 'group' && !neverSplit.has(section.section);
    const parts = splittable ? Math.min(section.testIds.length, Math.ceil(whole / Math.min(limit, options.partCost ?? limit))) : 1;
    if (parts <= 1) {
      items.push({ id: `${target}:${section.section}`, target, section: section.section, testIds: [...section.testIds], cost: whole });
      continue;
    }
    splitTests(section, model, parts).forEach((testIds, i) => {
      items.push({
        id: `${target}:${section.section}#${i + 1}/${parts}`,
        target,
        section: section.section,
        testIds,
        part: { index: i + 1, of: parts },
        cost: partCost(section, testIds, model),
      });
    });
  }
  return items;
}

/** What running `testIds` of `section` costs under `model`: those tests plus the group's setup and cleanup. */
export function partCost(section: ResolvedSection, testIds: readonly string[], model: CostModel): number {
  const keep = new Set(testIds);
  const tests = section.tests.filter((_, i) => keep.has(section.testIds[i] as string));
  return model.sectionCost({ ...section, tests, testIds: section.testIds.filter((id) => keep.has(id)) }).cost;
}

/**
 * The group's tests cut into `parts` contiguous runs of about equal test cost (order kept: a later test
 * may rely on an earlier one, and contiguous runs keep most such pairs together). Every part gets at
 * least one test.
 */
function splitTests(section: ResolvedSection, model: CostModel, parts: number): string[][] {
  const costs = scriptSeconds(section, section.testIds, model).tests.map((t) => t.seconds);
  const total = costs.reduce((a, b) => a + b, 0);
  const out: string[][] = [];
  let current: string[] = [];
  let acc = 0;
  section.testIds.forEach((id, i) => {
    const left = section.testIds.length - i;
    const partsLeft = parts - out.length;
    // Close the part at its share of the cost, or when only enough tests are left for one per remaining part.
    if (current.length > 0 && partsLeft > 1 && (acc + (costs[i] as number) / 2 > (total * (out.length + 1)) / parts || left < partsLeft)) {
      out.push(current);
      current = [];
    }
    current.push(id);
    acc += costs[i] as number;
  });
  out.push(current);
  return out;
}

/** Longest first by estimated cost, ties by id: the order a dispatch hands items out. */
export function longestFirst<T extends Pick<WorkItem, 'id' | 'cost'>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.cost - a.cost || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * What running `testIds` of `section` takes under `model`, script by script: the group's setup, each
 * test, its cleanup (the shape ./simulate.ts wants, with a model built from the durations a run really had).
 */
export function scriptSeconds(
  section: ResolvedSection,
  testIds: readonly string[],
  model: CostModel,
): { setupSeconds: number; tests: { testId: string; seconds: number }[]; cleanupSeconds: number } {
  const only = (pre: string, post: string): number => model.sectionCost({ ...section, pre, post, tests: [], testIds: [] }).cost;
  const index = new Map(section.testIds.map((id, i) => [id, i]));
  const tests = testIds.map((testId) => {
    const i = index.get(testId);
    if (i === undefined) throw new Error(`${testId} is not a test of [${section.section}]`);
    return { testId, seconds: model.sectionCost({ ...section, pre: '', post: '', tests: [section.tests[i] as string], testIds: [testId] }).cost };
  });
  return { setupSeconds: section.kind === 'group' ? only(section.pre, '') : 0, tests, cleanupSeconds: section.kind === 'group' ? only('', section.post) : 0 };
}
