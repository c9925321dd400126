import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMinioServer, stopMinioServer } from '../../infra/minio-server.js';
import { startTemporalServer, stopTemporalServer } from '../../infra/temporal-server.js';
import { ensureTools, toolPath } from '../../infra/tools.js';
import { createLogger } from '../../lib/log.js';
import { distDir, projectRoot } from '../../lib/paths.js';
import { freePort } from '../support/ports.js';

/**
 * One real Temporal dev server and one real MinIO for the whole integration run, on free ports in
 * a temp dir, always torn down. Nothing here is a fake: the pinned binaries are the ones `zfslab up`
 * runs (built by `go install` into the clone's .tools on first use).
 */
export interface TestStack {
  temporalAddress: string;
  namespace: string;
  s3Endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  toolsDir: string;
  root: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(join(distDir, 'workers', 'host', 'main.js'))) {
    throw new Error('integration tests run the compiled workers: run `npm run build` first (npm test does)');
  }
  const log = createLogger('test-stack', 'warn');
  const toolsDir = process.env.ZFSLAB_TOOLS_DIR ?? join(projectRoot, '.tools');
  await ensureTools(toolsDir, log);
  const root = mkdtempSync(join(tmpdir(), 'zfslab-test-stack-'));
  const dirs = { runDir: join(root, 'run'), logDir: join(root, 'logs') };
  const stack: TestStack = {
    temporalAddress: '',
    namespace: 'zfslab',
    s3Endpoint: '',
    accessKeyId: 'zfslab-test',
    secretAccessKey: 'zfslab-test-secret',
    bucket: 'zfslab-test-artifacts',
    toolsDir,
    root,
  };
  const teardown = async () => {
    await stopTemporalServer(dirs).catch(() => undefined);
    await stopMinioServer(dirs).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const temporalPort = await freePort();
    await startTemporalServer(dirs, {
      binary: toolPath(toolsDir, 'temporal'),
      dataDir: join(root, 'temporal'),
      ip: '127.0.0.1',
      port: temporalPort,
      uiPort: 0,
      namespace: stack.namespace,
      headless: true,
    });
    stack.temporalAddress = `127.0.0.1:${temporalPort}`;
    const s3Port = await freePort();
    await startMinioServer(dirs, {
      binary: toolPath(toolsDir, 'minio'),
      dataDir: join(root, 'minio'),
      ip: '127.0.0.1',
      port: s3Port,
      consolePort: await freePort(),
      accessKeyId: stack.accessKeyId,
      secretAccessKey: stack.secretAccessKey,
      bucket: stack.bucket,
    });
    stack.s3Endpoint = `http://127.0.0.1:${s3Port}`;
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide('stack', stack);
  return teardown;
}
