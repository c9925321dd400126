import type { RunfileDocument } from '../runfile/document.js';
import { baseName } from '../runfile/ids.js';
import { resolveRunfiles } from '../runfile/resolve.js';
import type { ScriptKind, TestResult } from './types.js';

/** One script test-runner.py will print a result line for, in the order it runs them. */
export interface PlannedScript {
  testId: string;
  kind: ScriptKind;
  linuxSection: boolean;
}

/**
 * The order test-runner.py (2.1-2.4, TestRun.run) runs a runfile in: single-test sections sorted by
 * name, then groups sorted by section name; in each, the pre script, the tests as listed, the post
 * script. Groups whose tags miss the `-T` tags are left out (single tests ignore tags, as there).
 * Tests that fail the runner's verification (missing scripts) print nothing; callers must not wait
 * for every planned script.
 */
export function runnerOrder(doc: RunfileDocument, tags?: readonly string[]): PlannedScript[] {
  const sections = resolveRunfiles([doc]).sections;
  const byName = (a: { section: string }, b: { section: string }): number => (a.section < b.section ? -1 : a.section > b.section ? 1 : 0);
  const singles = sections.filter((s) => s.kind === 'test').sort(byName);
  const groups = sections
    .filter((s) => s.kind === 'group')
    .filter((s) => !tags || tags.length === 0 || s.tags.some((t) => tags.includes(t)))
    .sort(byName);
  const planned: PlannedScript[] = [];
  for (const s of [...singles, ...groups]) {
    const linuxSection = s.identifier === 'Linux';
    if (s.pre) planned.push({ testId: `${s.groupId}/${baseName(s.pre)}`, kind: 'setup', linuxSection });
    for (const testId of s.testIds) planned.push({ testId, kind: 'test', linuxSection });
    if (s.post) planned.push({ testId: `${s.groupId}/${baseName(s.post)}`, kind: 'cleanup', linuxSection });
  }
  return planned;
}

/**
 * Follows a run's result lines through its planned order and says what runs now: the script after
 * the last one reported (the runner prints a line only when a script ends).
 */
export class RunProgress {
  private next = 0;

  constructor(private readonly planned: readonly PlannedScript[]) {}

  /** Records a finished script; returns what runs now (undefined once the plan is done). */
  record(result: Pick<TestResult, 'testId' | 'linuxSection'>): PlannedScript | undefined {
    const at = this.planned.findIndex((p, i) => i >= this.next && p.testId === result.testId && p.linuxSection === result.linuxSection);
    if (at >= 0) this.next = at + 1;
    return this.current;
  }

  get current(): PlannedScript | undefined {
    return this.planned[this.next];
  }
}
