import type { RunfileDocument } from '../runfile/document.js';
import { renderRunfile } from '../runfile/render.js';
import { resolveRunfiles } from '../runfile/resolve.js';
import { costModel } from './cost.js';
import type { CostBasis } from './cost.js';
import type { DurationHistory } from './durations.js';

/**
 * Upstream's own split, `zfs-tests.sh -T k/N` (split_tags() in scripts/zfs-tests.sh, unchanged from
 * 2.2.x to master), reproduced for comparison:
 *
 *   cat $RUNFILES | tr -d "[],\'" | awk '/tags = /{print $NF}' | sort | uniq | grep -v functional |
 *     awk -v num=k -v den=N '{ if (NR % den == (num - 1)) {printf "%s,",$0} }'
 *
 * i.e. the LAST tag on every line of the runfiles' text that contains `tags = `, sorted (byte order,
 * as under upstream CI's C.UTF-8 locale), de-duplicated, minus anything containing "functional",
 * then every N-th tag starting at line k-1 (so 1/2 takes lines 2, 4, …; 2/2 takes 1, 3, …). The
 * runner then runs each group sharing any tag with that list (TestGroup.run), and every single-test
 * section regardless of tags (Test.run has no tag check). Consequences this keeps: a group whose
 * earlier tag is another group's last tag (`acl` in acl/posix) runs in two shards; a group whose only
 * tag is `functional` runs in none; nothing looks at durations.
 */
export function upstreamSplitTags(runfileTexts: readonly string[], part: number, parts: number): string[] {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 1 || part > parts) {
    throw new RangeError(`-T wants k/N with 1 <= k <= N, got ${part}/${parts}`);
  }
  const lastTags: string[] = [];
  for (const text of runfileTexts) {
    for (const line of text.replace(/[[\],']/g, '').split('\n')) {
      if (!line.includes('tags = ')) continue;
      const fields = line.split(/[ \t]+/).filter((field) => field !== '');
      const last = fields[fields.length - 1];
      if (last !== undefined) lastTags.push(last);
    }
  }
  const unique = [...new Set(lastTags)].sort(byteOrder).filter((tag) => !tag.includes('functional'));
  return unique.filter((_, i) => (i + 1) % parts === part - 1);
}

export interface UpstreamShard {
  index: number;
  tags: string[];
  sections: string[];
  tests: number;
  scripts: number;
  cost: number;
}

export interface UpstreamSplitPlan {
  basis: CostBasis;
  shards: UpstreamShard[];
  makespan: number;
  /** Sum over shards, duplicates counted as often as they run. */
  total: number;
  /** Sections that run in more than one shard. */
  duplicatedSections: string[];
  /** Group sections that run in no shard. */
  unassignedSections: string[];
}

/** What `-T 1/N` … `-T N/N` over these runfiles would run, costed with the same model as planShards. */
export function planUpstreamSplit(docs: readonly RunfileDocument[], history: DurationHistory, parts: number): UpstreamSplitPlan {
  const texts = docs.map(renderRunfile);
  const model = costModel(history);
  const sections = resolveRunfiles(docs).sections;
  const runs = new Map<string, number>();
  const shards = Array.from({ length: parts }, (_, i) => {
    const tags = upstreamSplitTags(texts, i + 1, parts);
    const chosen = sections.filter((s) => s.kind === 'test' || s.tags.some((tag) => tags.includes(tag)));
    const costs = chosen.map((s) => model.sectionCost(s));
    for (const s of chosen) runs.set(s.section, (runs.get(s.section) ?? 0) + 1);
    return {
      index: i + 1,
      tags,
      sections: chosen.map((s) => s.section),
      tests: costs.reduce((n, c) => n + c.tests, 0),
      scripts: costs.reduce((n, c) => n + c.scripts, 0),
      cost: costs.reduce((n, c) => n + c.cost, 0),
    };
  });
  return {
    basis: model.basis,
    shards,
    makespan: Math.max(...shards.map((s) => s.cost)),
    total: shards.reduce((n, s) => n + s.cost, 0),
    duplicatedSections: sections.filter((s) => (runs.get(s.section) ?? 0) > 1).map((s) => s.section),
    unassignedSections: sections.filter((s) => !runs.has(s.section)).map((s) => s.section),
  };
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
