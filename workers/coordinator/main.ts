import { NativeConnection, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCoordinatorActivities } from '../../activities/coordinator/index.js';
import { HostRegistry } from '../../lib/store/host-registry.js';
import { openStore } from '../../lib/store/open.js';
import { createTestRunActivities } from '../../activities/test-runs/index.js';
import { storeUrlOf } from '../../lib/config.js';
import { distDir } from '../../lib/paths.js';
import { createCoordinatorMetrics, recordArtifactUpload } from '../../lib/metrics.js';
import { serveMetrics } from '../../lib/metrics-server.js';
import { ArtifactStore } from '../../lib/s3.js';
import { bootWorkerProcess, runMain } from '../runtime.js';

/** The coordinator: every workflow, plus the activities that need no particular lab host. */
const { loaded, log } = bootWorkerProcess('coordinator');

runMain(
  () => log,
  async () => {
    const { config } = loaded;
    const metrics = createCoordinatorMetrics({ processMetrics: true });
    const artifacts = ArtifactStore.fromConfig(config, { log, onUpload: (upload) => recordArtifactUpload(metrics, upload) });
    const store = await openStore(storeUrlOf(loaded), { logger: log });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const bundlePath = join(distDir, 'workflows.bundle.js');
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      // A prebuilt bundle (npm run build) starts in a second; bundling at start takes ~15 s on 2 cores.
      ...(existsSync(bundlePath)
        ? { workflowBundle: { codePath: bundlePath } }
        : { workflowsPath: fileURLToPath(new URL('../../workflows/index.js', import.meta.url)) }),
      activities: {
        ...createCoordinatorActivities({ artifacts, registry: new HostRegistry(store.db) }),
        ...createTestRunActivities({ store, artifacts, metrics, expireAfterRuns: config.baseline.expireAfterRuns }),
      },
      maxConcurrentActivityTaskExecutions: 8,
    });
    const metricsServer = serveMetrics(metrics.registry, config.metrics.coordinatorPort, log, config.metrics.bindAddress);
    log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, pid: process.pid }, 'coordinator worker polling');
    try {
      await worker.run();
    } finally {
      metricsServer?.close();
      artifacts.destroy();
      await store.close();
      await connection.close();
      log.info('coordinator worker stopped');
    }
  },
);
