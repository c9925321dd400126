import type { RunfileDocument } from '../runfile/document.js';
import { parseRunfile } from '../runfile/parse.js';
import { renderRunfile } from '../runfile/render.js';
import { resolveRunfiles } from '../runfile/resolve.js';
import type { ResolvedSection } from '../runfile/resolve.js';
import { planShards, shardRunfiles } from '../shard/balance.js';
import type { CostBasis } from '../shard/cost.js';
import { costModel } from '../shard/cost.js';
import type { DurationHistory } from '../shard/durations.js';
import { estimateEta } from '../shard/estimate.js';
import type { Eta, EtaOptions } from '../shard/estimate.js';

/**
 * A target's run, planned: the selected runfile split into balanced shards (core/shard), each shard
 * cut into chunks of at most `chunkSize` tests in the order the runner runs them. A chunk is one
 * activity: the unit of retry, of history and of progress. Chunks take whole groups where they fit,
 * so a group's setup runs once; only a group larger than a chunk is split (its setup then runs again
 * in the next chunk, as it does on a resume).
 */
export interface ChunkPlan {
  /** 0-based, in run order within the shard. */
  index: number;
  testIds: string[];
  /** Its share of the shard's cost (same unit as the plan: seconds of history, or tests). */
  cost: number;
}

export interface ShardRunPlan {
  /** 1-based, as planShards numbers them. */
  index: number;
  sections: string[];
  tests: number;
  cost: number;
  runfileText: string;
  chunks: ChunkPlan[];
}

export interface TargetPlan {
  basis: CostBasis;
  shardCount: number;
  makespan: number;
  lowerBound: number;
  total: number;
  /** Tests estimated without history. */
  unknownTests: number;
  selectedTests: number;
  selectedSections: number;
  /** Seconds; per shard, and overall (shards in parallel, or one after the other when `parallel` is false). */
  eta: Eta & { planSeconds: number };
  /** Shards that got something to run (an empty shard is left out). */
  shards: ShardRunPlan[];
}

export interface PlanOptions {
  shardCount: number;
  chunkSize: number;
  /** Shards run at the same time (VM clones) or one after the other (the native host). */
  parallel: boolean;
  eta?: EtaOptions;
}

export function planTarget(runfile: RunfileDocument, history: DurationHistory, options: PlanOptions): TargetPlan {
  if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1) throw new RangeError(`chunk size must be a positive integer, got ${options.chunkSize}`);
  const plan = planShards(runfile, history, options.shardCount);
  const docs = shardRunfiles(runfile, plan);
  const used = plan.shards.filter((shard) => shard.sections.length > 0);
  const model = costModel(history);
  const shards = used.map((shard, i): ShardRunPlan => {
    const doc = docs[i] as RunfileDocument;
    const text = renderRunfile(doc);
    return {
      index: shard.index,
      sections: shard.sections,
      tests: shard.tests,
      cost: shard.cost,
      runfileText: text,
      // Chunk from the rendered text: it is what the host will parse, so ids agree on both sides.
      chunks: chunkShard(parseRunfile(text, doc.source), options.chunkSize, (s) => model.sectionCost(s).cost),
    };
  });
  const eta = estimateEta(plan, options.eta);
  const selected = resolveRunfiles([runfile]).sections;
  return {
    basis: plan.basis,
    shardCount: options.shardCount,
    makespan: plan.makespan,
    lowerBound: plan.lowerBound,
    total: plan.total,
    unknownTests: plan.unknownTests.length,
    selectedTests: selected.reduce((n, s) => n + s.testIds.length, 0),
    selectedSections: selected.length,
    eta: { ...eta, planSeconds: options.parallel ? eta.makespanSeconds : eta.sequentialSeconds },
    shards,
  };
}

/** The shard's tests in the runner's order, packed into chunks of whole groups where possible. */
export function chunkShard(doc: RunfileDocument, chunkSize: number, sectionCost: (section: ResolvedSection) => number): ChunkPlan[] {
  const chunks: ChunkPlan[] = [];
  let current: ChunkPlan = { index: 0, testIds: [], cost: 0 };
  const close = (): void => {
    if (current.testIds.length === 0) return;
    chunks.push(current);
    current = { index: chunks.length, testIds: [], cost: 0 };
  };
  const seen = new Set<string>();
  for (const section of runnerSectionOrder(doc)) {
    const ids = section.testIds.filter((id) => !seen.has(id));
    ids.forEach((id) => seen.add(id));
    if (ids.length === 0) continue;
    const perTest = sectionCost(section) / section.testIds.length;
    if (current.testIds.length > 0 && current.testIds.length + ids.length > chunkSize) close();
    for (const id of ids) {
      if (current.testIds.length >= chunkSize) close();
      current.testIds.push(id);
      current.cost += perTest;
    }
  }
  close();
  return chunks;
}

/**
 * The order test-runner.py runs sections in (TestRun.run, 2.1-2.4): single-test sections sorted by
 * name, then groups sorted by name — as core/results/run-order.ts, which works per script.
 */
export function runnerSectionOrder(doc: RunfileDocument): ResolvedSection[] {
  const sections = resolveRunfiles([doc]).sections;
  const byName = (a: ResolvedSection, b: ResolvedSection): number => (a.section < b.section ? -1 : a.section > b.section ? 1 : 0);
  return [...sections.filter((s) => s.kind === 'test').sort(byName), ...sections.filter((s) => s.kind === 'group').sort(byName)];
}
