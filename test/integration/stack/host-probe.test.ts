import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactKeys } from '../../../core/artifact-keys.js';
import { HostProbeReportSchema, PROBE_SECTION_NAMES, type HostProbeReport } from '../../../core/host/probe-report.js';
import type { HostEntry } from '../../../core/host/registry.js';
import { createWorld, runCli, startWorker, testArtifacts, type RunningWorker, type TestWorld } from '../../support/stack.js';

describe('zfslab host probe, end to end through real workers', () => {
  let world: TestWorld;
  let coordinator: RunningWorker;
  let host: RunningWorker;

  beforeAll(async () => {
    world = createWorld('probe');
    [coordinator, host] = await Promise.all([startWorker('coordinator', world.env), startWorker('host', world.env)]);
  });
  afterAll(async () => {
    await Promise.all([coordinator?.stop(), host?.stop()]);
    world?.cleanup();
  });

  it('probes this host, stores a valid report in S3 and prints it as JSON', async () => {
    const result = await runCli(['host', 'probe', '--json', '--disk-seconds', '1'], world.env);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { report: unknown; uri: string; workflowId: string };
    const report = HostProbeReportSchema.parse(printed.report);
    expect(report.hostId).toBe(world.hostId);
    expect(report.sections.system.cpus).toBeGreaterThan(0);
    expect(report.sections.diskSpeed.measured).toBe(true);
    expect(report.sections.diskSpeed.bytesWritten).toBeGreaterThan(0);
    // Every section came from the first (and only) attempt.
    for (const name of PROBE_SECTION_NAMES) expect(report.sections[name].attempt).toBe(1);

    const artifacts = testArtifacts(world);
    try {
      const key = printed.uri.replace(`s3://${world.loaded.config.s3.bucket}/`, '');
      expect(key).toMatch(new RegExp(`^hosts/${world.hostId}/probe/\\d{8}T\\d{9}Z\\.json$`));
      const stored = HostProbeReportSchema.parse(JSON.parse((await artifacts.getText(key)) ?? 'null'));
      expect(stored).toEqual(report);
      const latest = HostProbeReportSchema.parse(JSON.parse((await artifacts.getText(artifactKeys.probeLatest(world.hostId))) ?? 'null'));
      expect(latest.probedAt).toBe(report.probedAt);
      expect((await artifacts.head(key))?.contentType).toBe('application/json');
    } finally {
      artifacts.destroy();
    }
  });

  it('prints a readable summary with the S3 URI on a terminal-less run', async () => {
    const result = await runCli(['host', 'probe', '--disk-seconds', '0'], world.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^host ${world.hostId} `, 'm'));
    expect(result.stdout).toMatch(/^KVM\s+/m);
    expect(result.stdout).toMatch(/^report\s+s3:\/\/zfslab-test-artifacts\/hosts\//m);
  });

  it('registers the probe in the host registry: proven capabilities only, unknown until checked; operators change its health', async () => {
    const probed = await runCli(['host', 'probe', '--json', '--disk-seconds', '0'], world.env);
    expect(probed.code).toBe(0);
    const { report, host } = JSON.parse(probed.stdout) as { report: HostProbeReport; host: HostEntry };
    expect(host.hostId).toBe(world.hostId);
    expect(host.health.state).toBe('unknown');
    // kvm only where a guest kernel booted under it (this machine has no /dev/kvm).
    expect(host.capabilities.includes('kvm')).toBe(report.sections.kvm.guestBoot?.booted === true);
    expect(host.facts).toMatchObject({ vmSlots: world.loaded.config.host.maxVms, cpus: report.sections.system.cpus, tags: [] });

    const list = await runCli(['host', 'list', '--json'], world.env);
    expect(list.code).toBe(0);
    const listed = (JSON.parse(list.stdout) as { hosts: (HostEntry & { healthCheckDue: boolean })[] }).hosts.find((h) => h.hostId === world.hostId);
    // `unknown`: a check is due before it gets work.
    expect(listed?.healthCheckDue).toBe(true);

    // This host has no golden in the test's registry entry: the health check is probe + native smoke test.
    const check = await runCli(['host', 'health-check', '--native', '--json'], world.env);
    expect(check.code).toBe(0);
    const checked = JSON.parse(check.stdout) as { passed: boolean; parts: { name: string; passed: boolean }[]; transition?: { from: string; to: string } };
    expect(checked.parts.map((p) => [p.name, p.passed])).toEqual([
      ['probe', true],
      ['native smoke test', true],
    ]);
    expect(checked.transition).toMatchObject({ from: 'unknown', to: 'good' });

    const maintenance = await runCli(['host', 'maintenance', world.hostId, '--why', 'swapping a disk', '--by', 'operator:test'], world.env);
    expect(maintenance.code).toBe(0);
    expect(maintenance.stdout).toContain(`host ${world.hostId}: good → maintenance (operator:test: swapping a disk)`);
    const show = await runCli(['host', 'show', world.hostId, '--json'], world.env);
    const shown = JSON.parse(show.stdout) as { host: HostEntry; transitions: { from: string; to: string; by: string }[] };
    expect(shown.host.health.state).toBe('maintenance');
    expect(shown.transitions.map((t) => `${t.from}>${t.to} ${t.by}`)).toEqual(['good>maintenance operator:test', 'unknown>good system']);
    // A host in maintenance gets no verdict from a check: the workflow says so and the state stays.
    const refused = await runCli(['host', 'health-check', '--native'], world.env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('is maintenance: cannot record a health check');

    const unknownHost = await runCli(['host', 'retire', 'no-such-host', '--why', 'x'], world.env);
    expect(unknownHost.code).toBe(2);
    expect(unknownHost.stderr).toContain('no host no-such-host in the registry');

    const status = await runCli(['status', '--json'], world.env);
    const statusReport = JSON.parse(status.stdout) as { talkingTo: { temporal: string; store: string }; hosts: { hostId: string; entry?: HostEntry }[] };
    expect(statusReport.talkingTo.temporal).toBe(world.loaded.config.temporal.address);
    expect(statusReport.talkingTo.store).toMatch(/^sqlite:/);
    expect(statusReport.hosts.find((h) => h.hostId === world.hostId)?.entry?.health.state).toBe('maintenance');
  });

  it('test all leaves out, and names, the flavors the probed host cannot run', async () => {
    const result = await runCli(['test', 'all', '--suite', 'quick', '--dry-run', '--json'], world.env);
    const printed = JSON.parse(result.stdout) as { skipped: { flavorId: string; reason: string }[]; targets: { target: string }[] };
    // No `internet` tag on this host: the cloud-image flavors cannot be built here.
    expect(printed.skipped.map((s) => s.flavorId)).toEqual(['debian13-cloud', 'ubuntu24', 'centos9', 'rocky9', 'fedora44']);
    expect(printed.skipped[0]?.reason).toBe(`${world.hostId}: no debian13-cloud golden and cannot build one (lacks internet)`);
    expect(printed.targets.map((t) => t.target)).not.toContain('ubuntu24');
    const required = await runCli(['test', 'debian13', '--suite', 'quick', '--require', 'no-such-cap', '--dry-run'], world.env);
    expect(required.code).toBe(2);
    expect(required.stderr).toContain('lacks required no-such-cap');
  });

  it('refuses clearly when no worker polls the host queue', async () => {
    const result = await runCli(['host', 'probe', '--host', 'no-such-host'], world.env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no host worker polls zfslab-host-no-such-host');
  });
});
