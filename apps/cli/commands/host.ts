import { Command } from 'commander';
import { z } from 'zod';
import { userInfo } from 'node:os';
import { healthCheckDue, type HealthEvent, type HealthTransition } from '../../../core/host/health.js';
import type { HostProbeReport } from '../../../core/host/probe-report.js';
import type { HostEntry } from '../../../core/host/registry.js';
import { storeUrlOf } from '../../../lib/config.js';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import { InfraError, rootCauseMessage, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import type { HostHealthCheckResult } from '../../../workflows/health-check.js';
import type { HostProbeResult } from '../../../workflows/host-probe.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { PowerConfigSchema, powerDriverFor } from '../../../activities/power/from-config.js';
import { healthEventFor, Power, PowerError } from '../../../activities/power/power.js';
import { parseDuration } from '../../../core/schedule/definition.js';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { HealthSweepInput } from '../../../workflows/health-sweep.js';
import { EXIT, ExitError } from '../exit.js';
import { contextFrom, type CliContext } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { formatBytes, paint, table, type Output } from '../output.js';
import { commandWaitSpec, waitForWorkflow } from '../wait.js';

const PowerActionSchema = z.enum(['status', 'on', 'off', 'cycle']);

/** The one schedule of the health cadence. */
export const HEALTH_SWEEP_SCHEDULE = 'zfslab-health-sweep';

const ProbeFlags = z.object({
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)')
    .optional(),
  timeout: z.coerce.number().int().positive().default(600),
  diskSeconds: z.coerce.number().min(0).max(600).default(3),
});

const HealthCheckFlags = z.object({
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)')
    .optional(),
  flavor: z.string().min(1).optional(),
  native: z.boolean().default(false),
  timeout: z.coerce.number().int().positive().default(3600),
});

const HostIdArg = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)');
const ReasonFlags = z.object({ why: z.string().min(1, 'say why (--why TEXT)'), by: z.string().min(1).optional() });

async function withRegistry<T>(ctx: CliContext, work: (registry: HostRegistry) => Promise<T>): Promise<T> {
  const store = await openStore(storeUrlOf(ctx.loaded()), { logger: ctx.log() });
  try {
    return await work(new HostRegistry(store.db));
  } finally {
    await store.close();
  }
}

function parseHostId(raw: string, what: string): string {
  const parsed = HostIdArg.safeParse(raw);
  if (!parsed.success) throw new UsageError(`host ${what}: <host> ${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Who asked, for the health record: `--by`, else `operator:<login>`. */
export function operator(by: string | undefined): string {
  if (by) return by;
  try {
    return `operator:${userInfo().username}`;
  } catch {
    return 'operator';
  }
}

/** An operator's health event (maintenance, retire, recheck) on one host of the registry. */
function healthCommand(name: 'maintenance' | 'retire' | 'recheck', description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<host>', 'host id')
    .requiredOption('--why <text>', 'why (kept with who and when)')
    .option('--by <who>', 'who asks (default: operator:<login>)')
    .action(async (rawHost: string, rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const hostId = parseHostId(rawHost, name);
      const flags = ReasonFlags.safeParse(rawFlags);
      if (!flags.success) throw new UsageError(`host ${name}: ${flags.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const event: HealthEvent = { kind: name, at: new Date().toISOString(), by: operator(flags.data.by), why: flags.data.why };
      const result = await withRegistry(ctx, (registry) => registry.applyHealth(hostId, event));
      if (ctx.out.json) return ctx.out.data({ hostId, ...result });
      const t = result.transition;
      ctx.out.line(t ? `host ${hostId}: ${t.from} → ${t.to} (${t.by}: ${t.why})` : `host ${hostId}: already ${result.record.state}`);
    });
}

