import { describe, expect, it } from 'vitest';
import { compareWithBaseline, storeBaseline } from '../../../activities/fingerprint/runs.js';
import { fingerprintKeys } from '../../../core/fingerprint/keys.js';
import { verifyStability } from '../../../core/fingerprint/stability.js';
import { fixture } from './fixtures.js';
import { memoryStore } from '../../support/memory-fingerprint-store.js';
import { replayCapture } from './replay.js';

const run = { runId: 'run-1', flavor: 'debian-12', shard: 0, workload: 'zts-sanity' };
const fp = replayCapture(fixture('capture', 'raw-capture.jsonl'), 'zts-sanity');

describe('fingerprints in runs', () => {
  it('keys follow the artifact layout', () => {
    expect(fingerprintKeys.run('run-1', 'debian-12', 0)).toBe('runs/run-1/debian-12/0/fingerprint.json');
    expect(fingerprintKeys.baseline('debian-12', 'zfs-tests.sh -r sanity')).toBe('fingerprints/baselines/debian-12/zfs-tests.sh-r-sanity.json');
    expect(() => fingerprintKeys.baseline('../etc', 'x')).toThrow();
  });

  it('says when the flavor has no baseline, and compares (with stored tolerances) when it has', async () => {
    const store = memoryStore();
    expect(await compareWithBaseline(fp, run, store)).toEqual({ status: 'missing', baselineKey: 'fingerprints/baselines/debian-12/zts-sanity.json' });
    const rerun = structuredClone(fp);
    rerun.duration_s *= 1.5;
    await storeBaseline(store, 'debian-12', 'zts-sanity', fp, verifyStability([fp, structuredClone(fp)]).tolerances);
    const same = await compareWithBaseline(rerun, run, store);
    expect(same).toMatchObject({
      status: 'compared',
      deviations: 0,
      deviationsUri: 's3://zfslab-artifacts/runs/run-1/debian-12/0/fingerprint-deviations.json',
    });
    const changed = structuredClone(fp);
    changed.binaries_spawned.push({ path: '/bin/bash', count: 1, parents: ['/usr/bin/python3'] });
    const result = await compareWithBaseline(changed, run, store);
    expect(result.status === 'compared' && result.bySeverity.critical).toBe(1);
    expect(JSON.parse(store.objects.get('runs/run-1/debian-12/0/fingerprint-deviations.json')!.toString()).deviations[0].key).toBe('/bin/bash');
  });
});
