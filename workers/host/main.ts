import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGoldenCacheDir } from '../../activities/golden/paths.js';
import { createHostActivities } from '../../activities/host/index.js';
import { HostCapacity } from '../../activities/vm/capacity.js';
import { runLivenessOf } from '../../activities/vm/run-liveness.js';
import { openStorage } from '../../activities/vm/select-storage.js';
import { startOrphanSweeps } from '../../activities/vm/sweep-schedule.js';
import { VmTargetProvider } from '../../activities/vm/vm-target-provider.js';
import { loadCatalog } from '../../core/catalog/index.js';
import { hostTaskQueue } from '../../core/queues.js';
import { resolveHostId } from '../../lib/host-id.js';
import { createHostMetrics, recordArtifactUpload } from '../../lib/metrics.js';
import { serveMetrics } from '../../lib/metrics-server.js';
import { ArtifactStore } from '../../lib/s3.js';
import { bootWorkerProcess, runMain } from '../runtime.js';

/** A lab host's worker: activities only, on the host's own queue `zfslab-host-<hostId>`. */
const { loaded, log } = bootWorkerProcess('host-worker');

runMain(
  () => log,
  async () => {
    const { config, paths } = loaded;
    const hostId = resolveHostId(loaded);
    mkdirSync(paths.imageDir, { recursive: true });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const taskQueue = hostTaskQueue(hostId);
    // Artifacts go up from the hosts, so upload retries are counted here too (same metric names).
    const metrics = createHostMetrics({ processMetrics: true });
    const artifacts = ArtifactStore.fromConfig(config, { log, onUpload: (upload) => recordArtifactUpload(metrics, upload) });
    const metricsServer = serveMetrics(metrics.registry, config.metrics.hostPort, log, config.metrics.bindAddress);
    const catalog = loadCatalog(config.flavors);
    // ZTS on a flavor target runs in a fresh clone of the flavor's ztest golden per chunk attempt.
    // One VM budget for the host: ZTS chunks and recipe/golden VM activities draw from the same RAM and CPUs.
    const capacity = new HostCapacity({ maxVms: config.host.maxVms });
    const bootTimeoutMs = config.host.bootTimeoutSeconds === undefined ? undefined : config.host.bootTimeoutSeconds * 1000;
    // host.storage: qcow2 overlays or zvol clones; a missing ZFS dataset stops the worker here, by name.
    const storage = await openStorage(config.host);
    const vmProvider = new VmTargetProvider({
      catalog,
      maxVms: config.host.maxVms,
      capacity,
      bootTimeoutMs,
      storage,
      instantClones: config.host.instantClones,
    });
    const zts = {
      toolsDir: paths.toolsDir,
      workRoot: join(paths.stateDir, 'zts-runs'),
      artifacts,
      catalog,
      vmProvider,
      goldens: vmProvider,
      probeMetrics: metrics.probes,
    };
    const client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
    const activities = createHostActivities({
      hostId,
      imageDir: paths.imageDir,
      registry: { vmSlots: config.host.maxVms, tags: config.host.tags, goldenCacheDir: defaultGoldenCacheDir() },
      zts,
      golden: { aptCheckValidUntil: config.host.aptCheckValidUntil },
      vm: {
        maxVms: config.host.maxVms,
        capacity,
        bootTimeoutMs,
        storage,
        instantClones: config.host.instantClones,
        isRunOpen: runLivenessOf(client, log),
        artifacts,
        probeMetrics: { metrics: metrics.probes, hostId },
      },
    });
    // Clones and VMs left by a crashed worker or a rebooted host: destroyed before taking new work, then on a schedule.
    const sweeps = await startOrphanSweeps(() => activities.sweepOrphanClones(), config.host.sweepIntervalSeconds, log);
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      activities,
      maxConcurrentActivityTaskExecutions: config.host.maxConcurrentActivities,
      // Time given to running activities on SIGTERM before they are cancelled.
      shutdownGraceTime: '30s',
      // A ZTS chunk heartbeats every finished test: let each reach the server within a second, so
      // progress is live and a crash loses at most the test in flight.
      maxHeartbeatThrottleInterval: '1s',
    });
    log.info({ hostId, taskQueue, pid: process.pid }, 'host worker polling');
    try {
      await worker.run();
    } finally {
      sweeps.stop();
      metricsServer?.close();
      await client.connection.close();
      artifacts.destroy();
      await connection.close();
      log.info({ hostId }, 'host worker stopped');
    }
  },
);