export function hostCommand(): Command {
  const host = new Command('host').description('lab hosts: the fleet registry, health, and probing what a host can do');
  host
    .command('list')
    .description('every host of the fleet registry: health, proven capabilities, VM slots, goldens')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const hosts = await withRegistry(ctx, (registry) => registry.list());
      const now = new Date().toISOString();
      // Due: `unknown`, or `good` past the `health` cadence (every N hours / N jobs).
      const due = (h: HostEntry) => healthCheckDue(h.health, now, ctx.loaded().config.health);
      if (ctx.out.json) return ctx.out.data({ hosts: hosts.map((h) => ({ ...h, healthCheckDue: due(h) })) });
      if (hosts.length === 0) return ctx.out.line('no hosts registered yet (`zfslab host probe` registers this one)');
      ctx.out.line(
        table(
          hosts.map((h) => [...hostRow(ctx.out, h), due(h) ? 'due' : '-']),
          ['host', 'health', 'capabilities', 'slots', 'goldens', 'probed', 'check'],
        ),
      );
    });
  host
    .command('show')
    .description('one host: facts from its last probe, its health with who/why/when, and its health history')
    .argument('<host>', 'host id')
    .action(async (rawHost: string, _opts, command: Command) => {
      const ctx = contextFrom(command);
      const hostId = parseHostId(rawHost, 'show');
      const { entry, transitions, known } = await withRegistry(ctx, async (registry) => ({
        entry: await registry.get(hostId),
        transitions: await registry.transitions(hostId),
        known: (await registry.list()).map((h) => h.hostId),
      }));
      if (!entry) throw new UsageError(`host show: no host ${hostId} in the registry (known: ${known.join(', ') || 'none'})`);
      if (ctx.out.json) return ctx.out.data({ host: entry, transitions });
      printHostEntry(ctx.out, entry, transitions);
    });
  host
    .command('health-check')
    .description(
      'probe a host, boot a clone of one of its goldens and run a ZFS smoke test there (native smoke test without a golden): pass → good, fail → bad',
    )
    .option('--host <id>', 'host id (default: this machine)')
    .option('--flavor <id>', "the golden to boot (default: the first of the host's goldens in the registry)")
    .option('--native', 'the native smoke test instead of a clone')
    .option('--timeout <seconds>', 'give up waiting after this many seconds', '3600')
    .action(async (rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const parsed = HealthCheckFlags.safeParse(rawFlags);
      if (!parsed.success) throw new UsageError(`host health-check: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const flags = parsed.data;
      const loaded = ctx.loaded();
      const hostId = flags.host ?? resolveHostId(loaded);
      const catalog = loadCatalog(loaded.config.flavors);
      const entry = await withRegistry(ctx, (registry) => registry.get(hostId));
      const flavorId = flags.native ? undefined : (flags.flavor ?? entry?.facts?.goldens.find((g) => catalog.has(g)));
      if (flavorId !== undefined && !catalog.has(flavorId)) throw new UsageError(`host health-check: --flavor ${flavorId}: not in the catalog`);
      const client = await connectOrExplain(loaded.config);
      try {
        await requireHostWorker(client, loaded.config.temporal.namespace, hostId);
        const workflowId = `host-health-check-${hostId}-${Date.now()}`;
        const handle = await client.workflow.start('hostHealthCheck', {
          taskQueue: loaded.config.temporal.taskQueue,
          workflowId,
          args: [{ hostId, ...(flavorId ? { flavor: catalog.get(flavorId) } : {}), hostWaitSeconds: loaded.config.run.hostWaitSeconds }],
          workflowExecutionTimeout: `${flags.timeout}s`,
        });
        const settled = await waitForWorkflow<HostHealthCheckResult>(client, handle, {
          ...commandWaitSpec(loaded.config, ctx.out, `health check of host ${hostId}`, hostId),
          timeoutSeconds: flags.timeout + 30,
        });
        if ('error' in settled) throw new InfraError(`health check ${workflowId} failed: ${rootCauseMessage(settled.error)}`);
        const result = settled.value;
        if (ctx.out.json) return ctx.out.data({ ...result, workflowId, temporalUi: temporalUiUrl(loaded.config, workflowId) });
        for (const part of result.parts)
          ctx.out.line(`${part.passed ? paint(ctx.out, 'green', 'pass') : paint(ctx.out, 'red', 'FAIL')}  ${part.name}: ${part.detail}`);
        const t = result.transition;
        ctx.out.line(t ? `host ${hostId}: ${t.from} → ${t.to}` : `host ${hostId}: stays ${result.record.state}`);
        ctx.out.line(`workflow     ${temporalUiUrl(loaded.config, workflowId)}`);
        // A host that fails its check is an infrastructure problem, not a test failure.
        if (!result.passed) throw new ExitError(EXIT.infra);
      } finally {
        await closeClient(client);
      }
    });
  host
    .command('health-cadence')
    .description(
      'health checks on a cadence: a Temporal Schedule fires a sweep that checks every probed host whose check is due (unknown, or good past health.everyHours / health.everyJobs)',
    )
    .option('--every <duration>', 'how often the sweep runs: 15m, 1h, 1d', '15m')
    .option('--off', 'delete the schedule')
    .action(async (rawFlags: { every: string; off?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const loaded = ctx.loaded();
      const everyMs = parseDuration(rawFlags.every);
      if (everyMs === undefined || everyMs < 60_000)
        throw new UsageError(`host health-cadence: --every ${rawFlags.every}: a duration of at least 1m (15m, 1h, 1d)`);
      const client = await connectOrExplain(loaded.config);
      try {
        const handle = client.schedule.getHandle(HEALTH_SWEEP_SCHEDULE);
        const exists = await handle.describe().then(
          () => true,
          (err: unknown) => {
            if (err instanceof ScheduleNotFoundError) return false;
            throw err;
          },
        );
        if (rawFlags.off) {
          if (exists) await handle.delete();
          ctx.out.line(exists ? `schedule ${HEALTH_SWEEP_SCHEDULE} deleted` : `no schedule ${HEALTH_SWEEP_SCHEDULE}`);
          return;
        }
        if (exists) await handle.delete();
        const input = {
          cadence: loaded.config.health,
          flavors: [...loadCatalog(loaded.config.flavors).flavors],
          hostWaitSeconds: loaded.config.run.hostWaitSeconds,
        } satisfies HealthSweepInput;
        await client.schedule.create({
          scheduleId: HEALTH_SWEEP_SCHEDULE,
          spec: { intervals: [{ every: everyMs }] },
          action: {
            type: 'startWorkflow',
            workflowType: 'hostHealthSweep',
            workflowId: `${HEALTH_SWEEP_SCHEDULE}-run`,
            taskQueue: loaded.config.temporal.taskQueue,
            args: [input],
          },
          // A sweep still waiting on a slow host is not doubled.
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          memo: { zfslabTiming: `every ${rawFlags.every}` },
        });
        if (ctx.out.json)
          return ctx.out.data({ scheduleId: HEALTH_SWEEP_SCHEDULE, everySeconds: everyMs / 1000, cadence: loaded.config.health, replaced: exists });
        const cadence = [
          loaded.config.health.everyHours !== undefined ? `every ${loaded.config.health.everyHours} h` : undefined,
          loaded.config.health.everyJobs !== undefined ? `every ${loaded.config.health.everyJobs} jobs` : undefined,
        ].filter(Boolean);
        ctx.out.line(
          `schedule ${HEALTH_SWEEP_SCHEDULE} ${exists ? 'replaced' : 'created'}: a sweep every ${rawFlags.every} checks unknown hosts` +
            (cadence.length ? ` and good hosts due (${cadence.join(', ')})` : ' (set health.everyHours / health.everyJobs to recheck good hosts too)'),
        );
      } finally {
        await closeClient(client);
      }
    });
  host
    .command('power')
    .description("switch a bare-metal host's power through its BMC, PDU or QMP (config `power.<host>`): each change read back until the box reports it")
    .argument('<host>', 'host id')
    .argument('<action>', 'status, on, off or cycle')
    .option('--settle <seconds>', 'how long a change may take to show in the read-back', '60')
    .action(async (rawHost: string, rawAction: string, rawFlags: { settle: string }, command: Command) => {
      const ctx = contextFrom(command);
      const hostId = parseHostId(rawHost, 'power');
      const action = PowerActionSchema.safeParse(rawAction);
      if (!action.success) throw new UsageError(`host power: <action> ${JSON.stringify(rawAction)}: one of status, on, off, cycle`);
      const loaded = ctx.loaded();
      const raw = loaded.config.power[hostId];
      if (raw === undefined) {
        const known = Object.keys(loaded.config.power);
        throw new UsageError(`host power: no power.${hostId} in the config (configured: ${known.join(', ') || 'none'})`);
      }
      const parsed = PowerConfigSchema.safeParse(raw);
      if (!parsed.success)
        throw new UsageError(`power.${hostId}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'driver'}: ${i.message}`).join('; ')}`);
      const settle = Number(rawFlags.settle);
      if (!Number.isFinite(settle) || settle <= 0 || settle > 3600) throw new UsageError(`host power: --settle ${rawFlags.settle}: seconds, 1 to 3600`);
      const power = new Power(powerDriverFor(parsed.data), { log: ctx.log(), settleMs: settle * 1000 });
      try {
        if (action.data !== 'status') await power[action.data]();
        const state = await power.status();
        if (ctx.out.json) return ctx.out.data({ hostId, action: action.data, state, driver: power.driver.name });
        ctx.out.line(`host ${hostId} power: ${state} (${action.data === 'status' ? 'read' : `${action.data}, read back`} via ${power.driver.name})`);
      } catch (err) {
        if (!(err instanceof PowerError)) throw err;
        // A BMC that does not answer is the host's infrastructure failing: it is checked before more work.
        const marked = await withRegistry(ctx, async (registry) => {
          if (!(await registry.get(hostId))) return false;
          await registry.applyHealth(hostId, healthEventFor(err, new Date().toISOString()));
          return true;
        });
        throw new InfraError(`${err.message}${marked ? `; host ${hostId} is now unknown in the registry` : ''}`);
      }
    });
  host.addCommand(healthCommand('maintenance', 'take a host out of placement for maintenance (no new work until `host recheck`)'));
  host.addCommand(healthCommand('retire', 'retire a host for good (it never gets work again)'));
  host.addCommand(healthCommand('recheck', 'mark a host `unknown`, so it is health-checked before new work (ends maintenance, retries a `bad` host)'));
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
        ctx.out.line(`registered   ${result.host.hostId}: ${result.host.health.state}; capabilities ${result.host.capabilities.join(', ') || 'none proven'}`);
        ctx.out.line(`report       ${result.uri}`);
        ctx.out.line(`workflow     ${temporalUiUrl(loaded.config, workflowId)}`);
      } finally {
        await closeClient(client);
      }
    });
  return host;
}

