import type { ResultsStore } from '../../../lib/store/index.js';
import { readCapture } from './real-captures.js';

// Real test-runner captures (test/fixtures/zts-output) of four OpenZFS releases, one run each; then
// the 2.3.9 capture twice more as later runs of its flavor with every duration shifted by +1 s and
// +3 s (the capture's own are all 0 s, which leaves a ratio empty), so drift has a history to
// compare with: each test is 3 s against a mean of (0 + 1) / 2; and the broken 2.3.2 run (every
// script failed without TMPDIR) as a later run of its flavor.
export const CAPTURED_FLAVOR_OF: Record<string, string> = {
  '2.1.11': 'debian-12',
  '2.3.2': 'debian-12-backports',
  '2.3.9': 'debian-13',
  '2.4.4': 'debian-13-backports',
};

/** Fills `store` with the history above: runs cap-1, cap-1b, cap-2 (debian-13's latest) and cap-3. */
export async function fillCapturedHistory(store: ResultsStore): Promise<void> {
  for (const [version, flavorId] of Object.entries(CAPTURED_FLAVOR_OF)) {
    await store.upsertFlavor({ id: flavorId, os: 'debian', release: flavorId.slice(7), kernel: '6.1.0', openzfsVersion: version }, '2026-11-26T00:00:00Z');
  }
  const first = Object.keys(CAPTURED_FLAVOR_OF).map((version) => readCapture(version, 'demo'));
  await store.recordRun({ id: 'cap-1', selection: 'runfile:demo.run', target: 'all', startedAt: first[0]!.startedAt });
  for (const capture of first) await store.recordResults({ runId: 'cap-1', flavorId: CAPTURED_FLAVOR_OF[capture.version]!, results: capture.results });
  await store.recordArtifactKeys([{ runId: 'cap-1', flavorId: 'debian-13', shard: 1, name: 'log', s3Key: 'runs/cap-1/debian-13/shard-1/log', bytes: 10 }]);
  const again = readCapture('2.3.9', 'demo');
  for (const [runId, startedAt, shift] of [
    ['cap-1b', '2029-01-01T00:00:00Z', 1],
    ['cap-2', '2030-01-01T00:00:00Z', 3],
  ] as const) {
    await store.recordRun({ id: runId, selection: 'runfile:demo.run', target: 'debian-13', startedAt });
    await store.recordResults({ runId, flavorId: 'debian-13', results: again.results.map((r) => ({ ...r, durationSeconds: r.durationSeconds + shift })) });
  }
  await store.recordArtifactKeys([{ runId: 'cap-2', flavorId: 'debian-13', shard: 1, name: 'log', s3Key: 'runs/cap-2/debian-13/shard-1/log', bytes: 10 }]);
  const broken = readCapture('2.3.2', 'demo-no-tmpdir');
  await store.recordRun({ id: 'cap-3', selection: 'runfile:demo.run', target: 'debian-12-backports', startedAt: '2030-01-02T00:00:00Z' });
  await store.recordResults({ runId: 'cap-3', flavorId: 'debian-12-backports', results: broken.results });
}
