import { Command } from 'commander';
import { z } from 'zod';
import type { HostProbeReport } from '../../../core/host/probe-report.js';
import { InfraError, rootCauseMessage, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import type { HostProbeResult } from '../../../workflows/host-probe.js';
import { contextFrom } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { formatBytes, table, type Output } from '../output.js';
import { commandWaitSpec, waitForWorkflow } from '../wait.js';

const ProbeFlags = z.object({
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)')
    .optional(),
  timeout: z.coerce.number().int().positive().default(600),
  diskSeconds: z.coerce.number().min(0).max(600).default(3),
});

export function hostCommand(): Command {
  const host = new Command('host').description('lab hosts: probe what a host can do');
  host
    .command('probe')
    .description('inspect a lab host for real (CPU, RAM, disk, KVM, qemu, ZFS, debootstrap, bpftrace) and store the report in S3')
    .option('--host <id>', 'host id (default: this machine)')
    .option('--timeout <seconds>', 'give up waiting after this many seconds', '600')
    .option('--disk-seconds <seconds>', 'measure write throughput under the image dir for this long (0: skip)', '3')
    .action(async (rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const parsed = ProbeFlags.safeParse(rawFlags);
      if (!parsed.success) throw new UsageError(`host probe: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const loaded = ctx.loaded();
      const hostId = parsed.data.host ?? resolveHostId(loaded);
      const client = await connectOrExplain(loaded.config);
      try {
        await requireHostWorker(client, loaded.config.temporal.namespace, hostId);
        const workflowId = `host-probe-${hostId}-${Date.now()}`;
        const handle = await client.workflow.start('hostProbe', {
          taskQueue: loaded.config.temporal.taskQueue,
          workflowId,
          args: [{ hostId, diskBenchmarkSeconds: parsed.data.diskSeconds, hostWaitSeconds: loaded.config.run.hostWaitSeconds }],
          workflowExecutionTimeout: `${parsed.data.timeout}s`,
        });
        const settled = await waitForWorkflow<HostProbeResult>(client, handle, {
          ...commandWaitSpec(loaded.config, ctx.out, `probe of host ${hostId}`, hostId),
          // The workflow's execution timeout ends it first; this is the CLI's own bound beside it.
          timeoutSeconds: parsed.data.timeout + 30,
        });
        if ('error' in settled) throw new InfraError(`host probe ${workflowId} failed: ${rootCauseMessage(settled.error)}`);
        const result = settled.value;
        if (ctx.out.json) return ctx.out.data({ ...result, workflowId, temporalUi: temporalUiUrl(loaded.config, workflowId) });
        printProbe(ctx.out, result.report);
        ctx.out.line();
        ctx.out.line(`report       ${result.uri}`);
        ctx.out.line(`workflow     ${temporalUiUrl(loaded.config, workflowId)}`);
      } finally {
        await closeClient(client);
      }
    });
  return host;
}

export function printProbe(out: Output, report: HostProbeReport): void {
  const s = report.sections;
  const tool = (t: { present: boolean; version?: string }) => (t.present ? (t.version ?? 'present') : 'absent');
  out.line(`host ${report.hostId} (${s.system.hostname}), probed ${report.probedAt}`);
  out.line(
    table([
      ['OS', `${s.system.os}, kernel ${s.system.kernel} (${s.system.arch})`],
      ['CPU', `${s.system.cpus} × ${s.system.cpuModel}`],
      ['memory', formatBytes(s.system.memoryBytes)],
      ['image dir', `${s.disk.imageDir}: ${formatBytes(s.disk.freeBytes)} free of ${formatBytes(s.disk.totalBytes)}`],
      ['KVM', s.kvm.usable ? 'usable' : `not usable (${s.kvm.reason ?? 'unknown'})`],
      ['qemu', `system ${tool(s.qemu.system)}, img ${tool(s.qemu.img)}`],
      ['ZFS', `zfs ${tool(s.zfs.zfs)}, zpool ${tool(s.zfs.zpool)}, module ${s.zfs.kmodVersion ?? 'not loaded'}`],
      [
        'disk speed',
        s.diskSpeed.measured ? `${s.diskSpeed.writeMiBPerSecond.toFixed(0)} MiB/s sequential write (${s.diskSpeed.seconds.toFixed(1)} s)` : 'not measured',
      ],
      ['debootstrap', tool(s.tools.debootstrap)],
      ['bpftrace', tool(s.tools.bpftrace)],
      ['tracepoints', `${s.tracing.tracepoints.works ? 'work' : 'do not work'} (${s.tracing.tracepoints.detail})`],
      ['kprobes', `${s.tracing.kprobes.works ? 'work' : 'do not work'} (${s.tracing.kprobes.detail})`],
    ]),
  );
}