function hostRow(out: Output, h: HostEntry): string[] {
  const colour = h.health.state === 'good' ? 'green' : h.health.state === 'bad' ? 'red' : h.health.state === 'retired' ? 'dim' : 'yellow';
  return [
    h.hostId,
    paint(out, colour, h.health.state),
    h.capabilities.join(',') || '-',
    String(h.facts?.vmSlots ?? 0),
    h.facts?.goldens.join(',') || '-',
    h.probedAt ?? 'never',
  ];
}

export function printHostEntry(out: Output, h: HostEntry, transitions: readonly HealthTransition[]): void {
  const f = h.facts;
  out.line(
    table([
      ['host', h.hostId],
      ['health', `${h.health.state} since ${h.health.last.at} (${h.health.last.by}: ${h.health.last.why})`],
      ['last check', h.health.lastCheck ? `${h.health.lastCheck.at}, ${h.health.lastCheck.passed ? 'passed' : 'failed'}` : 'never'],
      ['capabilities', h.capabilities.join(', ') || 'none proven'],
      ['accelerator', f?.accelerator ?? 'unknown (never probed)'],
      ['machine', f ? `${f.hostname}: ${f.cpus} CPUs, ${formatBytes(f.memoryBytes)} RAM, ${f.os}, kernel ${f.kernel}` : 'unknown (never probed)'],
      ['VM slots', String(f?.vmSlots ?? 0)],
      ['goldens', f?.goldens.join(', ') || 'none'],
      ['tags', f?.tags.join(', ') || 'none'],
      ['probed', h.probedAt ?? 'never'],
      ['last seen', h.lastSeenAt],
    ]),
  );
  if (transitions.length === 0) return;
  out.line();
  out.line(
    table(
      transitions.map((t) => [t.at, `${t.from} → ${t.to}`, t.by, t.why]),
      ['when', 'change', 'who', 'why'],
    ),
  );
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
      ['KVM', s.kvm.usable ? `usable (a guest kernel booted in ${s.kvm.guestBoot?.seconds ?? '?'} s)` : `not usable (${s.kvm.reason ?? 'unknown'})`],
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
