import { Command } from 'commander';
import { artifactKeys } from '../../../core/artifact-keys.js';
import { HostProbeReportSchema, type HostProbeReport } from '../../../core/host/probe-report.js';
import type { HostEntry } from '../../../core/host/registry.js';
import { redactStoreUrl, storeUrlOf, type LoadedConfig } from '../../../lib/config.js';
import { rootCauseMessage } from '../../../lib/errors.js';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import { hostIdFromQueue, hostTaskQueue } from '../../../core/queues.js';
import { stackDown, stackHealth, stackUp, stackUrls, type ServiceHealth } from '../../../infra/stack.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { ArtifactStore } from '../../../lib/s3.js';
import { describePollers, type QueuePollers } from '../../../lib/task-queues.js';
import { closeClient, connectClient } from '../../../lib/temporal.js';
import { contextFrom } from '../context.js';
import { goldenRow, listGoldens, type GoldenListing } from './golden.js';
import { EXIT, ExitError } from '../exit.js';
import { formatBytes, paint, table } from '../output.js';

export function upCommand(): Command {
  return new Command('up')
    .description('start the embedded stack in the background: Temporal dev server, MinIO, coordinator and host worker')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const loaded = ctx.loaded();
      const result = await stackUp(loaded, ctx.log(), { configFile: ctx.configFile ? loaded.file : undefined });
      if (ctx.out.json) return ctx.out.data(result);
      for (const name of result.started) ctx.out.line(`${paint(ctx.out, 'green', 'started')}  ${name}`);
      for (const name of result.alreadyRunning) ctx.out.line(`${paint(ctx.out, 'dim', 'running')}  ${name}`);
      ctx.out.line();
      ctx.out.line(`Temporal UI     ${result.urls.temporalUi}`);
      ctx.out.line(`Temporal gRPC   ${result.urls.temporalAddress}`);
      ctx.out.line(`MinIO console   ${result.urls.minioConsole}  (S3 API ${result.urls.s3Endpoint})`);
      ctx.out.line(`logs            ${result.logDir}`);
    });
}

export function downCommand(): Command {
  return new Command('down')
    .description('stop exactly the processes `zfslab up` started (workers first, gracefully)')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const result = await stackDown(ctx.loaded());
      if (ctx.out.json) return ctx.out.data(result);
      for (const name of result.stopped) ctx.out.line(`stopped  ${name}`);
      if (result.stopped.length === 0) ctx.out.line('nothing was running');
    });
}

export interface StatusReport {
  services: ServiceHealth[];
  urls: ReturnType<typeof stackUrls>;
  queues: QueuePollers[];
  /** What this CLI talks to: the fleet's Temporal, results store and S3 (a laptop's CLI names the lab's). */
  talkingTo: { temporal: string; namespace: string; store: string; s3: string };
  /** Registry entries (the store's `hosts` table) with the probe report behind each, from S3. */
  hosts: { hostId: string; entry?: HostEntry; probe?: HostProbeReport; probeUri?: string; capabilities: string[] }[];
  /** Why the registry could not be read, when it could not. */
  registryError?: string;
  goldens: GoldenListing[];
}

export function statusCommand(): Command {
  return new Command('status')
    .description('stack health, which workers poll which queues, and the last probe report of each host')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const loaded = ctx.loaded();
      const { config } = loaded;
      const services = await stackHealth(loaded);
      const temporalUp = services.find((s) => s.name === 'temporal')?.healthy ?? false;
      const minioUp = services.find((s) => s.name === 'minio')?.healthy ?? false;
      const hostIds = new Set<string>([resolveHostId(loaded)]);
      const report: StatusReport = {
        services,
        urls: stackUrls(loaded),
        talkingTo: talkingTo(loaded),
        queues: [],
        hosts: [],
        goldens: await listGoldens(loaded),
      };
      // The registry is the one list of hosts; S3 keeps each probe report behind an entry.
      const entries = new Map<string, HostEntry>();
      try {
        const store = await openStore(storeUrlOf(loaded), { logger: ctx.log() });
        try {
          for (const entry of await new HostRegistry(store.db).list()) entries.set(entry.hostId, entry);
        } finally {
          await store.close();
        }
      } catch (err) {
        report.registryError = rootCauseMessage(err);
      }
      for (const id of entries.keys()) hostIds.add(id);
      let artifacts: ArtifactStore | undefined;
      if (minioUp || !config.s3.embedded) artifacts = ArtifactStore.fromConfig(config, { retryForMs: 0 });
      if (temporalUp) {
        const client = await connectClient(config);
        try {
          report.queues.push(await describePollers(client, config.temporal.namespace, config.temporal.taskQueue));
          for (const id of hostIds) report.queues.push(await describePollers(client, config.temporal.namespace, hostTaskQueue(id)));
        } finally {
          await closeClient(client);
        }
      }
      for (const hostId of hostIds) {
        const text = await artifacts?.getText(artifactKeys.probeLatest(hostId)).catch(() => undefined);
        const parsed = text ? HostProbeReportSchema.safeParse(JSON.parse(text)) : undefined;
        const entry = entries.get(hostId);
        report.hosts.push({
          hostId,
          ...(entry ? { entry } : {}),
          ...(parsed?.success ? { probe: parsed.data, probeUri: artifacts?.uri(artifactKeys.probeLatest(hostId)) } : {}),
          capabilities: entry?.capabilities ?? [],
        });
      }
      artifacts?.destroy();
      if (ctx.out.json) return ctx.out.data(report);
      printStatus(ctx.out, report);
      if (services.some((s) => s.managed && !s.healthy)) throw new ExitError(EXIT.infra);
    });
}

