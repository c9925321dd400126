import { NativeConnection, Worker } from '@temporalio/worker';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHostActivities } from '../../activities/host/index.js';
import { hostTaskQueue } from '../../core/queues.js';
import { resolveHostId } from '../../lib/host-id.js';
import { createCoordinatorMetrics } from '../../lib/metrics.js';
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
    const metrics = createCoordinatorMetrics({ processMetrics: true });
    const artifacts = ArtifactStore.fromConfig(config, { log, onRetry: () => metrics.artifactUploadRetries.inc() });
    const metricsServer = serveMetrics(metrics.registry, config.metrics.hostPort, log);
    const zts = { toolsDir: paths.toolsDir, workRoot: join(paths.stateDir, 'zts-runs'), artifacts };
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      activities: createHostActivities({ hostId, imageDir: paths.imageDir, zts }),
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
      metricsServer?.close();
      artifacts.destroy();
      await connection.close();
      log.info({ hostId }, 'host worker stopped');
    }
  },
);
