/**
 * A by-hand proof that a golden build survives a killed host worker (issue 3, item 4):
 *
 *   node dist/bench/golden/kill-resume.js worker <temporal-address> <queue-host-id>   # run a host worker (kill -9 it mid-DKMS)
 *   node dist/bench/golden/kill-resume.js start  <temporal-address> <queue-host-id> <flavor>
 *
 * `start` runs the goldenBuild workflow and prints its progress query every 15 s, so the output
 * shows the zfs step going from running (worker A) to running again (worker B, after the
 * heartbeat timeout) while the steps before it stay done.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createGoldenActivities } from '../../activities/golden/index.js';
import { loadCatalog } from '../../core/catalog/index.js';
import { hostTaskQueue } from '../../core/queues.js';
import { goldenBuild, goldenProgressQuery } from '../../workflows/golden.js';

const [mode, address = '127.0.0.1:7233', hostId = 'demo', flavorId = 'debian13'] = process.argv.slice(2);

if (mode === 'worker') {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: hostTaskQueue(hostId),
    workflowsPath: fileURLToPath(new URL('../../workflows/golden.js', import.meta.url)),
    activities: createGoldenActivities(),
  });
  console.log(`worker ${process.pid} polling ${hostTaskQueue(hostId)}`);
  await worker.run();
} else if (mode === 'start') {
  const client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  const handle = await client.workflow.start(goldenBuild, {
    taskQueue: hostTaskQueue(hostId),
    workflowId: `golden-${flavorId}-${Date.now()}`,
    args: [{ hostId, flavor: loadCatalog().get(flavorId), lineage: 'ztest' }],
  });
  const timer = setInterval(() => {
    handle
      .query(goldenProgressQuery)
      .then((p) =>
        console.log(new Date().toISOString(), p.steps.map((s) => `${s.step}:${s.status}${s.seconds !== undefined ? `(${s.seconds}s)` : ''}`).join(' ')),
      )
      .catch((err: unknown) => console.log('query failed', (err as Error).message));
  }, 15_000);
  const result = await handle.result();
  clearInterval(timer);
  console.log(JSON.stringify({ ...result, manifest: { ...result.manifest, packages: Object.keys(result.manifest.packages).length } }, null, 2));
} else {
  console.error('usage: kill-resume.js worker|start <address> <hostId> [flavor]');
  process.exit(2);
}
