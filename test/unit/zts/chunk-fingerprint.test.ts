import { describe, expect, it } from 'vitest';
import type { FingerprintArtifactStore } from '../../../activities/fingerprint/runs.js';
import type { CaptureShell } from '../../../activities/fingerprint/shell.js';
import { startChunkCapture } from '../../../activities/zts/chunk-fingerprint.js';
import { ChunkFingerprintSchema, describeChunkFingerprint } from '../../../core/test-run/fingerprint.js';
import { createLogger } from '../../../lib/log.js';

const request = { runId: 'r1', flavorId: 'debian13', shard: 1, chunk: 0, workload: 'zts-x' };
const store: FingerprintArtifactStore = { upload: async (key) => `s3://b/${key}`, download: async () => undefined };
const log = createLogger('chunk-fingerprint-test', 'silent');

describe('startChunkCapture', () => {
  it('reports a target without a capture shell as not captured, and does not hold the runner', async () => {
    const capture = startChunkCapture(undefined, request, { store, signal: new AbortController().signal, log });
    await capture.ready;
    expect(await capture.finish()).toEqual({ shard: 1, chunk: 0, workload: 'zts-x', status: 'not-captured', reason: 'this target offers no capture shell' });
  });

  it('lets the runner start at once when the capture fails before attaching, and says why', async () => {
    // A target whose root shell cannot run anything (e.g. sudo refused): the probe fails.
    const broken: CaptureShell = { name: 'guest c-1', run: async () => ({ exitCode: 1, stderr: 'sudo: a password is required' }) };
    const capture = startChunkCapture({ shell: broken, followExec: '/usr/share/zfs/zfs-tests.sh' }, request, {
      store,
      signal: new AbortController().signal,
      log,
      attachTimeoutMs: 60_000,
    });
    const started = Date.now();
    await capture.ready;
    expect(Date.now() - started).toBeLessThan(5_000);
    const report = await capture.finish();
    expect(report.status).toBe('not-captured');
    expect(report.status === 'not-captured' && report.reason).toMatch(/probing guest c-1 .*sudo: a password is required/);
  });

  it('gives up waiting for a tracer that never attaches and stops it', async () => {
    let stopped = false;
    const stuck: CaptureShell = {
      name: 'guest c-2',
      run: (_line, _onStdout, signal) =>
        new Promise((resolve) => {
          signal?.addEventListener('abort', () => {
            stopped = true;
            resolve({ exitCode: null, stderr: '' });
          });
        }),
    };
    const capture = startChunkCapture({ shell: stuck, followExec: '/x' }, request, { store, signal: new AbortController().signal, log, attachTimeoutMs: 200 });
    await capture.ready;
    const report = await capture.finish();
    expect(stopped).toBe(true);
    expect(report).toMatchObject({ status: 'not-captured', reason: 'the tracer did not attach within 0.2 s' });
  });
});

describe('describeChunkFingerprint', () => {
  it('says what people need: not captured and why, no baseline and how to set one, drift by worst severity', () => {
    const base = { shard: 1, chunk: 0, workload: 'w' };
    expect(describeChunkFingerprint({ ...base, status: 'not-captured', reason: 'no bpftrace' })).toBe('not captured: no bpftrace');
    expect(describeChunkFingerprint({ ...base, status: 'no-baseline', fingerprintKey: 'k', baselineKey: 'fingerprints/baselines/d/w.json' })).toMatch(
      /no baseline yet .*fingerprint baseline set.*d\/w\.json/,
    );
    const compared = {
      ...base,
      status: 'compared' as const,
      fingerprintKey: 'k',
      baselineKey: 'b',
      deviations: 3,
      bySeverity: { info: 0, low: 1, medium: 0, high: 0, critical: 2 },
    };
    expect(ChunkFingerprintSchema.parse(compared)).toEqual(compared);
    expect(describeChunkFingerprint(compared)).toBe('3 deviation(s) from the baseline (2 critical, 1 low)');
    expect(describeChunkFingerprint({ ...compared, deviations: 0 })).toBe('no drift from the baseline');
  });
});
