import { baselineFor } from '../../../core/baselines/index.js';
import { classify } from '../../../core/baselines/classify.js';
import type { ClassifiedResult } from '../../../core/results/types.js';
import { readDurationTable } from '../../support/store/history-data.js';
import { readCapture } from '../../support/store/real-captures.js';
import type { CapturedRun } from '../../support/store/real-captures.js';

/**
 * Report inputs from real runs only:
 *  - the demo suite as four real test-runner releases ran it (test/fixtures/zts-output), plus the
 *    2.3.2 run without TMPDIR where every script failed: five matrix columns;
 *  - the full upstream CI run of March 2023 (test/fixtures/durations, 1,637 lines), classified
 *    with the shipped 2.1 baseline (OpenZFS master then was 2.1.99).
 */
export const DEMO_FLAVORS: Record<string, CapturedRun> = {
  'debian-12': readCapture('2.1.11', 'demo'),
  'debian-12-bpo': readCapture('2.3.2', 'demo'),
  'debian-12-bpo-notmp': readCapture('2.3.2', 'demo-no-tmpdir'),
  'debian-13': readCapture('2.3.9', 'demo'),
  'debian-13-bpo': readCapture('2.4.4', 'demo'),
};

export function upstreamRun(): ClassifiedResult[] {
  return classify(
    readDurationTable().map((r) => ({
      testId: r.testId,
      group: r.group,
      kind: r.kind,
      outcome: r.outcome,
      reran: false,
      durationSeconds: r.seconds,
      user: 'root',
      linuxSection: r.linuxSection,
    })),
    baselineFor('2.1.99'),
  );
}
