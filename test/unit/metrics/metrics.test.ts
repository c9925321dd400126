import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCoordinatorMetrics,
  createHostMetrics,
  metricsHandler,
  recordArtifactUpload,
  recordResults,
  recordRunOutcome,
  TEST_DURATION_BUCKETS,
} from '../../../lib/metrics.js';
import { DEMO_FLAVORS, upstreamRun } from '../report/report-data.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format, sample lines only. */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const upstream = upstreamRun();
// The demo capture holds a KILLED test; a second copy of it is recorded as the VM's fault.
const demo = DEMO_FLAVORS['debian-13']!.results;
const spoiled = demo.map((r) => (r.outcome === 'KILLED' ? { ...r, infraError: 'VM lost' } : r));

describe('coordinator metrics', () => {
  const metrics = createCoordinatorMetrics({ processMetrics: true });
  const server = createServer(metricsHandler(metrics.registry));
  let base = '';
  let text = '';

  beforeAll(async () => {
    recordResults(metrics, 'ubuntu-22.04', upstream);
    recordResults(metrics, 'debian-13', demo);
    recordResults(metrics, 'debian-13-bpo', spoiled);
    recordRunOutcome(metrics, 'passed', 5 * 3600);
    recordRunOutcome(metrics, 'failed', 40);
    recordRunOutcome(metrics, 'infra-error');
    recordArtifactUpload(metrics, { ok: true, bytes: 12_345_678, retries: 2 });
    recordArtifactUpload(metrics, { ok: false, bytes: 999, retries: 5 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the zfslab metrics with their types, and 404 elsewhere', async () => {
    for (const [name, type] of [
      ['zfslab_runs_total', 'counter'],
      ['zfslab_run_duration_seconds', 'histogram'],
      ['zfslab_test_results_total', 'counter'],
      ['zfslab_test_duration_seconds', 'histogram'],
      ['zfslab_artifact_uploads_total', 'counter'],
      ['zfslab_artifact_upload_retries_total', 'counter'],
      ['zfslab_artifact_uploaded_bytes_total', 'counter'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text).toContain('# TYPE zfslab_coordinator_process_cpu_seconds_total counter');
    expect((await fetch(`${base}/`)).status).toBe(404);
  });

  it('counts results per flavor, outcome and classification, infra errors apart', () => {
    const samples = parseSamples(text);
    const results = samples.filter((s) => s.name === 'zfslab_test_results_total');
    for (const s of results) expect(Object.keys(s.labels).sort()).toEqual(['classification', 'flavor', 'outcome']);
    const of = (flavor: string) => results.filter((s) => s.labels.flavor === flavor);
    expect(of('ubuntu-22.04').reduce((n, s) => n + s.value, 0)).toBe(1637);
    expect(
      of('ubuntu-22.04')
        .map((s) => [s.labels.outcome, s.labels.classification, s.value])
        .sort(),
    ).toEqual([
      ['FAIL', 'expected-fail', 9],
      ['PASS', 'pass', 1599],
      ['SKIP', 'skip', 29],
    ]);
    expect(of('debian-13').reduce((n, s) => n + s.value, 0)).toBe(demo.length);
    expect(of('debian-13').find((s) => s.labels.outcome === 'KILLED')?.labels.classification).toBe('unexpected-fail');
    expect(of('debian-13-bpo').find((s) => s.labels.outcome === 'KILLED')?.labels.classification).toBe('infra-error');
  });

  it('has a duration histogram per flavor with buckets from 1 s to 4 h, over tests only', () => {
    const samples = parseSamples(text);
    const buckets = samples.filter((s) => s.name === 'zfslab_test_duration_seconds_bucket' && s.labels.flavor === 'ubuntu-22.04');
    expect(buckets.map((s) => s.labels.le)).toEqual([...TEST_DURATION_BUCKETS.map(String), '+Inf']);
    const tests = upstream.filter((r) => r.kind === 'test');
    expect(buckets.at(-1)?.value).toBe(tests.length);
    expect(buckets.find((s) => s.labels.le === '300')?.value).toBe(tests.filter((r) => r.durationSeconds <= 300).length);
    // raidz_002_pos took 303 s in that run: the only test above 300 s.
    expect(buckets.find((s) => s.labels.le === '600')!.value - buckets.find((s) => s.labels.le === '300')!.value).toBe(1);
    const sum = samples.find((s) => s.name === 'zfslab_test_duration_seconds_sum' && s.labels.flavor === 'ubuntu-22.04');
    expect(sum?.value).toBe(tests.reduce((n, r) => n + r.durationSeconds, 0));
    // The infra-spoiled KILLED test is not a duration sample.
    const count = (flavor: string) => samples.find((s) => s.name === 'zfslab_test_duration_seconds_count' && s.labels.flavor === flavor)?.value;
    expect(count('debian-13')! - count('debian-13-bpo')!).toBe(1);
  });

  it('counts runs and artifact uploads in base units', () => {
    const samples = parseSamples(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('zfslab_runs_total', { outcome: 'passed' })).toBe(1);
    expect(value('zfslab_runs_total', { outcome: 'infra-error' })).toBe(1);
    expect(value('zfslab_run_duration_seconds_sum', { outcome: 'passed' })).toBe(18000);
    expect(value('zfslab_artifact_upload_retries_total')).toBe(7);
    expect(value('zfslab_artifact_uploaded_bytes_total')).toBe(12_345_678);
    expect(value('zfslab_artifact_uploads_total', { outcome: 'failure' })).toBe(1);
  });

  it('keeps run ids and test names out of labels', () => {
    const values = parseSamples(text).flatMap((s) => Object.values(s.labels));
    const testNames = new Set(upstream.flatMap((r) => [r.testId, r.testId.slice(r.testId.lastIndexOf('/') + 1)]));
    expect(values.filter((v) => testNames.has(v) || v.includes('/'))).toEqual([]);
    const names = new Set(parseSamples(text).map((s) => s.name));
    for (const name of names) expect(name).toMatch(/^zfslab_[a-z0-9_]+$/);
  });

  it('passes promtool check metrics (Prometheus naming lint)', () => {
    const zfslabOnly = text
      .split('\n')
      .filter((l) => /^(# (HELP|TYPE) )?zfslab_/.test(l) && !l.includes('zfslab_coordinator_'))
      .join('\n');
    const run = spawnSync('promtool', ['check', 'metrics'], { input: `${zfslabOnly}\n`, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });
});

describe('host worker metrics', () => {
  it("are its process metrics under zfslab_host_ and its artifact uploads, without the coordinator's run metrics", async () => {
    const metrics = createHostMetrics({ processMetrics: true });
    recordArtifactUpload(metrics, { ok: true, bytes: 2048, retries: 1 });
    recordArtifactUpload(metrics, { ok: true, bytes: 0, retries: 0 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE zfslab_host_process_cpu_seconds_total counter');
    expect(text).not.toContain('zfslab_coordinator_');
    expect(text).not.toContain('zfslab_runs_total');
    expect(text).not.toContain('zfslab_test_results_total');
    const samples = parseSamples(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('zfslab_artifact_uploads_total', { outcome: 'success' })).toBe(2);
    expect(value('zfslab_artifact_upload_retries_total')).toBe(1);
    expect(value('zfslab_artifact_uploaded_bytes_total')).toBe(2048);
  });
});