/** Where this CLI's Temporal, results store and S3 are, as configured (a postgres password is not printed). */
export function talkingTo(loaded: LoadedConfig): StatusReport['talkingTo'] {
  const { config } = loaded;
  return {
    temporal: config.temporal.address,
    namespace: config.temporal.namespace,
    store: redactStoreUrl(storeUrlOf(loaded)),
    s3: `${config.s3.endpoint}/${config.s3.bucket}`,
  };
}

function printStatus(out: ReturnType<typeof contextFrom>['out'], report: StatusReport): void {
  out.line(paint(out, 'bold', 'talking to'));
  out.line(
    table([
      ['Temporal', `${report.talkingTo.temporal} (namespace ${report.talkingTo.namespace})`],
      ['results store', report.talkingTo.store],
      ['artifacts', report.talkingTo.s3],
    ]),
  );
  out.line();
  out.line(paint(out, 'bold', 'services'));
  out.line(
    table(
      report.services.map((s) => [
        s.name,
        !s.managed ? paint(out, 'dim', 'external') : s.healthy ? paint(out, 'green', 'healthy') : paint(out, 'red', 'down'),
        s.detail,
      ]),
    ),
  );
  out.line();
  out.line(paint(out, 'bold', 'task queues'));
  if (report.queues.length === 0) out.line('  (Temporal is not reachable)');
  out.line(
    table(
      report.queues.map((q) => {
        const hostId = hostIdFromQueue(q.queue);
        const pollers = [...new Set([...q.workflowPollers, ...q.activityPollers].map((p) => p.identity))];
        const kinds = [q.workflowPollers.length ? 'workflows' : '', q.activityPollers.length ? 'activities' : ''].filter(Boolean).join('+');
        return [q.queue, hostId ? `host ${hostId}` : 'coordinator', pollers.length ? `${kinds}: ${pollers.join(', ')}` : paint(out, 'yellow', 'no pollers')];
      }),
    ),
  );
  out.line();
  out.line(paint(out, 'bold', 'fleet'));
  if (report.registryError) out.line(`  ${paint(out, 'red', 'host registry unreadable')}: ${report.registryError}`);
  for (const host of report.hosts) {
    const health = host.entry ? `${host.entry.health.state} (${host.entry.health.last.by}: ${host.entry.health.last.why})` : 'not registered';
    if (!host.probe) {
      out.line(`  ${host.hostId}: ${health}; no probe report yet (run \`zfslab host probe --host ${host.hostId}\`)`);
      continue;
    }
    const s = host.probe.sections;
    out.line(
      `  ${host.hostId}: ${health}; probed ${host.probe.probedAt}; ${s.system.cpus} CPUs, ${formatBytes(s.system.memoryBytes)} RAM, ` +
        `${formatBytes(s.disk.freeBytes)} free, ${host.entry?.facts?.vmSlots ?? 0} VM slots; kernel ${s.system.kernel}; ` +
        `capabilities: ${host.capabilities.join(', ') || 'none proven'}`,
    );
  }
  out.line();
  out.line(paint(out, 'bold', 'goldens'));
  if (report.goldens.length === 0) out.line('  none yet (`zfslab golden-ztest debian13`)');
  else out.line(table(report.goldens.map(goldenRow), ['host', 'flavor', 'lineage', 'kernel', 'OpenZFS', 'built', 'name']));
  out.line();
  out.line(`Temporal UI  ${report.urls.temporalUi}`);
}
