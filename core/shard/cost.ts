import { baseName, testIdOf } from '../runfile/ids.js';
import type { ResolvedSection } from '../runfile/resolve.js';
import type { DurationHistory } from './durations.js';

/**
 * What a section (a group, the unit a shard gets whole) costs: its tests plus its setup and cleanup.
 * With history, in seconds: a test without history costs the mean of the tests that have one, a
 * setup/cleanup without history the mean of the setups/cleanups that have one (the mean keeps the
 * total honest where a median of mostly-0 s tests would not). Without any history, cost is the number
 * of tests (the `test-count` basis).
 */
export type CostBasis = 'history' | 'test-count';

export interface SectionCost {
  section: string;
  tests: number;
  /** Tests plus setup and cleanup scripts: what the runner prints a line for. */
  scripts: number;
  /** Seconds (history basis) or tests (test-count basis). */
  cost: number;
  /** Tests (not setup/cleanup) that had no history and were estimated. */
  unknownTests: string[];
}

export interface CostModel {
  basis: CostBasis;
  sectionCost(section: ResolvedSection): SectionCost;
}

export function costModel(history: DurationHistory): CostModel {
  const entries = Object.entries(history);
  if (entries.length === 0) {
    return {
      basis: 'test-count',
      sectionCost: (section) => ({
        section: section.section,
        tests: section.tests.length,
        scripts: section.tests.length + auxScripts(section).length,
        cost: section.tests.length,
        unknownTests: [],
      }),
    };
  }
  const isAux = (id: string): boolean => /\/(setup|cleanup)$/.test(id);
  const testMean = mean(entries.filter(([id]) => !isAux(id)).map(([, s]) => s));
  const auxMean = mean(entries.filter(([id]) => isAux(id)).map(([, s]) => s));
  return {
    basis: 'history',
    sectionCost(section) {
      const unknownTests: string[] = [];
      let cost = 0;
      for (const id of section.testIds) {
        const known = history[id];
        if (known === undefined) unknownTests.push(id);
        cost += known ?? testMean;
      }
      const aux = auxScripts(section);
      for (const script of aux) cost += history[testIdOf(section.groupId, baseName(script))] ?? auxMean;
      return { section: section.section, tests: section.tests.length, scripts: section.tests.length + aux.length, cost, unknownTests };
    },
  };
}

function auxScripts(section: ResolvedSection): string[] {
  return section.kind === 'group' ? [section.pre, section.post].filter((script) => script !== '') : [];
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
