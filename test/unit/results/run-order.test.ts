import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultLines } from '../../../core/results/result-line.js';
import { RunProgress, runnerOrder } from '../../../core/results/run-order.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { projectRoot } from '../../../lib/paths.js';

const fixtures = join(projectRoot, 'test/fixtures');

describe('runnerOrder', () => {
  it('predicts the order the real runner printed (groups sorted by section, setup, tests, cleanup)', () => {
    const doc = parseRunfile(readFileSync(join(fixtures, 'zts-output/2.1.11/demo/runfile'), 'utf8'));
    const printed = parseResultLines(readFileSync(join(fixtures, 'zts-output/2.1.11/demo/stdout'), 'utf8'));
    expect(runnerOrder(doc)).toEqual(printed.map(({ testId, kind, linuxSection }) => ({ testId, kind, linuxSection })));
  });

  it('leaves out groups whose tags miss -T', () => {
    const doc = parseRunfile(readFileSync(join(fixtures, 'zts-runner/demo.run.in'), 'utf8'));
    expect(runnerOrder(doc, ['hang']).map((p) => p.testId)).toEqual(['functional/hang/setup', 'functional/hang/hang_001_pos', 'functional/hang/cleanup']);
  });
});

describe('RunProgress', () => {
  it('names the script after the last reported one, skipping scripts that never printed', () => {
    const plan = [
      { testId: 'functional/a/setup', kind: 'setup' as const, linuxSection: false },
      { testId: 'functional/a/t1', kind: 'test' as const, linuxSection: false },
      { testId: 'functional/a/t2', kind: 'test' as const, linuxSection: false },
      { testId: 'functional/a/cleanup', kind: 'cleanup' as const, linuxSection: false },
    ];
    const progress = new RunProgress(plan);
    expect(progress.current?.testId).toBe('functional/a/setup');
    expect(progress.record({ testId: 'functional/a/setup', linuxSection: false })?.testId).toBe('functional/a/t1');
    // t1 failed verification and printed nothing; t2 ends next.
    expect(progress.record({ testId: 'functional/a/t2', linuxSection: false })?.testId).toBe('functional/a/cleanup');
    expect(progress.record({ testId: 'functional/other/x', linuxSection: false })?.testId).toBe('functional/a/cleanup');
    expect(progress.record({ testId: 'functional/a/cleanup', linuxSection: false })).toBeUndefined();
  });
});
