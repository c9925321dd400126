import type { MatrixRunResult } from '../../../../core/test-run/types.js';
import { table, type Output } from '../../output.js';
import type { PlanJson } from './json.js';

/** `--dry-run`: the resolved selection, the shards and the estimated makespan with its lower bound. */
export function planJson(result: MatrixRunResult, workflowId: string): PlanJson {
  return {
    dryRun: true,
    workflowId,
    targets: result.targets.map((t) => ({
      target: t.target,
      flavorId: t.flavorId ?? null,
      openzfsVersion: t.flavor?.openzfsVersion ?? null,
      runfileSource: t.runfileSource ?? null,
      error: t.error ?? null,
      plan: t.plan
        ? {
            selectedTests: t.plan.selectedTests,
            selectedSections: t.plan.selectedSections,
            basis: t.plan.basis,
            historySource: t.plan.historySource,
            unknownTests: t.plan.unknownTests,
            parallel: t.plan.parallel,
            makespan: t.plan.makespan,
            lowerBound: t.plan.lowerBound,
            planSeconds: t.plan.planSeconds,
            shards: t.plan.shards.map((s, i) => ({
              index: s.index,
              tests: s.tests,
              cost: s.cost,
              estimatedSeconds: t.plan!.perShardSeconds[s.index - 1] ?? t.plan!.perShardSeconds[i] ?? 0,
              chunks: s.chunks,
              sections: s.sections,
            })),
          }
        : null,
    })),
  };
}

export function printPlan(out: Output, plan: PlanJson, options: { all: boolean }): void {
  for (const t of plan.targets) {
    out.line(`${t.flavorId ?? t.target}${t.openzfsVersion ? ` (OpenZFS ${t.openzfsVersion})` : ''}`);
    if (!t.plan) {
      out.line(`  cannot plan: ${t.error ?? 'unknown error'}`);
      continue;
    }
    const p = t.plan;
    out.line(`  runfiles   ${t.runfileSource ?? '?'}`);
    out.line(`  selection  ${p.selectedTests} tests in ${p.selectedSections} groups`);
    const unit = p.basis === 'history' ? 'seconds of history' : 'tests (no history)';
    out.line(
      `  balanced   by ${p.basis === 'history' ? p.historySource : 'test count'}${p.unknownTests ? `; ${p.unknownTests} tests without history, estimated at the mean` : ''}`,
    );
    out.line(
      table(
        p.shards.map((s) => [String(s.index), String(s.tests), String(s.sections.length), formatDuration(s.estimatedSeconds), String(s.chunks)]),
        ['shard', 'tests', 'groups', 'estimate', 'chunks'],
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    const ratio = p.lowerBound > 0 ? p.makespan / p.lowerBound : 1;
    out.line(`  makespan   ${formatCost(p.makespan, p.basis)} (lower bound ${formatCost(p.lowerBound, p.basis)}, ${ratio.toFixed(3)}×; in ${unit})`);
    out.line(
      `  estimate   ${formatDuration(p.planSeconds)}${p.parallel ? ' with the shards in parallel' : ' with the shards one after the other (one native host)'}`,
    );
    if (options.all) {
      for (const s of p.shards) out.line(`  shard ${s.index}: ${s.sections.join(' ')}`);
    }
  }
}

function formatCost(value: number, basis: 'history' | 'test-count'): string {
  return basis === 'history' ? formatDuration(value) : `${Math.round(value)} tests`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}
