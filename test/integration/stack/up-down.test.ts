import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostProbeReportSchema } from '../../../core/host/probe-report.js';
import { freePort } from '../../support/ports.js';
import { runCli, testStack } from '../../support/stack.js';

function pidsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir) || readFileSync(`/proc/${e}/environ`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// The README's main job, as a user runs it: up → host probe → status → down, on its own ports.
describe('zfslab up / host probe / status / down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-up-'));
  const configFile = join(dir, 'zfslab.config.yaml');
  const env = { ...process.env, ZFSLAB_CONFIG: '', ZFSLAB_LOG_FORMAT: 'json' };
  afterAll(async () => {
    await runCli(['--config', configFile, 'down'], env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the embedded stack, probes, reports status and stops exactly its processes', async () => {
    const [grpc, ui, s3, consolePort, coordMetrics, hostMetrics] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
    writeFileSync(
      configFile,
      [
        `stateDir: ${join(dir, 'state')}`,
        `toolsDir: ${testStack().toolsDir}`,
        'host: { id: up-down-host }',
        `temporal: { address: "127.0.0.1:${grpc}", uiPort: ${ui} }`,
        `s3: { endpoint: "http://127.0.0.1:${s3}", consolePort: ${consolePort} }`,
        `metrics: { coordinatorPort: ${coordMetrics}, hostPort: ${hostMetrics} }`,
      ].join('\n'),
    );
    const up = await runCli(['--config', configFile, 'up'], env);
    expect(up.stderr).not.toMatch(/error/i);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`Temporal UI     http://127.0.0.1:${ui}/namespaces/zfslab/workflows`);
    expect(up.stdout).toContain(`MinIO console   http://127.0.0.1:${consolePort}`);
    for (const name of ['temporal', 'minio', 'coordinator', 'host-worker']) expect(up.stdout).toMatch(new RegExp(`started\\s+${name}`));

    // The UI the README points people at really answers.
    expect((await fetch(`http://127.0.0.1:${ui}/`)).ok).toBe(true);

    const again = await runCli(['--config', configFile, 'up'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/running\s+temporal/);

    const probe = await runCli(['--config', configFile, 'host', 'probe', '--json', '--disk-seconds', '0'], env);
    expect(probe.code).toBe(0);
    expect(HostProbeReportSchema.parse(JSON.parse(probe.stdout).report).hostId).toBe('up-down-host');

    const status = await runCli(['--config', configFile, 'status', '--json'], env);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      services: { name: string; healthy: boolean }[];
      queues: { queue: string; workflowPollers: unknown[]; activityPollers: unknown[] }[];
      hosts: { hostId: string; probe?: unknown; capabilities: string[] }[];
    };
    expect(report.services.every((s) => s.healthy)).toBe(true);
    const hostQueue = report.queues.find((q) => q.queue === 'zfslab-host-up-down-host');
    expect(hostQueue?.activityPollers.length).toBeGreaterThan(0);
    expect(report.queues.find((q) => q.queue === 'zfslab')?.workflowPollers.length).toBeGreaterThan(0);
    expect(report.hosts.find((h) => h.hostId === 'up-down-host')?.probe).toBeDefined();

    // Both workers serve Prometheus metrics named after zfs_exporter's conventions.
    const coordinatorMetrics = await (await fetch(`http://127.0.0.1:${coordMetrics}/metrics`)).text();
    expect(coordinatorMetrics).toMatch(/^# TYPE zfslab_runs_total counter$/m);
    expect(coordinatorMetrics).toMatch(/^# TYPE zfslab_test_duration_seconds histogram$/m);
    const hostWorkerMetrics = await (await fetch(`http://127.0.0.1:${hostMetrics}/metrics`)).text();
    expect(hostWorkerMetrics).toMatch(/^# TYPE zfslab_artifact_upload_retries_total counter$/m);

    const pidFiles = readdirSync(join(dir, 'state', 'run'));
    const pids = pidFiles.map((f) => (JSON.parse(readFileSync(join(dir, 'state', 'run', f), 'utf8')) as { pid: number }).pid);
    expect(pids).toHaveLength(4);

    const down = await runCli(['--config', configFile, 'down'], env);
    expect(down.code).toBe(0);
    for (const name of ['host-worker', 'coordinator', 'minio', 'temporal']) expect(down.stdout).toMatch(new RegExp(`stopped\\s+${name}`));
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
    expect(pidsUnder(join(dir, 'state'))).toEqual([]);

    const statusDown = await runCli(['--config', configFile, 'status'], env);
    expect(statusDown.code).toBe(3);
    expect(statusDown.stdout).toMatch(/temporal\s+down/);
  }, 300_000);
});
