import type { RunOutcome } from './outcome.js';

/**
 * A recipe in the results store is one test of the flavor it ran on: `recipe/<name>` (the file name
 * without its extension), in the group `recipe`, so every view of results shows recipes beside ZTS tests.
 */
export function recipeTestId(fileName: string): string {
  return `recipe/${recipeName(fileName)}`;
}

/** A recipe's name: its file name without directory and extension (`recipes/dedup.sh` → `dedup`). */
export function recipeName(fileName: string): string {
  const base = fileName.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_');
  if (safe === '') throw new Error(`a recipe needs a file name, got ${JSON.stringify(fileName)}`);
  return safe;
}

/** How a flavor's recipe ended: its verdict, or `infra-error` when it never got one (no golden, a host gone). */
export function recipeTargetOutcome(outcome: 'PASS' | 'FAIL' | 'KILLED' | 'CRASH' | undefined): RunOutcome {
  if (outcome === undefined) return 'infra-error';
  return outcome === 'PASS' ? 'passed' : 'failed';
}
